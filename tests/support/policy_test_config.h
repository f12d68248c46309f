// The policy configuration the engine's unit tests, its property tests and its bench start from.
#pragma once

#include <chrono>

#include "lib/config.h"
#include "lib/levels.h"

namespace wslgo::test {

// Workspace memory: warning 2 GiB, high 3 GiB, critical 4 GiB, entered after 10 s beyond the
// line and cleared 10 % below it. System MemAvailable: warning below 1.5 GiB, high below 1 GiB,
// critical below 0.5 GiB, after 6 s, cleared 20 % above. The ladder: gc from warning,
// trim and restart from high, 30 s to settle; cooldowns gc 1 min, trim 2 min, restart 5 min; at
// most 3 restarts in 30 min. A test changes what it is about on its copy.
inline Config policyTestConfig() {
  using namespace std::chrono_literals;
  constexpr double kGiB = 1ull << 30;
  Config config;
  config.defaults.memory = Thresholds{.warning = 2.0 * kGiB,
                                      .high = 3.0 * kGiB,
                                      .critical = 4.0 * kGiB,
                                      .sustain = 10s,
                                      .hysteresis = 0.1,
                                      .higherIsWorse = true};
  config.system.memAvailable = Thresholds{.warning = 1.5 * kGiB,
                                          .high = 1.0 * kGiB,
                                          .critical = 0.5 * kGiB,
                                          .sustain = 6s,
                                          .hysteresis = 0.2,
                                          .higherIsWorse = false};
  config.actions.ladder = {{ActionKind::Gc, Level::Warning},
                           {ActionKind::Trim, Level::High},
                           {ActionKind::Restart, Level::High}};
  config.actions.settle = 30s;
  config.actions.gc.cooldown = 60s;
  config.actions.gc.minFreed = 0.1;
  config.actions.trim.cooldown = 120s;
  config.actions.restart.cooldown = 5min;
  config.actions.restart.maxRestarts = 3;
  config.actions.restart.window = 30min;
  return config;
}

}  // namespace wslgo::test
