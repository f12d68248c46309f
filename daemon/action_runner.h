// ActionRunner: runs the ladder's actions — GC, trim, restart with its heap profile — one per
// workspace at a time, and measures what each did.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "daemon/cache_trim.h"
#include "daemon/gopls_debug.h"
#include "daemon/scheduler.h"
#include "daemon/systemd_client.h"
#include "daemon/trim_job.h"
#include "lib/config.h"
#include "lib/levels.h"
#include "lib/result.h"
#include "lib/usec.h"

namespace wslgo {

// Where the cgroup v2 kernel reclaim of the trim rung can act, and on how much memory.
struct ReclaimTarget {
  std::string unifiedDir;
  uint64_t current = 0;
};

// What a finished action did: the effect figure (judged cgroup memory, else RSS) before and
// after, and the detail (a restart's saved profile, a trim's summary) or why it failed.
struct ActionReport {
  std::string root;
  std::string unit;
  ActionKind action = ActionKind::Gc;
  std::string reason;
  uint64_t before = 0;
  uint64_t after = 0;
  // A GC's Go heap in use just before it and right after it (unset when gopls did not say).
  std::optional<uint64_t> heapBefore;
  std::optional<uint64_t> heapAfter;
  Result<std::string> result = std::string();
};

// What the runner may see of the guard. Workspaces are looked up afresh at every step, since
// one may be removed while its action runs.
class ActionContext {
 public:
  virtual ~ActionContext() = default;

  virtual const Config& config() const = 0;
  // The workspace's debug client; nullptr once the workspace is gone.
  virtual GoplsDebug* debugClient(const std::string& root) = 0;
  // The effect figure: `fresh` reads the cgroup and gopls' RSS now, else the last tick's.
  virtual std::optional<uint64_t> effectFigure(const std::string& root, bool fresh) = 0;
  // Set when the workspace's cgroup offers memory.reclaim (cgroup v2, Linux 5.19+).
  virtual std::optional<ReclaimTarget> reclaimTarget(const std::string& root) = 0;
  // The workspace's gopls' own file cache, when its gopls is known to keep one ("" otherwise:
  // the trim falls back to where gopls keeps it by default).
  virtual std::string goplsFileCache(const std::string& root) = 0;
  // The module cache the workspace's gopls (and the go commands it runs) uses, from its own
  // environment; "" when that cannot be read: the trim falls back to the guard's.
  virtual std::string goModCache(const std::string& root) = 0;
  // Rewrites the unit's environment file from the configuration in force now, so that the
  // gopls a restart starts runs with what the user set last (gomemlimit, env, gopls.args).
  virtual Result<void> refreshUnitEnvironment(const std::string& root) = 0;
  // The unit is about to be restarted for `reason` (the action's own): its gopls goes away next.
  virtual void restartImminent(const std::string& root, const std::string& reason) = 0;
  // The unit was restarted: the old gopls' heap figures say nothing of the new one.
  virtual void unitRestarted(const std::string& root) = 0;
  // Every action ends here exactly once, before its caller's `done` runs, unless the
  // workspace's action was abandoned.
  virtual void actionFinished(const ActionReport& report) = 0;
};

// What the trim rung and the profile capture work on.
struct ActionPaths {
  std::string profileRoot;  // <state>/wslgo-guard/profiles
  GoCacheEnv caches;        // where gopls' file cache and the module cache are
  // The clock that ends a trim's slices, which must move while one runs; empty:
  // monotonicNow(). Tests freeze it so that only kTrimSliceEntries ends a slice.
  std::function<Usec()> trimSliceClock{};
};

class ActionRunner {
 public:
  // A restart's "after" is measured once the old process is gone.
  static constexpr Usec kSettleDelay = std::chrono::seconds(2);
  // A GC's freed pages reach the system as Go's scavenger returns them, over ~10 s on a large
  // gopls: "after" is read every kReleasePoll until it has not fallen by kReleaseStep of
  // "before" for kReleaseQuiet, or actions.settle has passed. No gopls (0.5.0 to v0.23.0) offers
  // a way to hand the pages back at once (debug.FreeOSMemory).
  static constexpr Usec kReleasePoll = std::chrono::seconds(1);
  static constexpr Usec kReleaseQuiet = std::chrono::seconds(3);
  static constexpr double kReleaseStep = 0.005;
  // A trim walks the caches on the loop thread, a slice at a time so that sampling and the bus
  // go on: a slice looks at kTrimSliceEntries directory entries (or deletes as many files) or
  // runs for kTrimSliceTime, whichever comes first, and the next one starts kTrimSliceGap later.
  static constexpr size_t kTrimSliceEntries = 2000;
  static constexpr Usec kTrimSliceTime = std::chrono::milliseconds(10);
  static constexpr Usec kTrimSliceGap = std::chrono::milliseconds(10);

