// The parts of the guard's GetStatus JSON (docs/dbus-api.md, schema_version 1) that
// `wslgo-guardctl doctor` and `editor-config` read, typed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/result.h"

namespace wslgo {

// A resource control of a workspace's unit: memory_high, memory_max, cpu_weight, io_weight.
struct StatusControl {
  std::string name;               // "memory_high"
  std::optional<uint64_t> value;  // nullopt: not configured
  bool enforced = false;
  std::string why;  // why not enforced, when the guard says
};

// A rung of the ladder and whether it can do anything for the workspace here.
struct StatusRung {
  std::string name;  // "gc", "trim", "restart"
  bool available = false;
  std::string why;
};

// Which gopls serves a workspace, as the guard found out by asking it.
struct StatusGopls {
  std::string version;
  bool gcPage = false;
  std::optional<bool> memStats;  // nullopt: its socket could not be asked
  std::string fileCache;         // empty: none (before v0.12, or not a release)
};

struct StatusWorkspace {
  std::string path;
  std::string unit;
  std::string socket;
  std::string editorFlags;   // "-remote=unix;<socket>"
  std::string debugAddress;  // "127.0.0.1:PORT"; empty when none
  std::string state;
  std::string memorySource;  // cgroup-v2, cgroup-v1, process-rss, none
  std::optional<uint64_t> gomemlimit;
  std::vector<StatusRung> rungs;
  std::vector<StatusControl> controls;
  // oom_score_adjust as configured, and what gopls' /proc/PID/oom_score_adj says (nullopt: not
  // running, or an older guard that does not report it).
  std::optional<int64_t> oomScoreAdjConfigured;
  std::optional<int64_t> oomScoreAdjEffective;
  std::optional<StatusGopls> gopls;  // nullopt until the guard's first probe answered
};

struct GuardStatus {
  int schemaVersion = 0;
  std::string version;
  std::string state;
  std::vector<StatusWorkspace> workspaces;
};

// Parses GetStatus' JSON. Fields this reader does not know are ignored (the schema may grow);
// a missing or mistyped field it needs is an error naming its JSON pointer.
Result<GuardStatus> parseGuardStatus(std::string_view json);

// The workspace roots GetStatus lists, in its order, read leniently: a workspace whose other
// fields this reader would refuse still counts, and what is not GetStatus' JSON gives none.
// For watch (whose histories to fetch) and shell completion, which must show what there is
// rather than fail.
std::vector<std::string> workspaceRootsIn(std::string_view json);

}  // namespace wslgo
