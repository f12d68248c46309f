// wslgo-bench-daemon's figures: issue #5's performance targets, measured on the real daemon.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "lib/result.h"
#include "tests/integration/support/fake_systemd.h"
#include "tests/integration/support/guard_daemon.h"
#include "tests/integration/support/private_bus.h"

namespace wslgo::bench {

struct DaemonBenchOptions {
  std::vector<size_t> tickWorkspaces{8, 64};  // one tick figure per count
  size_t guardWorkspaces = 8;                 // real gopls units under the real wslgo-guard
  double cpuSeconds = 60;                     // the window the guard's CPU is measured over
  size_t calls = 1000;                        // GetStatus round trips
  bool tick = true;                           // run the in-process tick figures
  bool guard = true;                          // run the figures of the wslgo-guard binary
  bool latency = true;                        // run the trigger-to-action figure
  size_t latencyRounds = 10;                  // crossings to time
};

// One line per figure: "name  value  (target ...)  ok" or "OVER". Returns `ok`.
bool reportFigure(const std::string& name, const std::string& value, const std::string& target,
                  bool ok);
// A line that informs and has no target.
void reportNote(const std::string& name, const std::string& value);

// A private bus and, on it, the fake systemd running `unitCommand` (sh -c) for each unit in a
// real cgroup of its own, with the environment files the guard writes into `home`.
struct BusAndUnits {
  test::PrivateBus bus;
  test::FakeSystemd fake;
};
Result<BusAndUnits> startBusAndUnits(const test::GuardHome& home, const std::string& unitCommand);

// The value at quantile q (0..1) of `values`, which it sorts; 0 when empty.
double quantile(std::vector<double>& values, double q);

// daemon_bench_tick.cpp: Manager::tick's CPU for N workspaces, in process.
bool runTickFigures(const DaemonBenchOptions& options);
// daemon_bench_guard.cpp: the wslgo-guard binary's RSS at rest, its CPU over a window, and the
// GetStatus round trip.
bool runGuardFigures(const DaemonBenchOptions& options);
// daemon_bench_latency.cpp: from a memory line crossed in a real cgroup to the guard's decision.
bool runLatencyFigure(const DaemonBenchOptions& options);
// The unit the latency figure runs (wslgo-bench-daemon --hog FILE): allocates on SIGUSR1,
// stamping FILE with when, and frees on SIGUSR2.
int runHog(const std::string& stampFile);

}  // namespace wslgo::bench
