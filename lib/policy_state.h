// PolicyState: what the policy engine remembers between evaluations, owned by its caller.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "lib/growth.h"
#include "lib/levels.h"
#include "lib/policy_decision.h"
#include "lib/policy_snapshot.h"
#include "lib/rate_limiter.h"
#include "lib/threshold_tracker.h"
#include "lib/usec.h"

namespace wslgo {

struct WorkspaceState {
  ThresholdTracker memory;
  ThresholdTracker rss;
  ThresholdTracker heap;
  Level level = Level::Ok;  // the worst of the three
  GrowthTracker growth;
  std::optional<uint64_t> judgedMemory;  // the last memory figure levels were judged on

  // The episode: from leaving Ok until the level clears back to Ok. The ladder is climbed
  // within an episode and never descended; clearing to Ok starts over at the first rung.
  size_t nextRung = 0;
  std::optional<Usec> lastActionAt;
  Level levelAtLastAction = Level::Ok;
  std::optional<ActionKind> lastAction;
  bool escalateSooner = false;  // the last GC freed too little (or failed): skip the settle time

  std::array<std::optional<Usec>, 3> lastRun{};  // per ActionKind, across episodes: cooldowns
  RateLimiter restarts;                          // our restarts, for the rate limit
  bool degraded = false;

  // After the guard's restart: what the new gopls reloads to is watched for
  // actions.restart.reload_window against the line of the level it was restarted for.
  std::optional<Usec> restartedAt;
  std::optional<Crossing> restartedFor;  // the metric and the line that triggered the restart
  Level restartLevel = Level::Ok;
  uint64_t reloadPeak = 0;
  std::optional<Budget> overBudget;  // set: restarts cannot help; only GC is left

  std::optional<uint64_t> nRestarts;  // systemd's count at the previous evaluation
  RateLimiter crashes;                // restarts systemd did without us
  bool crashLoop = false;

  Usec lastSeen{0};
};

struct SystemState {
  ThresholdTracker memAvailable;
  ThresholdTracker pressureSome;
  ThresholdTracker pressureFull;
  Level level = Level::Ok;
  // The relief episode, like a workspace's: climbs the ladder one picked workspace at a time.
  size_t nextRung = 0;
  std::optional<Usec> lastReliefAt;
  Level levelAtLastRelief = Level::Ok;
};

struct PolicyState {
  SystemState system;
  std::map<std::string, WorkspaceState, std::less<>> workspaces;  // keyed by workspace id

  // Scratch reused by every evaluation so a steady state allocates nothing.
  std::vector<std::pair<const WorkspaceSnapshot*, WorkspaceState*>> order;
};

}  // namespace wslgo
