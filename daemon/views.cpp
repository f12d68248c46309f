#include "daemon/views.h"

namespace wslgo {
namespace {

template <class T>
void compare(std::vector<std::string>& out, const char* name, const T& before, const T& after) {
  if (!(before == after)) out.emplace_back(name);
}

// Memory figures move by a few KiB every tick; a PropertiesChanged for each would be noise on
// the bus. They count as changed once they moved by 1 MiB or 1%, whichever is more; Get always
// returns the current value.
void compareFigure(std::vector<std::string>& out, const char* name, uint64_t before,
                   uint64_t after) {
  uint64_t delta = before > after ? before - after : after - before;
  uint64_t larger = before > after ? before : after;
  uint64_t significant = larger / 100 > (1u << 20) ? larger / 100 : (1u << 20);
  if (delta >= significant || (delta > 0 && (before == 0 || after == 0))) out.emplace_back(name);
}

}  // namespace

std::vector<std::string> changedProperties(const WorkspaceView& before,
                                           const WorkspaceView& after) {
  std::vector<std::string> out;
  compare(out, "Socket", before.socket, after.socket);
  compare(out, "DebugAddress", before.debugAddress, after.debugAddress);
  compare(out, "MainPID", before.mainPid, after.mainPid);
  compare(out, "State", before.state, after.state);
  compareFigure(out, "MemoryCurrent", before.memoryCurrent, after.memoryCurrent);
  compareFigure(out, "RSS", before.rss, after.rss);
  compareFigure(out, "HeapInUse", before.heapInUse, after.heapInUse);
  compare(out, "WarningLimit", before.warningLimit, after.warningLimit);
  compare(out, "HighLimit", before.highLimit, after.highLimit);
  compare(out, "CriticalLimit", before.criticalLimit, after.criticalLimit);
  compare(out, "Restarts", before.restarts, after.restarts);
  compare(out, "LastAction", before.lastAction, after.lastAction);
  compare(out, "LastActionUSec", before.lastActionUsec, after.lastActionUsec);
  compare(out, "Editors", before.editors, after.editors);
  return out;
}

std::vector<std::string> changedProperties(const ManagerView& before, const ManagerView& after) {
  std::vector<std::string> out;
  compare(out, "State", before.state, after.state);
  compare(out, "DryRun", before.dryRun, after.dryRun);
  compare(out, "SampleIntervalUSec", before.sampleIntervalUsec, after.sampleIntervalUsec);
  compare(out, "MemTotal", before.memTotal, after.memTotal);
  compareFigure(out, "MemAvailable", before.memAvailable, after.memAvailable);
  compare(out, "SwapTotal", before.swapTotal, after.swapTotal);
  compareFigure(out, "SwapFree", before.swapFree, after.swapFree);
  // PSI averages are percentages with two decimals; a tenth of a point is worth telling.
  auto moved = [](double a, double b) { return a - b >= 0.1 || b - a >= 0.1; };
  bool pressure = moved(before.pressureAvg10, after.pressureAvg10) ||
                  moved(before.pressureAvg60, after.pressureAvg60) ||
                  moved(before.pressureAvg300, after.pressureAvg300);
  if (pressure) out.emplace_back("MemoryPressure");
  return out;
}

}  // namespace wslgo
