// A workspace's resource controls: what the guard asks systemd for, what this host's cgroups can
// enforce for the unit (and why not), and the kernel's OOM kills in it.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "daemon/systemd_client.h"
#include "lib/cgroup_hierarchy.h"
#include "lib/config.h"
#include "lib/sys_roots.h"

namespace wslgo {

// MemoryHigh=, MemoryMax=, CPUWeight= and IOWeight= from the workspace's settings. The OOM
// score travels separately, through the unit's environment file (see lib/unit_environment.h).
ResourceControls resourceControlsFor(const WorkspaceSettings& settings);

struct ControlEnforcement {
  bool enforced = false;
  std::string why;  // empty when enforced: what the unit's cgroup lacks
};

// Per control, whether the kernel acts on it for this unit. systemd accepts every control on
// every host and writes it only where the unit has the controller, so the unit's cgroup
// directories are what tell: a normal user on a hybrid host has no v1 controller of its own.
struct ResourceEnforcement {
  ControlEnforcement memoryHigh;  // cgroup v2 memory.high; v1 has no equivalent
  ControlEnforcement memoryMax;   // v2 memory.max, or v1 memory.limit_in_bytes
  ControlEnforcement cpuWeight;   // v2 cpu.weight, or v1 cpu.shares
  ControlEnforcement ioWeight;    // v2 io.weight/io.bfq.weight, or v1 blkio.weight
  // Where the kernel counts OOM kills in the unit: memory.events (v2) or memory.oom_control (v1).
  std::optional<std::string> oomKillCounter;
  // systemd itself sees OOM kills (and reports Result "oom-kill") only on cgroup v2.
  bool systemdSeesOomKills = false;
};

// Looks at which files the unit's cgroup directories have.
ResourceEnforcement judgeEnforcement(const CgroupLayout& layout, std::string_view controlGroup,
                                     const SysRoots& roots);

// The "oom_kill N" line of memory.events (v2) or memory.oom_control (v1); nullopt without one.
std::optional<uint64_t> parseOomKillCount(std::string_view text);
std::optional<uint64_t> readOomKillCount(const std::string& counterFile);

// /proc/PID/oom_score_adj: the OOM preference the kernel applies to the process.
std::optional<int> readOomScoreAdj(const SysRoots& roots, pid_t pid);

// The kernel's OOM kills of the workspace's gopls, as the guard saw them.
struct OomKills {
  uint32_t count = 0;
  uint64_t lastWallUsec = 0;  // CLOCK_REALTIME µs of the last one
  std::string lastReason;
  std::optional<uint64_t> counterSeen;  // the last oom_kill figure read from the unit's cgroup
  uint32_t reportedPid = 0;             // the gopls the last report was for: one report each
};

}  // namespace wslgo
