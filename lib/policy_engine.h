// PolicyEngine: the pure decision engine — levels, escalation ladder, cooldowns, rate limits.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>
#include <vector>

#include "lib/config.h"
#include "lib/policy_decision.h"
#include "lib/policy_snapshot.h"
#include "lib/policy_state.h"
#include "lib/usec.h"

namespace wslgo {

// How long a gopls that has just started may go without reporting its Go heap before the engine
// acts on it anyway (see PolicyEngine::inStartupGrace).
inline constexpr Usec kStartupGrace = std::chrono::seconds(10);

// Deterministic: the same config, snapshots and outcomes give the same decisions. No I/O, no
// clock, no logging; time is the snapshot's `now`. See docs/policy.md for the rules.
class PolicyEngine {
 public:
  explicit PolicyEngine(Config config);

  const Config& config() const { return config_; }

  std::vector<Decision> evaluate(const Snapshot& snapshot, PolicyState& state) const;
  // Appends to `out`, so a caller that reuses `out` allocates only for new decisions' text.
  void evaluate(const Snapshot& snapshot, PolicyState& state, std::vector<Decision>& out) const;

  // The effect of an executed action. A GC that freed less than actions.gc.minFreed of
  // `before` (or failed) lets the workspace's next rung run without waiting for the settle time.
  Decision recordOutcome(PolicyState& state, const ActionOutcome& outcome) const;

  // An operator's reset of a degraded workspace: the restart history is forgotten.
  // Returns the Restored decision, or nothing if the workspace was not degraded.
  std::optional<Decision> resetDegraded(PolicyState& state, std::string_view workspace,
                                        Usec now) const;

  // The memory figure levels are judged on: cgroup memory, minus inactive file cache when
  // excludeInactiveFile is set. Unset when the snapshot has no cgroup figure.
  static std::optional<uint64_t> judgedMemory(const WorkspaceSnapshot& workspace,
                                              const WorkspaceSettings& settings);

  // Whether a gopls that has just started is still given time: its unit is active, its debug
  // server has not answered yet (no heap figure) and its process was first seen less than
  // kStartupGrace ago. A GC would only fail until the debug server answers; once the grace has
  // passed without it, restarts still work. Such a workspace is treated as an activating unit.
  static bool inStartupGrace(const WorkspaceSnapshot& workspace, Usec now);

 private:
  void observeWorkspace(const WorkspaceSnapshot& snapshot, WorkspaceState& ws, Usec now,
                        std::vector<Decision>& out) const;
  void observeSystem(const SystemSnapshot& snapshot, SystemState& system, Usec now,
                     std::vector<Decision>& out) const;
  bool stepLadder(const WorkspaceSnapshot& snapshot, WorkspaceState& ws, Usec now,
                  bool& restartBusy, std::vector<Decision>& out) const;
  bool stepGrowth(const WorkspaceSnapshot& snapshot, WorkspaceState& ws, Usec now,
                  std::vector<Decision>& out) const;
  void stepRelief(PolicyState& state, Usec now, bool restartBusy, std::vector<Decision>& out) const;
  // After the guard's restart: is the workspace over budget (reloads to the level it was
  // restarted for)? Also lifts "over budget" once its line is raised above what it reloads to.
  void watchReload(const WorkspaceSnapshot& snapshot, WorkspaceState& ws, Usec now,
                   std::vector<Decision>& out) const;
  std::optional<size_t> chooseRung(Level level, size_t nextRung, const RungSet& allowed,
                                   bool repeatAllowed) const;
  bool cooledDown(const WorkspaceState& ws, ActionKind action, Usec now) const;
  Decision actionDecision(const std::string& workspace, ActionKind action, Level level,
                          Usec now) const;

  Config config_;
};

}  // namespace wslgo
