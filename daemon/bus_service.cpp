#include "daemon/bus_service.h"

#include "daemon/manager.h"

namespace wslgo {

BusService::BusService(sdbus::IConnection& connection, Manager& manager,
                       std::function<bool()> shuttingDown)
    : connection_(connection), manager_(manager) {
  managerObject_ = std::make_unique<ManagerObject>(connection_, manager_, std::move(shuttingDown));
  for (const std::string& root : manager_.workspaceRoots()) {
    workspaceObjects_[root] = std::make_unique<WorkspaceObject>(connection_, manager_, root);
  }
}

BusService::~BusService() { releaseName(); }

void BusService::requestName() {
  connection_.requestName(kBusName);
  nameOwned_ = true;
}

void BusService::releaseName() {
  if (!nameOwned_) return;
  nameOwned_ = false;
  try {
    connection_.releaseName(kBusName);
  } catch (const sdbus::Error&) {
    // The bus is gone already (shutdown of the session): nothing left to release.
  }
}

void BusService::workspaceAdded(const std::string& root) {
  auto& object = workspaceObjects_[root];
  if (!object) object = std::make_unique<WorkspaceObject>(connection_, manager_, root);
  managerObject_->emitWorkspaceAdded(sdbus::ObjectPath(workspaceObjectPath(root)), root);
  managerObject_->emitPropertiesChangedSignal(org::wslgo::Guard1::Manager_adaptor::INTERFACE_NAME,
                                              {"Workspaces"});
}

void BusService::workspaceRemoved(const std::string& root) {
  workspaceObjects_.erase(root);
  managerObject_->emitWorkspaceRemoved(sdbus::ObjectPath(workspaceObjectPath(root)), root);
  managerObject_->emitPropertiesChangedSignal(org::wslgo::Guard1::Manager_adaptor::INTERFACE_NAME,
                                              {"Workspaces"});
}

void BusService::configReloaded(bool ok, const std::string& message) {
  managerObject_->emitConfigReloaded(ok, message);
}

void BusService::thresholdCrossed(const std::string& root, Level level, const Crossing& crossing) {
  auto it = workspaceObjects_.find(root);
  if (it == workspaceObjects_.end()) return;
  it->second->emitThresholdCrossed(std::string(toString(level)),
                                   std::string(toString(crossing.metric)), crossing.value,
                                   crossing.threshold);
}

void BusService::actionTaken(const ActionTaken& action) {
  auto it = workspaceObjects_.find(action.root);
  if (it == workspaceObjects_.end()) return;
  it->second->emitActionTaken(std::string(toString(action.action)), action.result, action.before,
                              action.after, action.reason);
}

void BusService::restarting(const std::string& root, const std::string& reason) {
  // A workspace being added has no object yet, and nobody who could have heard of its gopls.
  auto it = workspaceObjects_.find(root);
  if (it == workspaceObjects_.end()) return;
  it->second->emitRestarting(reason);
}

void BusService::oomKilled(const std::string& root, const std::string& reason) {
  auto it = workspaceObjects_.find(root);
  if (it == workspaceObjects_.end()) return;
  it->second->emitOomKilled(reason);
}

void BusService::overBudget(const std::string& root, const Budget& budget,
                            const std::string& reason) {
  auto it = workspaceObjects_.find(root);
  if (it == workspaceObjects_.end()) return;
  it->second->emitOverBudget(std::string(toString(budget.metric)),
                             std::string(toString(budget.level)), budget.loaded, budget.threshold,
                             reason);
}

void BusService::managerPropertiesChanged(const std::vector<std::string>& names) {
  if (names.empty()) return;
  managerObject_->emitPropertiesChangedSignal(org::wslgo::Guard1::Manager_adaptor::INTERFACE_NAME,
                                              names);
}

void BusService::workspacePropertiesChanged(const std::string& root,
                                            const std::vector<std::string>& names) {
  auto it = workspaceObjects_.find(root);
  if (it == workspaceObjects_.end() || names.empty()) return;
  it->second->emitPropertiesChangedSignal(org::wslgo::Guard1::Workspace_adaptor::INTERFACE_NAME,
                                          names);
}

}  // namespace wslgo
