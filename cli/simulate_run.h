// The trace simulator's command: its options and one run, shared by wslgo-simulate and
// `wslgo-guardctl simulate` (docs/policy.md).
#pragma once

#include <iosfwd>
#include <string>
#include <string_view>

#include <CLI/CLI.hpp>

namespace wslgo {

// The shipped default.json: the one installed beside this program (<prefix>/bin/X ->
// <prefix>/share/wslgo-guard/), else the configured prefix's, else (run from a build tree) the
// source tree's, so a fresh checkout needs no --defaults.
std::string shippedDefaultConfig();

struct SimulateOptions {
  std::string tracePath;     // the JSONL trace to replay
  std::string overridePath;  // a config layered over the defaults; empty: none
  std::string defaultsPath = shippedDefaultConfig();
  bool dryRun = false;  // report actions as "would …" and execute none
};

// Declares the simulator's positional TRACE and its options on `app` (a program or a
// subcommand), so both front ends take the same arguments.
void addSimulateOptions(CLI::App& app, SimulateOptions& options);

// Replays the trace and writes the timeline to `out`. `home` ($HOME, empty when unset) expands
// "~/" in the config. Returns 0, or 1 after one "PROGRAM: what went wrong" line on `err`.
int runSimulation(const SimulateOptions& options, const std::string& home, std::string_view program,
                  std::ostream& out, std::ostream& err);

}  // namespace wslgo
