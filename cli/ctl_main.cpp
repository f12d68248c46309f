// wslgo-guardctl: the one command-line front door to wslgo-guard (org.wslgo.Guard1 on the user
// bus), in the manner of systemctl and resolvectl. The only place that reads the clock, the
// environment, the terminal and the current directory; the commands get them as arguments.
#include <sys/ioctl.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <string>
#include <string_view>
#include <system_error>

#include <CLI/CLI.hpp>

#include "cli/ctl_command.h"
#include "cli/ctl_complete.h"
#include "cli/ctl_doctor.h"
#include "cli/ctl_editor_config.h"
#include "cli/ctl_guard.h"
#include "cli/ctl_offline_commands.h"
#include "cli/ctl_status.h"
#include "cli/ctl_watch.h"
#include "cli/ctl_workspace_commands.h"

extern char** environ;

namespace {

using wslgo::ctl::ExitCode;

std::map<std::string, std::string> environmentMap() {
  std::map<std::string, std::string> out;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string_view text(*entry);
    const size_t equals = text.find('=');
    if (equals == std::string_view::npos) continue;
    out.emplace(std::string(text.substr(0, equals)), std::string(text.substr(equals + 1)));
  }
  return out;
}

// NO_COLOR (https://no-color.org): set and non-empty turns colour off.
bool colourWanted(const wslgo::ctl::Host& host) {
  return ::isatty(STDOUT_FILENO) == 1 && host.variable("NO_COLOR").empty();
}

int terminalWidth(const wslgo::ctl::Host& host) {
  winsize size{};
  if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) return size.ws_col;
  const int parsed = std::atoi(host.variable("COLUMNS").c_str());
  return parsed > 0 ? parsed : 80;
}

uint64_t nowUsec() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

std::string currentDirectory() {
  std::error_code error;
  std::string cwd = std::filesystem::current_path(error).string();
  return error ? std::string("/") : cwd;
}

}  // namespace

int main(int argc, char** argv) {
  wslgo::ctl::Run run{.output = {.out = std::cout, .err = std::cerr, .colour = false},
                      .host = {.environment = environmentMap(), .realtimeUsec = nowUsec}};
  wslgo::ctl::Guard guard;
  const wslgo::StatusView view{
      .nowUsec = nowUsec(), .colour = false, .width = terminalWidth(run.host)};
  const std::string cwd = currentDirectory();

  CLI::App app{
      "wslgo-guardctl: control wslgo-guard, which runs one supervised gopls per Go workspace and "
      "steps in before memory runs out. Without a command, shows the status.\n"
      "Exit codes: 0 ok, 1 failure, 2 usage, 3 the guard is not reachable, 4 no such "
      "workspace.",
      "wslgo-guardctl"};
  app.set_version_flag("--version", std::string("wslgo-guardctl ") + WSLGO_VERSION);
  app.require_subcommand(0, 1);
  // One line, like every other failure.
  app.failure_message([](const CLI::App*, const CLI::Error& e) {
    return std::string("wslgo-guardctl: ") + e.what() + "; see `wslgo-guardctl --help`\n";
  });
  app.fallthrough();  // --no-color after the command, too
  bool noColour = false;
  app.add_flag("--no-color,--no-colour", noColour,
               "No colours (also off when NO_COLOR is set or stdout is not a terminal)");
  // Before any command's callback runs, once the flags are known.
  app.parse_complete_callback([&] { run.output.colour = colourWanted(run.host) && !noColour; });

  wslgo::ctl::addStatusCommand(app, run, guard, view);
  wslgo::ctl::addWatchCommand(app, run, guard, view);
  wslgo::ctl::addWorkspaceCommands(app, run, guard, cwd);
  auto guardStatus = [&guard]() -> wslgo::Result<std::string> {
    auto status = guard.status();
    if (status) return status;
    // The message is the whole line; code 0 keeps describe() from appending a strerror.
    return wslgo::Error{.code = 0, .path = {}, .message = status.error().message};
  };
  wslgo::ctl::addDoctorCommand(app, run, guardStatus);
  wslgo::ctl::addEditorConfigCommand(app, run, guardStatus);
  wslgo::ctl::addOfflineCommands(app, run);
  wslgo::ctl::addCompletionHelpers(app, run, guard);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : static_cast<int>(ExitCode::Usage);
  }
  if (app.get_subcommands().empty()) wslgo::ctl::showStatus(run, guard, view, /*json=*/false);
  return static_cast<int>(run.exitCode);
}
