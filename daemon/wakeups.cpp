#include "daemon/wakeups.h"

#include <unistd.h>

#include <algorithm>
#include <utility>

#include "daemon/logging.h"

namespace wslgo {
namespace {

std::shared_ptr<spdlog::logger> log() {
  static auto logger = componentLogger("wakeups");
  return logger;
}

void keep(Result<MemoryWakeup> wakeup, std::vector<MemoryWakeup>& armed,
          std::vector<Error>& failed) {
  if (!wakeup) {
    failed.push_back(wakeup.error());
    return;
  }
  log()->debug("wake-up armed: {}", wakeup->description());
  armed.push_back(std::move(*wakeup));
}

}  // namespace

SystemWakeupPlan systemWakeupPlan(const SystemSettings& system, std::string pressurePath) {
  SystemWakeupPlan plan{.pressurePath = std::move(pressurePath), .triggers = {}};
  const Usec window = MemoryWakeup::kPressureWindowStep;
  for (auto [kind, thresholds] : {std::pair{"some", &system.pressureSomeAvg10},
                                  std::pair{"full", &system.pressureFullAvg10}}) {
    if (!thresholds->warning) continue;
    const Usec stall(static_cast<Usec::rep>(static_cast<double>(window.count()) *
                                            std::clamp(*thresholds->warning, 0.1, 100.0) / 100));
    plan.triggers.push_back(PressureTrigger{.kind = kind, .stall = stall, .window = window});
  }
  return plan;
}

WorkspaceWakeupPlan workspaceWakeupPlan(const Thresholds& memory, CgroupDirs dirs) {
  WorkspaceWakeupPlan plan{.dirs = std::move(dirs), .usageLines = {}};
  // v1 notifies at any byte count: one line near warning (to sample faster) and one per level.
  if (memory.warning) {
    plan.usageLines.push_back(static_cast<uint64_t>(*memory.warning * kNearThreshold));
  }
  for (Level level : {Level::Warning, Level::High, Level::Critical}) {
    if (auto value = memory.at(level)) plan.usageLines.push_back(static_cast<uint64_t>(*value));
  }
  return plan;
}

std::vector<Error> KernelWakeups::armSystem(const SystemWakeupPlan& plan, Wake wake) {
  system_.clear();
  std::vector<Error> failed;
  if (::access(plan.pressurePath.c_str(), F_OK) != 0) return failed;  // no PSI: ticks only
  for (const PressureTrigger& trigger : plan.triggers) {
    keep(MemoryWakeup::pressure(loop_, plan.pressurePath, trigger.kind, trigger.stall,
                                trigger.window, wake),
         system_, failed);
  }
  return failed;
}

std::vector<Error> KernelWakeups::armWorkspace(const std::string& root,
                                               const WorkspaceWakeupPlan& plan, Wake wake) {
  std::vector<MemoryWakeup>& armed = workspaces_[root];
  armed.clear();
  std::vector<Error> failed;
  if (plan.dirs.memoryV1) {
    for (uint64_t bytes : plan.usageLines) {
      keep(MemoryWakeup::usageThreshold(loop_, *plan.dirs.memoryV1, bytes, wake), armed, failed);
    }
  } else if (plan.dirs.unified &&
             ::access((*plan.dirs.unified + "/memory.events").c_str(), F_OK) == 0) {
    keep(MemoryWakeup::memoryEvents(loop_, *plan.dirs.unified, wake), armed, failed);
  }
  return failed;
}

}  // namespace wslgo
