#include "cli/simulate_run.h"

#include <unistd.h>

#include <filesystem>
#include <ostream>
#include <system_error>
#include <utility>

#include "lib/kept_file.h"
#include "lib/policy_engine.h"
#include "lib/simulate.h"

namespace wslgo {

std::string shippedDefaultConfig() {
  // Beside this program first: a tree configured for /usr/local and installed with
  // `--prefix ~/.local` runs ~/.local/bin/X, whose defaults are ~/.local/share/..., not the
  // prefix compiled in.
  std::error_code error;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", error);
  if (!error) {
    const std::string beside =
        (self.parent_path().parent_path() / WSLGO_DEFAULT_CONFIG_FROM_PREFIX).string();
    if (::access(beside.c_str(), R_OK) == 0) return beside;
  }
  if (::access(WSLGO_INSTALLED_DEFAULT_CONFIG, R_OK) == 0) return WSLGO_INSTALLED_DEFAULT_CONFIG;
  return WSLGO_SOURCE_DEFAULT_CONFIG;
}

void addSimulateOptions(CLI::App& app, SimulateOptions& options) {
  app.add_option("trace", options.tracePath, "the trace to replay (.jsonl)")->required();
  app.add_option("-c,--config", options.overridePath,
                 "a config file layered over the defaults (e.g. tests/traces/NAME.config.json)");
  app.add_option("--defaults", options.defaultsPath, "the shipped default.json")
      ->capture_default_str();
  app.add_flag("-n,--dry-run", options.dryRun, "report actions as \"would …\" and execute none");
}

int runSimulation(const SimulateOptions& options, const std::string& home, std::string_view program,
                  std::ostream& out, std::ostream& err) {
  std::string buffer;
  auto trace = readFileInto(options.tracePath, buffer);
  if (!trace) {
    err << program << ": " << trace.error().describe() << '\n';
    return 1;
  }
  auto config = loadSimulationConfig(options.defaultsPath, options.overridePath, *trace, home);
  if (!config) {
    err << program << ": " << config.error().describe() << '\n';
    return 1;
  }
  if (options.dryRun) config->guard.dryRun = true;
  PolicyEngine engine(std::move(*config));
  auto timeline = simulateTrace(engine, *trace);
  if (!timeline) {
    err << program << ": " << options.tracePath << ": " << timeline.error().describe() << '\n';
    return 1;
  }
  out << *timeline;
  out.flush();
  return 0;
}

}  // namespace wslgo
