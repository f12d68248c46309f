// Config: the validated, compiled configuration of the guard (see docs/configuration.md).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "lib/levels.h"
#include "lib/result.h"
#include "lib/usec.h"

namespace wslgo {

// Where a metric's levels begin. Unset levels are skipped. The unit is the metric's: bytes for
// memory figures, percent of wall time for PSI. For metrics where lower is worse
// (MemAvailable) `higherIsWorse` is false and the levels are ordered the other way round.
struct Thresholds {
  std::optional<double> warning;
  std::optional<double> high;
  std::optional<double> critical;
  // A level is entered only after the metric stayed beyond it this long ("above for 10s").
  Usec sustain{0};
  // A level clears only once the metric is below value * (1 - hysteresis) (above
  // value * (1 + hysteresis) when lower is worse), so a value hovering at the line does not flap.
  double hysteresis = 0;
  bool higherIsWorse = true;

  bool enabled() const { return warning || high || critical; }
  std::optional<double> at(Level level) const;
};

// Byte figures and thresholds are held as doubles (PSI percentages share the type): a byte figure
// as the whole number it is, 0 when unset.
inline uint64_t wholeBytes(std::optional<double> value) {
  return value ? static_cast<uint64_t>(*value) : 0;
}

struct WorkspaceSettings {
  Thresholds memory;                // the unit's cgroup memory
  bool excludeInactiveFile = true;  // judge memory minus inactive file cache (cheap to reclaim)
  Thresholds rss;                   // sum of the unit's processes' RSS
  Thresholds heap;                  // Go heap in use, from gopls' debug server
  // Fast growth triggers an early GC before any threshold: slope over `growthWindow`.
  std::optional<uint64_t> growthBytesPerMinute;
  Usec growthWindow{std::chrono::minutes(2)};
  bool important = false;              // picked last when the system needs relief
  std::optional<uint64_t> gomemlimit;  // GOMEMLIMIT for gopls; unset: none
  std::optional<uint64_t> memoryHigh;  // runtime MemoryHigh= on the unit; unset: none
  std::optional<uint64_t> memoryMax;   // runtime MemoryMax= on the unit; unset: none
  // gopls' /proc/PID/oom_score_adj, set by the unit's launcher: above the editor's 0, so the
  // kernel's OOM killer picks gopls (which comes back at once) rather than the editor.
  int oomScoreAdjust = 500;
  // Runtime CPUWeight= and IOWeight= on the unit: below systemd's default 100, so indexing
  // yields to the user's other work.
  unsigned cpuWeight = 50;
  unsigned ioWeight = 50;
  std::map<std::string, std::string> env;  // extra environment for gopls (GOFLAGS, GOPATH…)
};

enum class ReliefPick { Largest, FastestGrowing };

struct SystemSettings {
  Thresholds memAvailable;       // bytes; lower is worse
  Thresholds pressureSomeAvg10;  // percent
  Thresholds pressureFullAvg10;  // percent
  ReliefPick reliefPick = ReliefPick::Largest;
};

// The longest guard.history and growth window accepted: both are kept in memory, per workspace
// (see also kMaxHistorySamples and GrowthTracker::kMaxReadings, which bound them in samples).
inline constexpr Usec kMaxHistory = std::chrono::hours(24);
inline constexpr Usec kMaxGrowthWindow = std::chrono::hours(1);

struct GuardSettings {
  Usec sampleInterval{std::chrono::seconds(2)};
  Usec fastSampleInterval{std::chrono::milliseconds(250)};  // used near a threshold
  Usec heapInterval{std::chrono::seconds(30)};
  Usec history{std::chrono::hours(1)};
  bool dryRun = false;
};

struct GoplsSettings {
  std::string path;               // empty: $GOPLS, ~/go/bin/gopls, then PATH
  std::vector<std::string> args;  // extra arguments for the gopls daemon
  bool allowNonModule = false;    // accept workspaces without go.mod / go.work
  // gopls runs with -debug on a fresh loopback port (heap figures, profiles, GC by HTTP). Off:
  // no debug server that other local users could reach; GC only through gopls.mem_stats.
  bool debugServer = true;
};

// What the session keeper (wslgo-lsp) may ask of the guard.
struct KeeperSettings {
  // An editor's folder that no workspace holds makes its Go module a workspace (AttachEditor).
  bool autoAdd = true;
};

struct LadderRung {
  ActionKind action = ActionKind::Gc;
  Level level = Level::Warning;  // the level from which this rung may run
};

struct ActionTiming {
  Usec cooldown{0};
  Usec timeout{0};
};

struct GcSettings : ActionTiming {
  double minFreed = 0.1;  // a GC freeing less than this share of memory counts as ineffective
};

struct TrimSettings : ActionTiming {
  // gopls' on-disk cache is pruned to this many bytes, oldest first; unset (the default):
  // nothing is deleted. Pruning a disk cache frees no RAM, and deleting is opt-in.
  std::optional<uint64_t> cacheBudget;
};

struct RestartSettings : ActionTiming {
  unsigned maxRestarts = 3;  // at most this many restarts per workspace within `window`…
  Usec window{std::chrono::minutes(30)};  // …after which the workspace is degraded
  bool saveProfile = true;                // capture a heap profile before restarting
  // After a restart, how long the guard watches what the new gopls reloads to: a workspace
  // that reaches the level it was restarted for within it is over budget.
  Usec reloadWindow{std::chrono::minutes(2)};
};

struct ActionSettings {
  std::vector<LadderRung> ladder;         // ordered lowest rung first
  Usec settle{std::chrono::seconds(30)};  // time an action gets to show its effect
  GcSettings gc;
  TrimSettings trim;
  RestartSettings restart;
};

struct ProfileSettings {
  unsigned keep = 10;                     // newest heap profiles kept per workspace
  uint64_t maxTotalBytes = 256ull << 20;  // and at most this many bytes of them in all
};

struct Config {
  GuardSettings guard;
  GoplsSettings gopls;
  KeeperSettings keeper;
  SystemSettings system;
  ActionSettings actions;
  ProfileSettings profiles;
  WorkspaceSettings defaults;                           // workspaces.default
  std::map<std::string, WorkspaceSettings> workspaces;  // keyed by absolute workspace root
  std::vector<std::string> files;                       // the layers read, lowest first

