// The guard's state as the bus and people see it: pure functions from a workspace's facts to
// its WorkspaceView, GetStatus' JSON and the sd_notify STATUS= line.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "daemon/systemd_client.h"
#include "daemon/views.h"
#include "daemon/workspace.h"
#include "daemon/workspace_resources.h"
#include "lib/cgroup_memory.h"
#include "lib/config.h"
#include "lib/levels.h"
#include "lib/policy_snapshot.h"
#include "lib/policy_state.h"
#include "lib/workspace_registry.h"

namespace wslgo {

// Everything a workspace's published state is made of.
struct WorkspaceFacts {
  const WorkspaceRecord& record;
  const UnitInfo& unit;
  std::string debugAddress;  // of the gopls running now; empty without one
  const WorkspaceSnapshot& snapshot;
  const WorkspaceSettings& settings;
  const WorkspaceState* policy;  // nullptr until the engine has seen the workspace
  std::optional<ActionKind> inFlight;
  const LastAction& lastAction;
  const GoplsOffer* gopls = nullptr;  // nullptr until its gopls has been probed
  const RungAvailability& rungs;
  // What the unit's cgroup enforces; nullptr until the cgroup is known.
  const ResourceEnforcement* enforcement = nullptr;
  std::optional<int> oomScoreAdj;  // gopls' /proc/PID/oom_score_adj; unset when not running
  OomKills oomKills;
  MemorySource memorySource = MemorySource::None;
  uint32_t editors = 0;  // editor connections session keepers relay to its gopls
};

// "restarting" while the guard restarts it, "degraded" once it stopped restarting it (limit or
// crash loop), "over-budget" when a restart cannot help it, then the unit's own trouble ("failed",
// "starting", "stopped"), else its level
// ("running" at ok).
std::string workspaceState(const WorkspaceFacts& facts);
WorkspaceView workspaceView(const WorkspaceFacts& facts);

// A gopls process the guard did not start (an editor's own, a forwarder): reported, never
// touched.
struct OtherGopls {
  pid_t pid = 0;
  pid_t parent = 0;  // a current gopls' telemetry child has the daemon as parent
  std::string role;
  std::string directory;
  std::optional<uint64_t> rss;
};

struct StatusFacts {
  const ManagerView& manager;
  const std::vector<std::string>& configFiles;
  const std::vector<WorkspaceFacts>& workspaces;
  // Ours are left out: a workspace's MainPID and its children (a current gopls starts a
  // "gopls ** telemetry **" child in its unit's cgroup).
  const std::vector<OtherGopls>& otherGopls;
};

// GetStatus' JSON (schema in docs/dbus-api.md).
std::string statusJson(const StatusFacts& facts);
// "ok: 2 workspaces, MemAvailable 80%" for sd_notify STATUS=.
std::string statusLine(const ManagerView& manager, size_t workspaceCount);

}  // namespace wslgo
