#include "cli/ctl_offline_commands.h"

#include <filesystem>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <system_error>
#include <vector>

#include "cli/inspect_report.h"
#include "cli/simulate_run.h"
#include "lib/config.h"
#include "lib/config_layers.h"
#include "lib/meminfo.h"
#include "lib/sys_roots.h"

namespace wslgo::ctl {
namespace {

ExitCode exitCodeOf(int code) { return code == 0 ? ExitCode::Ok : ExitCode::Failure; }

struct InspectOptions {
  SysRoots roots;
  bool json = false;
};

void addInspectCommand(CLI::App& app, Run& run) {
  auto options = std::make_shared<InspectOptions>();
  CLI::App* command = app.add_subcommand(
      "inspect",
      "What the guard sees on this machine, without asking it: system memory and pressure, the "
      "cgroup layout, and every gopls process with its role and memory (what wslgo-inspect "
      "prints). Read-only; needs no running guard.");
  command->add_flag("--json", options->json, "Print one JSON document instead of text");
  command->add_option("--proc", options->roots.proc, "Where /proc is (for tests)")
      ->capture_default_str();
  command->add_option("--sys", options->roots.sys, "Where /sys is (for tests)")
      ->capture_default_str();
  command->callback([&run, options] {
    run.exitCode = exitCodeOf(writeInspectReport(options->roots, options->json, "wslgo-guardctl",
                                                 run.output.out, run.output.err));
  });
}

void addSimulateCommand(CLI::App& app, Run& run) {
  auto options = std::make_shared<SimulateOptions>();
  CLI::App* command = app.add_subcommand(
      "simulate",
      "Replay a trace of snapshots (JSONL, see docs/policy.md) through the policy engine and "
      "print the decision timeline: time, workspace, level, action, reason (what wslgo-simulate "
      "prints). Needs no running guard.");
  addSimulateOptions(*command, *options);
  command->callback([&run, options] {
    run.exitCode = exitCodeOf(runSimulation(*options, run.host.variable("HOME"), "wslgo-guardctl",
                                            run.output.out, run.output.err));
  });
}

// What `config check` checks, with everything it takes from the environment resolved.
struct ConfigCheck {
  std::string defaultFile;  // the shipped default.json, the lowest layer
  // The file checked as the user layer; nullopt: the user's own, where the guard looks.
  std::optional<std::string> file;
  std::string xdgConfigHome;  // $XDG_CONFIG_HOME, empty when unset
  std::string home;           // $HOME, empty when unset
  uint64_t memTotal = 0;      // what percentages resolve against; 0: unknown
};

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

// The guard's layers with `check.file` as the user layer, the guard's own loader and validator
// over them, and the verdict on `output`: "FILE: ok", or every problem as the guard would log it
// ("FILE: /json/pointer: what is wrong and what to do"), one a line.
ExitCode checkConfig(const ConfigCheck& check, Output& output) {
  std::vector<ConfigLayer> layers =
      standardConfigLayers(check.defaultFile, check.xdgConfigHome, check.home);
  std::optional<std::string> userFile;
  if (check.file) {
    // A file named on purpose that is not there is a mistake, not an optional layer to skip.
    std::error_code error;
    if (!std::filesystem::exists(*check.file, error)) {
      output.err << "wslgo-guardctl: " << *check.file
                 << ": no such file; name an existing configuration file, or give none to check "
                    "yours ($XDG_CONFIG_HOME/wslgo-guard/config.json)\n";
      return ExitCode::Failure;
    }
    // The shipped default and /etc, then the file in the user's place.
    layers = standardConfigLayers(check.defaultFile, {}, {});
    layers.push_back({*check.file, false});
    userFile = *check.file;
  } else if (layers.size() > 2) {
    // The default and /etc come first; a third layer is the user's (none without a home).
    userFile = layers.back().path;
  }

  auto config = loadConfig(layers, check.memTotal, check.home);
  if (!config) {
    output.err << config.error().describe() << '\n';
    return ExitCode::Failure;
  }
  if (!userFile) {
    output.out << "no user configuration ($XDG_CONFIG_HOME and $HOME are unset); "
               << joined(config->files) << ": ok\n";
    return ExitCode::Ok;
  }
  const std::string shown = displayPath(*userFile, check.home);
  if (config->files.empty() || config->files.back() != shown) {
    output.out << shown << ": not found, so the guard runs on " << joined(config->files)
               << ": ok\n";
    return ExitCode::Ok;
  }
  output.out << shown << ": ok\n";
  return ExitCode::Ok;
}

struct ConfigCheckOptions {
  std::string file;
  std::string defaultsPath = shippedDefaultConfig();
};

void addConfigCommand(CLI::App& app, Run& run) {
  CLI::App* config = app.add_subcommand(
      "config", "Work with the guard's configuration files (docs/configuration.md)");
  config->require_subcommand(1);
  auto options = std::make_shared<ConfigCheckOptions>();
  CLI::App* check = config->add_subcommand(
      "check",
      "Check a configuration file with the guard's own validator, layered as the guard layers it "
      "(over the shipped default and /etc/wslgo-guard/config.json). Prints \"FILE: ok\", or every "
      "problem with its file and JSON pointer. Exit 0 ok, 1 invalid or unreadable, 2 usage. "
      "Needs no running guard.");
  check->add_option("file", options->file,
                    "the file to check (default: $XDG_CONFIG_HOME/wslgo-guard/config.json, "
                    "else ~/.config/wslgo-guard/config.json)");
  check->add_option("--defaults", options->defaultsPath, "the shipped default.json")
      ->capture_default_str();
  check->callback([&run, options] {
    auto meminfo = readMeminfo(SysRoots{});
    const ConfigCheck request{
        .defaultFile = options->defaultsPath,
        .file = options->file.empty() ? std::nullopt : std::optional<std::string>(options->file),
        .xdgConfigHome = run.host.variable("XDG_CONFIG_HOME"),
        .home = run.host.variable("HOME"),
        .memTotal = meminfo ? meminfo->memTotal : 0,
    };
    run.exitCode = checkConfig(request, run.output);
  });
}

}  // namespace

void addOfflineCommands(CLI::App& app, Run& run) {
  addInspectCommand(app, run);
  addSimulateCommand(app, run);
  addConfigCommand(app, run);
}

}  // namespace wslgo::ctl