  // The settings of a workspace root: its override if one is configured, else the defaults.
  const WorkspaceSettings& forWorkspace(const std::string& root) const;
};

// The layers, lowest first: the shipped default, /etc/wslgo-guard/config.json, then
// $XDG_CONFIG_HOME/wslgo-guard/config.json. A missing optional layer is skipped; a missing
// default layer is an error.
struct ConfigLayer {
  std::string path;
  bool required = false;
};

// The pure form: xdgConfigHome and home are the values of $XDG_CONFIG_HOME and $HOME, empty
// when unset. Per the XDG spec a relative $XDG_CONFIG_HOME is ignored (~/.config is used); with
// neither there is no user layer.
std::vector<ConfigLayer> standardConfigLayers(const std::string& defaultFile,
                                              const std::string& xdgConfigHome,
                                              const std::string& home);
// Reads $XDG_CONFIG_HOME and $HOME from the environment.
std::vector<ConfigLayer> standardConfigLayers(const std::string& defaultFile);

// Parses and validates the layers. Sizes given as a percentage resolve against memTotal.
// `home` expands "~/" in workspace keys and gopls.path, and is shown as "~" in messages. Every
// problem found is reported, one "FILE: /json/pointer: what is wrong" line each (see
// ConfigProblems::toError and docs/configuration.md).
Result<Config> loadConfig(const std::vector<ConfigLayer>& layers, uint64_t memTotal,
                          const std::string& home);

}  // namespace wslgo
