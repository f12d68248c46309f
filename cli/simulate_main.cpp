// wslgo-simulate: replays a JSONL trace through the policy engine and prints the timeline. The
// run itself is cli/simulate_run.cpp, shared with `wslgo-guardctl simulate`.
#include <cstdlib>
#include <iostream>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/simulate_run.h"

int main(int argc, char** argv) {
  CLI::App app{
      "Replays a trace of snapshots (JSONL, see docs/policy.md) through the policy engine and "
      "prints the decision timeline: time, workspace, level, action, reason."};
  wslgo::SimulateOptions options;
  wslgo::addSimulateOptions(app, options);
  CLI11_PARSE(app, argc, argv);
  const char* home = std::getenv("HOME");
  return wslgo::runSimulation(options, home != nullptr ? home : "", "wslgo-simulate", std::cout,
                              std::cerr);
}
