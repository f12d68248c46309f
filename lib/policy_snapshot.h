// Snapshot: the policy engine's input, one plain reading of the system and every workspace.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/levels.h"
#include "lib/meminfo.h"
#include "lib/psi.h"
#include "lib/usec.h"

namespace wslgo {

// The gopls unit's systemd ActiveState. The engine acts only on an active unit: there is
// nothing to collect in a unit that is starting, stopping or failed (nor in one whose gopls is
// in its start-up grace, see PolicyEngine::inStartupGrace).
enum class UnitState { Active, Activating, Deactivating, Reloading, Inactive, Failed, Unknown };

std::string_view toString(UnitState state);
std::optional<UnitState> parseUnitState(std::string_view text);  // systemd's names

// Which rungs can do anything for a workspace on this host with this gopls. The daemon knows
// (memory.reclaim, a file cache, a debug server that answers); a rung that cannot work is
// skipped, not spent.
struct RungSet {
  bool gc = true;
  bool trim = true;
  bool restart = true;

  bool has(ActionKind action) const {
    switch (action) {
      case ActionKind::Gc:
        return gc;
      case ActionKind::Trim:
        return trim;
      case ActionKind::Restart:
        return restart;
    }
    return false;
  }
};

struct WorkspaceSnapshot {
  std::string id;                         // the workspace root; decisions name it
  std::optional<uint64_t> memoryCurrent;  // cgroup memory in use, bytes
  std::optional<uint64_t> inactiveFile;   // of which inactive file cache, bytes
  std::optional<uint64_t> rss;            // sum of the unit's processes' RSS, bytes
  std::optional<uint64_t> heapInUse;      // Go heap in use from gopls' debug server, bytes
  UnitState unit = UnitState::Active;
  uint64_t nRestarts = 0;              // systemd's NRestarts: automatic restarts of the unit
  std::optional<ActionKind> inFlight;  // an action the daemon started and has not finished
  RungSet rungs;                       // what can work here; all of them unless told
  std::optional<Usec> processSince;    // when the current gopls process (MainPID) was first seen
};

struct SystemSnapshot {
  uint64_t memTotal = 0;
  std::optional<uint64_t> memAvailable;
  std::optional<double> pressureSomeAvg10;  // memory PSI, percent; unset without PSI
  std::optional<double> pressureFullAvg10;
};

struct Snapshot {
  Usec now{0};  // monotonic time from the caller's event loop; the engine reads no clock
  SystemSnapshot system;
  std::vector<WorkspaceSnapshot> workspaces;
};

SystemSnapshot systemSnapshotFrom(const Meminfo& meminfo, const std::optional<Pressure>& memory);

}  // namespace wslgo
