// Wakeups: the kernel notifications that make the guard look before its next tick. The manager
// says what to watch (a plan, computed here from the configuration); KernelWakeups arms it on
// sd-event, a fake in the tests records it.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "daemon/event_loop.h"
#include "daemon/memory_wakeup.h"
#include "lib/cgroup_hierarchy.h"
#include "lib/config.h"
#include "lib/result.h"
#include "lib/usec.h"

namespace wslgo {

// "Near" a threshold, for faster sampling and an extra kernel wake-up: 90% of the warning line.
inline constexpr double kNearThreshold = 0.9;

struct PressureTrigger {
  std::string kind;  // "some" or "full"
  Usec stall{0};
  Usec window{0};
};

// PSI triggers on the system's memory pressure file.
struct SystemWakeupPlan {
  std::string pressurePath;  // /proc/pressure/memory under the roots
  std::vector<PressureTrigger> triggers;
};

// A workspace's cgroup: v1 usage lines where the v1 memory controller is there, else v2's
// memory.events (which wakes only on high, max and oom).
struct WorkspaceWakeupPlan {
  CgroupDirs dirs;
  std::vector<uint64_t> usageLines;  // bytes: near warning, then each level's threshold
};

// A PSI trigger at each warning line: avg10 lags the stall behind it, so the trigger, which sees
// the stall within a fraction of its window, is what makes the guard look early.
SystemWakeupPlan systemWakeupPlan(const SystemSettings& system, std::string pressurePath);
WorkspaceWakeupPlan workspaceWakeupPlan(const Thresholds& memory, CgroupDirs dirs);

class Wakeups {
 public:
  // Gets a description of what woke, for the logs.
  using Wake = std::function<void(const std::string& why)>;

  virtual ~Wakeups() = default;
  // Each replaces what was armed before for the system or that workspace, and returns why any
  // part could not be armed: not fatal, the guard then relies on sampling.
  virtual std::vector<Error> armSystem(const SystemWakeupPlan& plan, Wake wake) = 0;
  virtual std::vector<Error> armWorkspace(const std::string& root, const WorkspaceWakeupPlan& plan,
                                          Wake wake) = 0;
  virtual void disarmWorkspace(const std::string& root) = 0;
};

class KernelWakeups final : public Wakeups {
 public:
  explicit KernelWakeups(EventLoop& loop) : loop_(loop) {}

  std::vector<Error> armSystem(const SystemWakeupPlan& plan, Wake wake) override;
  std::vector<Error> armWorkspace(const std::string& root, const WorkspaceWakeupPlan& plan,
                                  Wake wake) override;
  void disarmWorkspace(const std::string& root) override { workspaces_.erase(root); }

 private:
  EventLoop& loop_;
  std::vector<MemoryWakeup> system_;
  std::map<std::string, std::vector<MemoryWakeup>> workspaces_;
};

}  // namespace wslgo
