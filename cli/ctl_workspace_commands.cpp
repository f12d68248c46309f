#include "cli/ctl_workspace_commands.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <vector>

#include "lib/policy_format.h"
#include "lib/shell_word.h"

namespace wslgo::ctl {
namespace {

constexpr const char* kPathHelp = "A directory in the workspace (default: the current directory)";

void fail(Run& run, ExitCode code, const std::string& message) {
  run.output.err << "wslgo-guardctl: " << message << "\n";
  run.exitCode = code;
}

void fail(Run& run, const Error& error) { fail(run, exitCodeFor(error), error.message); }

// The workspace that holds `pathArgument` (relative to `cwd`), or nullopt with the failure
// reported.
std::optional<WorkspaceRef> workspaceFor(Run& run, Guard& guard, const std::string& cwd,
                                         const std::string& pathArgument) {
  const std::string path = absolutePath(cwd, pathArgument);
  auto workspace = guard.workspaceHolding(path);
  if (workspace) return *workspace;
  if (workspace.error().code == kNoSuchWorkspace) {
    fail(run, ExitCode::NoSuchWorkspace,
         path +
             " is not inside a guarded workspace: `wslgo-guardctl status` lists them, "
             "`wslgo-guardctl add DIR` guards a Go module");
  } else {
    fail(run, workspace.error());
  }
  return std::nullopt;
}

// A subcommand taking an optional PATH; `path` receives it.
CLI::App* workspaceCommand(CLI::App& app, const char* name, const char* description,
                           std::shared_ptr<std::string> path) {
  CLI::App* command = app.add_subcommand(name, description);
  command->add_option("PATH", *path, kPathHelp);
  return command;
}

void addAdd(CLI::App& app, Run& run, Guard& guard, const std::string& cwd) {
  auto path = std::make_shared<std::string>();
  CLI::App* command = app.add_subcommand(
      "add",
      "Guard a Go module: start a supervised gopls for it (wslgo-gopls@<path>.service). PATH "
      "must hold go.mod or go.work");
  command->add_option("PATH", *path, "The module's directory (default: the current directory)");
  command->callback([&run, &guard, cwd, path] {
    auto added = guard.addWorkspace(absolutePath(cwd, *path));
    if (!added) return fail(run, added.error());
    auto unit = guard.unit(*added);
    run.output.out << "Guarding " << added->path;
    if (unit) run.output.out << " with " << *unit;
    run.output.out << "\n";
  });
}

void addRemove(CLI::App& app, Run& run, Guard& guard, const std::string& cwd) {
  auto path = std::make_shared<std::string>();
  CLI::App* command = workspaceCommand(
      app, "remove", "Stop the workspace's gopls and stop guarding it (the module is untouched)",
      path);
  command->callback([&run, &guard, cwd, path] {
    auto workspace = workspaceFor(run, guard, cwd, *path);
    if (!workspace) return;
    if (auto removed = guard.removeWorkspace(workspace->path); !removed) {
      return fail(run, removed.error());
    }
    run.output.out << "No longer guarding " << workspace->path << "; its gopls is stopped\n";
  });
}

void addGc(CLI::App& app, Run& run, Guard& guard, const std::string& cwd) {
  auto path = std::make_shared<std::string>();
  CLI::App* command =
      workspaceCommand(app, "gc", "Ask the workspace's gopls to collect garbage now", path);
  command->callback([&run, &guard, cwd, path] {
    auto workspace = workspaceFor(run, guard, cwd, *path);
    if (!workspace) return;
    auto gc = guard.collectGarbage(*workspace);
    if (!gc) return fail(run, gc.error());
    run.output.out << "GC of " << workspace->path << ": "
                   << describeBytes(static_cast<double>(gc->before)) << " before, "
                   << describeBytes(static_cast<double>(gc->after)) << " after ("
                   << describeBytes(static_cast<double>(gc->before) -
                                    static_cast<double>(gc->after))
                   << " freed)\n";
  });
}

void addTrim(CLI::App& app, Run& run, Guard& guard, const std::string& cwd) {
  auto path = std::make_shared<std::string>();
  CLI::App* command = workspaceCommand(
      app, "trim",
      "Reclaim the workspace's page cache (memory.reclaim on cgroup v2) and drop the cached "
      "pages of gopls' file cache and the module cache",
      path);
  command->callback([&run, &guard, cwd, path] {
    auto workspace = workspaceFor(run, guard, cwd, *path);
    if (!workspace) return;
    auto freed = guard.trimCache(*workspace);
    if (!freed) return fail(run, freed.error());
    run.output.out << "Trimmed " << workspace->path << ": "
                   << describeBytes(static_cast<double>(*freed)) << " freed\n";
  });
}

void addRestart(CLI::App& app, Run& run, Guard& guard, const std::string& cwd) {
  auto path = std::make_shared<std::string>();
  auto reason = std::make_shared<std::string>("requested with wslgo-guardctl restart");
  CLI::App* command = workspaceCommand(
      app, "restart",
      "Save a heap profile, then restart the workspace's gopls; also lifts a degraded or "
      "over-budget state",
      path);
  command->add_option("--reason", *reason, "Why, for the journal and the ActionTaken signal")
      ->capture_default_str();
  command->callback([&run, &guard, cwd, path, reason] {
    auto workspace = workspaceFor(run, guard, cwd, *path);
    if (!workspace) return;
    if (auto restarted = guard.restart(*workspace, *reason); !restarted) {
      return fail(run, restarted.error());
    }
    run.output.out << "Restarted the gopls of " << workspace->path << "\n";
  });
}

void addProfile(CLI::App& app, Run& run, Guard& guard, const std::string& cwd) {
  auto path = std::make_shared<std::string>();
  CLI::App* command =
      workspaceCommand(app, "profile",
                       "Save a heap profile of the workspace's gopls (gzip pprof, under "
                       "$XDG_STATE_HOME/wslgo-guard/profiles) and print how to open it",
                       path);
  command->callback([&run, &guard, cwd, path] {
    auto workspace = workspaceFor(run, guard, cwd, *path);
    if (!workspace) return;
    auto file = guard.captureHeapProfile(*workspace);
    if (!file) return fail(run, file.error());
    run.output.out << "Heap profile of " << workspace->path << ": " << *file << "\n"
                   << "Open it with: go tool pprof -http=: " << shellWord(*file) << "\n";
  });
}

void addLogs(CLI::App& app, Run& run, Guard& guard, const std::string& cwd) {
  auto path = std::make_shared<std::string>();
  auto follow = std::make_shared<bool>(false);
  auto lines = std::make_shared<int>(0);
  CLI::App* command = workspaceCommand(
      app, "logs", "Show the journal of the workspace's gopls unit (journalctl --user-unit UNIT)",
      path);
  command->add_flag("-f,--follow", *follow, "Follow the journal as it grows");
  command->add_option("-n,--lines", *lines, "Show only the last N lines")
      ->check(CLI::PositiveNumber);
  command->callback([&run, &guard, cwd, path, follow, lines] {
    auto workspace = workspaceFor(run, guard, cwd, *path);
    if (!workspace) return;
    auto unit = guard.unit(*workspace);
    if (!unit) return fail(run, unit.error());
    // --user-unit, not --user -u: the latter reads only the user journal files, which journald
    // keeps only for users above the system range and with persistent storage; root's units
    // (and everyone's with volatile storage) log to the system journal.
    std::vector<std::string> args{"journalctl", "--user-unit", *unit};
    if (*follow) args.emplace_back("-f");
    if (*lines > 0) {
      args.emplace_back("-n");
      args.push_back(std::to_string(*lines));
    }
    std::vector<char*> argv;
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    run.output.out.flush();
    std::cout.flush();
    ::execvp(argv[0], argv.data());
    fail(run, ExitCode::Failure,
         std::string("cannot run journalctl (") + std::strerror(errno) +
             "); it comes with systemd. The workspace's unit is " + *unit);
  });
}

void addReload(CLI::App& app, Run& run, Guard& guard) {
  CLI::App* command = app.add_subcommand(
      "reload",
      "Make the guard re-read its configuration (~/.config/wslgo-guard/config.json); a file it "
      "rejects changes nothing, and the error names the file and the JSON pointer");
  command->callback([&run, &guard] {
    if (auto reloaded = guard.reload(); !reloaded) {
      return fail(run, reloaded.error());
    }
    run.output.out << "The guard re-read its configuration\n";
  });
}

void addDryRun(CLI::App& app, Run& run, Guard& guard) {
  auto mode = std::make_shared<std::string>();
  CLI::App* command = app.add_subcommand(
      "dry-run",
      "Show or set dry run: with it on, every action is decided and reported as \"would …\", "
      "none runs. Survives reload, not a restart of the guard");
  command->add_option("MODE", *mode, "on or off (none: show the current mode)")
      ->check(CLI::IsMember({"on", "off"}));
  command->callback([&run, &guard, mode] {
    if (mode->empty()) {
      auto on = guard.dryRun();
      if (!on) return fail(run, on.error());
      run.output.out << "Dry run is " << (*on ? "on" : "off") << "\n";
      return;
    }
    const bool on = *mode == "on";
    if (auto set = guard.setDryRun(on); !set) return fail(run, set.error());
    run.output.out << (on ? "Dry run is on: actions are decided and reported, none runs\n"
                          : "Dry run is off: the guard acts again\n");
  });
}

void addVersion(CLI::App& app, Run& run, Guard& guard) {
  CLI::App* command =
      app.add_subcommand("version", "Print the versions of wslgo-guardctl and the running guard");
  command->callback([&run, &guard] {
    run.output.out << "wslgo-guardctl " << WSLGO_VERSION << "\n";
    auto version = guard.version();
    if (!version) return fail(run, version.error());
    run.output.out << "wslgo-guard " << *version << "\n";
  });
}

}  // namespace

std::string absolutePath(const std::string& cwd, const std::string& path) {
  std::filesystem::path out =
      path.empty() ? std::filesystem::path(cwd) : std::filesystem::path(cwd) / path;
  std::string text = out.lexically_normal().string();
  while (text.size() > 1 && text.back() == '/') text.pop_back();
  return text;
}

void addWorkspaceCommands(CLI::App& app, Run& run, Guard& guard, const std::string& cwd) {
  addAdd(app, run, guard, cwd);
  addRemove(app, run, guard, cwd);
  addGc(app, run, guard, cwd);
  addTrim(app, run, guard, cwd);
  addRestart(app, run, guard, cwd);
  addProfile(app, run, guard, cwd);
  addLogs(app, run, guard, cwd);
  addReload(app, run, guard);
  addDryRun(app, run, guard);
  addVersion(app, run, guard);
}

}  // namespace wslgo::ctl