  using Done = std::function<void(Result<ActionReport>)>;

  ActionRunner(ActionContext& context, Scheduler& scheduler, SystemdClient& systemd,
               ActionPaths paths);
  ActionRunner(const ActionRunner&) = delete;
  ActionRunner& operator=(const ActionRunner&) = delete;

  // Starts `action` on the workspace; `done` (may be empty) gets the report once the action
  // finished. A second action while one runs is refused at once with EBUSY.
  void run(const std::string& root, const std::string& unit, ActionKind action, std::string reason,
           Done done);
  std::optional<ActionKind> inFlight(const std::string& root) const;
  // The workspace is going away: its action stops where it is, its `done` gets ECANCELED, and
  // nothing of it is reported later.
  void abandon(const std::string& root);

  // Saves a heap profile of the workspace's gopls into the profile store and returns its path.
  // `requested`: an operator's CaptureHeapProfile, which always captures; before a restart it
  // is captured only when actions.restart.save_profile is on (else the path is empty).
  void captureProfile(const std::string& root, bool requested,
                      std::function<void(Result<std::string>)> done);

 private:
  struct Running {
    ActionKind action;
    std::string unit;
    std::string reason;
    uint64_t before = 0;
    Done done{};
    uint64_t serial = 0;
    Timer settle{};
    // A GC's heap figures, and how its memory fell while Go returned pages.
    std::optional<uint64_t> heapBefore{};
    std::optional<uint64_t> heapAfter{};
    Usec collectedAt{0};
    Usec lastFallAt{0};
    uint64_t lowest = 0;
    // A trim's walks between two slices; the next slice's timer is `settle`.
    std::unique_ptr<TrimJob> trim{};
  };

  // The running action a callback belongs to; nullptr when it was abandoned.
  Running* current(const std::string& root, uint64_t serial);
  void collectGarbage(const std::string& root, uint64_t serial);
  // Reads the Go heap; `then` runs with it (unset when gopls did not answer).
  void readHeap(const std::string& root, uint64_t serial,
                std::function<void(std::optional<uint64_t>)> then);
  void watchRelease(const std::string& root, uint64_t serial);
  void restart(const std::string& root, uint64_t serial);
  // RestartUnit, then the settle; after restart() has cleared a failed state.
  void restartUnit(const std::string& root, uint64_t serial, const std::string& unit,
                   const std::string& detail);
  // Reclaims, then starts the cache walks; trimSlice runs one slice of them and finishes the
  // trim when they are done.
  void trim(const std::string& root, uint64_t serial);
  void trimSlice(const std::string& root, uint64_t serial);
  // Measures "after" once kSettleDelay has passed, then finishes.
  void settleThenFinish(const std::string& root, uint64_t serial, std::string detail);
  void finish(const std::string& root, uint64_t serial, Result<std::string> result);

  ActionContext& context_;
  Scheduler& scheduler_;
  SystemdClient& systemd_;
  // Expires with the runner: systemd's answers arriving later are dropped.
  std::shared_ptr<const bool> alive_ = std::make_shared<const bool>(true);
  ActionPaths paths_;
  std::map<std::string, Running> running_;
  uint64_t nextSerial_ = 1;
};

}  // namespace wslgo
