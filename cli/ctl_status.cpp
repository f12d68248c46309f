#include "cli/ctl_status.h"

#include <memory>
#include <ostream>

namespace wslgo::ctl {

void showStatus(Run& run, Guard& guard, StatusView view, bool json) {
  auto status = guard.status();
  if (!status) {
    run.output.err << "wslgo-guardctl: " << status.error().message << "\n";
    run.exitCode = exitCodeFor(status.error());
    return;
  }
  if (json) {
    run.output.out << *status;
    if (status->empty() || status->back() != '\n') run.output.out << "\n";
    return;
  }
  view.colour = run.output.colour;
  auto text = renderStatus(*status, view);
  if (!text) {
    run.output.err << "wslgo-guardctl: " << text.error().describe() << "\n";
    run.exitCode = ExitCode::Failure;
    return;
  }
  run.output.out << *text;
}

void addStatusCommand(CLI::App& app, Run& run, Guard& guard, const StatusView& view) {
  CLI::App* status = app.add_subcommand(
      "status",
      "Show the guard's state (the default command): per workspace its state, memory against "
      "its warning/high/critical lines, Go heap, RSS, restarts and last action; and the system's "
      "MemAvailable, swap and memory pressure");
  auto json = std::make_shared<bool>(false);
  status->add_flag("--json", *json,
                   "Print GetStatus' JSON as the guard answers it (docs/dbus-api.md)");
  status->callback([&run, &guard, view, json] { showStatus(run, guard, view, *json); });
}

}  // namespace wslgo::ctl
