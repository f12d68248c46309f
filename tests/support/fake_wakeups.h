// FakeWakeups: records what the manager asked to watch, and lets a test play the kernel.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "daemon/wakeups.h"

namespace wslgo::test {

class FakeWakeups final : public Wakeups {
 public:
  std::vector<Error> armSystem(const SystemWakeupPlan& plan, Wake wake) override {
    system = plan;
    systemWake = std::move(wake);
    ++systemArmings;
    return {};
  }
  std::vector<Error> armWorkspace(const std::string& root, const WorkspaceWakeupPlan& plan,
                                  Wake wake) override {
    workspaces[root] = plan;
    workspaceWake[root] = std::move(wake);
    return {};
  }
  void disarmWorkspace(const std::string& root) override {
    workspaces.erase(root);
    workspaceWake.erase(root);
  }

  SystemWakeupPlan system;
  Wake systemWake;
  size_t systemArmings = 0;
  std::map<std::string, WorkspaceWakeupPlan> workspaces;
  std::map<std::string, Wake> workspaceWake;
};

}  // namespace wslgo::test
