// ManagerObserver: what the manager tells the bus layer (signals and property changes).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "lib/levels.h"
#include "lib/policy_decision.h"

namespace wslgo {

// An action that ran (or, in dry run, would have): the ActionTaken signal's arguments.
struct ActionTaken {
  std::string root;
  ActionKind action = ActionKind::Gc;
  std::string result;  // "done", "failed: …", "dry-run"
  uint64_t before = 0;
  uint64_t after = 0;
  std::string reason;
};

// Implemented by the bus layer; the manager knows nothing of D-Bus. Every call happens on the
// loop thread, after the manager's state already reflects the change.
class ManagerObserver {
 public:
  virtual ~ManagerObserver() = default;

  virtual void workspaceAdded(const std::string& root) = 0;
  virtual void workspaceRemoved(const std::string& root) = 0;
  virtual void configReloaded(bool ok, const std::string& message) = 0;
  virtual void thresholdCrossed(const std::string& root, Level level, const Crossing& crossing) = 0;
  virtual void actionTaken(const ActionTaken& action) = 0;
  // The guard is about to restart the workspace's unit, so its gopls is going away: said first,
  // so a session keeper stops sending it new requests. `reason` is the one the restart's
  // ActionTaken carries (a restart outside the ladder has none; it says why all the same).
  virtual void restarting(const std::string& root, const std::string& reason) = 0;
  // The kernel's OOM killer took the workspace's gopls (its memory_max, or the system or an
  // enclosing cgroup out of memory); systemd restarts it as after a crash.
  virtual void oomKilled(const std::string& root, const std::string& reason) = 0;
  // The workspace reloaded past the line it was restarted for: restarts cannot help it.
  virtual void overBudget(const std::string& root, const Budget& budget,
                          const std::string& reason) = 0;
  // Names of org.wslgo.Guard1.Manager properties whose values changed.
  virtual void managerPropertiesChanged(const std::vector<std::string>& names) = 0;
  // Names of org.wslgo.Guard1.Workspace properties of `root` whose values changed.
  virtual void workspacePropertiesChanged(const std::string& root,
                                          const std::vector<std::string>& names) = 0;
};

}  // namespace wslgo
