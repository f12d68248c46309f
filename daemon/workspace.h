// Workspace: what the guard knows of one workspace, in named parts — its registry record, what
// systemd says of its unit, how its figures are read, what the last look found.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "daemon/gopls_debug.h"
#include "daemon/systemd_client.h"
#include "daemon/views.h"
#include "daemon/workspace_resources.h"
#include "lib/cgroup_memory.h"
#include "lib/cgroup_memory_reader.h"
#include "lib/heap_stats.h"
#include "lib/policy_snapshot.h"
#include "lib/process.h"
#include "lib/rung_availability.h"
#include "lib/sample_history.h"
#include "lib/usec.h"
#include "lib/workspace_registry.h"

namespace wslgo {

// How the workspace's figures are read; remade when the unit's cgroup or MainPID changes.
struct WorkspaceReaders {
  std::optional<CgroupMemoryReader> cgroup;
  std::string cgroupFor;  // the ControlGroup the reader was made for
  std::optional<ProcessMemoryReader> mainProcess;
  // Which of the unit's resource controls its cgroup can enforce. Unset until the cgroup is
  // known.
  std::optional<ResourceEnforcement> enforcement;
};

// What the last look found, and gopls' heap as its debug server last reported it.
struct WorkspaceFigures {
  std::optional<MemorySample> sample;
  std::optional<uint64_t> rss;
  std::optional<HeapStats> heap;
  std::optional<Usec> heapReadAt;
  bool heapReadInFlight = false;
  std::optional<int> oomScoreAdj;  // gopls' /proc/PID/oom_score_adj as last read
  WorkspaceSnapshot snapshot;      // the policy engine's view; processSince: MainPID first seen
};

// What the workspace's kernel wake-ups were armed for; any change re-arms them.
struct ArmedFor {
  std::string controlGroup;
  uint32_t mainPid = 0;
  uint64_t configGeneration = 0;
};

// What the workspace's current gopls offers, probed once per MainPID.
struct GoplsOffer {
  GoplsDebugFeatures features;
  uint32_t mainPid = 0;   // the process it was found for
  std::string fileCache;  // its file cache directory; empty when it keeps none
  // gopls creates the directory on first use; once seen it is not looked for again each tick.
  bool fileCacheOnDisk = false;
};

// The last action run on the workspace (or, in dry run, reported as "would …").
struct LastAction {
  std::string name;
  uint64_t wallUsec = 0;  // CLOCK_REALTIME µs
};

// The editor connections session keepers relay to the workspace's gopls, as each keeper last
// reported them (ReportEditors), by the keeper's unique bus name: a keeper's new report replaces
// its old one, and a keeper that left the bus no longer counts.
struct EditorReports {
  std::map<std::string, uint32_t> byReporter;

  // Their sum; a u on the bus, so it stops at its largest value.
  uint32_t total() const {
    uint64_t sum = 0;
    for (const auto& [reporter, count] : byReporter) sum += count;
    return static_cast<uint32_t>(std::min<uint64_t>(sum, std::numeric_limits<uint32_t>::max()));
  }
};

// The question about the unit that systemd has not answered yet.
struct UnitRefresh {
  bool inFlight = false;
  bool again = false;  // the unit changed meanwhile: ask once more when the answer comes
};

struct Workspace {
  WorkspaceRecord record;
  // Which insert this is: an answer from systemd meant for an earlier workspace at the same path
  // (removed and added again meanwhile) is not taken for this one.
  uint64_t serial = 0;
  UnitInfo unit;  // what systemd last said
  UnitRefresh refresh;
  WorkspaceReaders readers;
  WorkspaceFigures figures;
  std::unique_ptr<GoplsDebug> debug;
  uint32_t debugFor = 0;        // the MainPID `debug` was pointed at
  uint32_t squatWarnedFor = 0;  // the MainPID whose debug port was last found held by another
  std::optional<GoplsOffer> gopls;
  bool goplsProbeInFlight = false;
  // What `rungs` was judged from: rejudged only when these change. Unset before the first tick.
  std::optional<RungFacts> rungFacts;
  RungAvailability rungs;  // what the ladder can do for it, and why not
  SampleHistory history;
  ArmedFor wakeupsFor;
  bool wakeupsExplained = false;                       // why there are none has been logged
  MemorySource memorySourceSaid = MemorySource::None;  // where the figure comes from, as logged
  LastAction lastAction;
  EditorReports editors;
  OomKills oomKills;
  WorkspaceView view;       // what the bus shows now
  WorkspaceView announced;  // what the bus was last told

  Workspace(WorkspaceRecord r, Usec historyRetention, size_t historyCapacity)
      : record(std::move(r)), history(historyRetention, historyCapacity) {}
};

}  // namespace wslgo
