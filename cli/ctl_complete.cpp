#include "cli/ctl_complete.h"

#include <ostream>
#include <string>

#include "lib/doctor_status.h"

namespace wslgo::ctl {

void addCompletionHelpers(CLI::App& app, Run& run, Guard& guard) {
  CLI::App* workspaces = app.add_subcommand(
      "__workspaces", "Print the guarded workspaces' roots, one per line (for shell completion)");
  // An empty group hides the command from --help; the completions call it by name.
  workspaces->group("");
  workspaces->callback([&run, &guard] {
    run.exitCode = ExitCode::Ok;
    // A Tab must not hang the shell on a guard that does not answer: no candidates after this.
    guard.limitCallsTo(kCompletionCallTimeout);
    auto json = guard.status();
    if (!json) return;
    for (const std::string& root : workspaceRootsIn(*json)) {
      // A root with a newline would split into two candidates; no shell completes it anyway.
      if (root.find('\n') != std::string::npos) continue;
      run.output.out << root << "\n";
    }
  });
}

}  // namespace wslgo::ctl
