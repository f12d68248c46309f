// ManagerView and WorkspaceView: the guard's state exactly as the bus shows it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace wslgo {

// One org.wslgo.Guard1.Workspace object's properties. Figures the guard does not know are 0,
// as D-Bus has no "unset" for a t; GetStatus says which are unknown.
struct WorkspaceView {
  std::string path;
  std::string unit;
  std::string socket;
  std::string debugAddress;
  uint32_t mainPid = 0;
  std::string state = "starting";
  uint64_t memoryCurrent = 0;
  uint64_t rss = 0;
  uint64_t heapInUse = 0;
  uint64_t warningLimit = 0;
  uint64_t highLimit = 0;
  uint64_t criticalLimit = 0;
  uint32_t restarts = 0;
  std::string lastAction;
  uint64_t lastActionUsec = 0;  // CLOCK_REALTIME, µs
  uint32_t editors = 0;         // editor connections session keepers relay to its gopls
};

// The org.wslgo.Guard1.Manager object's properties (Workspaces is derived by the bus layer).
struct ManagerView {
  std::string state = "ok";
  bool dryRun = false;
  uint64_t sampleIntervalUsec = 0;
  uint64_t memTotal = 0;
  uint64_t memAvailable = 0;
  uint64_t swapTotal = 0;
  uint64_t swapFree = 0;
  double pressureAvg10 = 0;
  double pressureAvg60 = 0;
  double pressureAvg300 = 0;
};

// The D-Bus names of the properties whose values differ, so PropertiesChanged carries only
// what changed and not every property every tick. Memory figures and PSI count as changed only
// once they moved noticeably (1 MiB or 1%; 0.1 points of PSI); the caller keeps the view it last
// announced as `before`.
std::vector<std::string> changedProperties(const WorkspaceView& before, const WorkspaceView& after);
std::vector<std::string> changedProperties(const ManagerView& before, const ManagerView& after);

}  // namespace wslgo
