// BusService: the guard on the bus — its objects, and the manager's news turned into signals.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <sdbus-c++/sdbus-c++.h>

#include "daemon/manager_object.h"
#include "daemon/manager_observer.h"
#include "daemon/workspace_object.h"

namespace wslgo {

class Manager;

class BusService final : public ManagerObserver {
 public:
  // Exports /org/wslgo/Guard1 and one object per workspace the manager already has. The bus
  // name is requested separately (requestName), once everything is exported, so a caller that
  // sees the name finds the objects.
  BusService(sdbus::IConnection& connection, Manager& manager, std::function<bool()> shuttingDown);
  ~BusService() override;

  void requestName();
  void releaseName();

  void workspaceAdded(const std::string& root) override;
  void workspaceRemoved(const std::string& root) override;
  void configReloaded(bool ok, const std::string& message) override;
  void thresholdCrossed(const std::string& root, Level level, const Crossing& crossing) override;
  void actionTaken(const ActionTaken& action) override;
  void restarting(const std::string& root, const std::string& reason) override;
  void oomKilled(const std::string& root, const std::string& reason) override;
  void overBudget(const std::string& root, const Budget& budget,
                  const std::string& reason) override;
  void managerPropertiesChanged(const std::vector<std::string>& names) override;
  void workspacePropertiesChanged(const std::string& root,
                                  const std::vector<std::string>& names) override;

 private:
  sdbus::IConnection& connection_;
  Manager& manager_;
  std::unique_ptr<ManagerObject> managerObject_;
  std::map<std::string, std::unique_ptr<WorkspaceObject>> workspaceObjects_;
  bool nameOwned_ = false;
};

}  // namespace wslgo
