// wslgo-simulate: replays a JSONL trace through the policy engine and prints the timeline.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include <CLI/CLI.hpp>

#include "lib/kept_file.h"
#include "lib/policy_engine.h"
#include "lib/simulate.h"

int main(int argc, char** argv) {
  CLI::App app{
      "Replays a trace of snapshots (JSONL, see docs/policy.md) through the policy engine and "
      "prints the decision timeline: time, workspace, level, action, reason."};
  std::string tracePath;
  std::string overridePath;
  // Installed, the shipped defaults sit in the data dir; run from a build tree they are still
  // in the source tree, so a fresh checkout needs no --defaults.
  std::string defaultsPath = WSLGO_INSTALLED_DEFAULT_CONFIG;
  if (::access(defaultsPath.c_str(), R_OK) != 0) defaultsPath = WSLGO_SOURCE_DEFAULT_CONFIG;
  bool dryRun = false;
  app.add_option("trace", tracePath, "the trace to replay (.jsonl)")->required();
  app.add_option("-c,--config", overridePath,
                 "a config file layered over the defaults (e.g. tests/traces/NAME.config.json)");
  app.add_option("--defaults", defaultsPath, "the shipped default.json")->capture_default_str();
  app.add_flag("-n,--dry-run", dryRun, "report actions as \"would …\" and execute none");
  CLI11_PARSE(app, argc, argv);

  std::string buffer;
  auto trace = wslgo::readFileInto(tracePath, buffer);
  if (!trace) {
    std::fprintf(stderr, "wslgo-simulate: %s\n", trace.error().describe().c_str());
    return 1;
  }
  const char* home = std::getenv("HOME");
  auto config =
      wslgo::loadSimulationConfig(defaultsPath, overridePath, *trace, home != nullptr ? home : "");
  if (!config) {
    std::fprintf(stderr, "wslgo-simulate: %s\n", config.error().describe().c_str());
    return 1;
  }
  if (dryRun) config->guard.dryRun = true;
  wslgo::PolicyEngine engine(std::move(*config));
  auto timeline = wslgo::simulateTrace(engine, *trace);
  if (!timeline) {
    std::fprintf(stderr, "wslgo-simulate: %s: %s\n", tracePath.c_str(),
                 timeline.error().describe().c_str());
    return 1;
  }
  std::fwrite(timeline->data(), 1, timeline->size(), stdout);
  return 0;
}
