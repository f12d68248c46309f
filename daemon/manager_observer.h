// ManagerObserver: what the manager tells the bus layer (signals and property changes).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace wslgo {

// Implemented by the bus layer; the manager knows nothing of D-Bus. Every call happens on the
// loop thread, after the manager's state already reflects the change.
class ManagerObserver {
 public:
  virtual ~ManagerObserver() = default;

  virtual void workspaceAdded(const std::string& root) = 0;
  virtual void workspaceRemoved(const std::string& root) = 0;
  virtual void configReloaded(bool ok, const std::string& message) = 0;
  virtual void thresholdCrossed(const std::string& root, const std::string& level,
                                const std::string& metric, uint64_t value, uint64_t threshold) = 0;
  virtual void actionTaken(const std::string& root, const std::string& action,
                           const std::string& result, uint64_t before, uint64_t after,
                           const std::string& reason) = 0;
  // Names of org.wslgo.Guard1.Manager properties whose values changed.
  virtual void managerPropertiesChanged(const std::vector<std::string>& names) = 0;
  // Names of org.wslgo.Guard1.Workspace properties of `root` whose values changed.
  virtual void workspacePropertiesChanged(const std::string& root,
                                          const std::vector<std::string>& names) = 0;
};

}  // namespace wslgo
