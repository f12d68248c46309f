#include "daemon/action_runner.h"

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <utility>

#include "daemon/logging.h"
#include "daemon/profile_store.h"
#include "lib/policy_format.h"
#include "lib/unit_name.h"

namespace wslgo {
namespace {

std::shared_ptr<spdlog::logger> log() {
  static auto logger = componentLogger("actions");
  return logger;
}

Error busyError(const std::string& root, ActionKind running) {
  return errnoError(
      EBUSY, root,
      "has a " + std::string(toString(running)) + " in progress; try again when it finished");
}

Error goneError(const std::string& root) {
  return errnoError(ESRCH, root, "was removed while the action ran");
}

}  // namespace

ActionRunner::ActionRunner(ActionContext& context, Scheduler& scheduler, SystemdClient& systemd,
                           ActionPaths paths)
    : context_(context), scheduler_(scheduler), systemd_(systemd), paths_(std::move(paths)) {}

std::optional<ActionKind> ActionRunner::inFlight(const std::string& root) const {
  auto it = running_.find(root);
  if (it == running_.end()) return std::nullopt;
  return it->second.action;
}

ActionRunner::Running* ActionRunner::current(const std::string& root, uint64_t serial) {
  auto it = running_.find(root);
  return it == running_.end() || it->second.serial != serial ? nullptr : &it->second;
}

void ActionRunner::run(const std::string& root, const std::string& unit, ActionKind action,
                       std::string reason, Done done) {
  if (auto running = inFlight(root)) {
    if (done) done(busyError(root, *running));
    return;
  }
  auto before = context_.effectFigure(root, /*fresh=*/false);
  if (!before) {
    if (done) done(errnoError(ESRCH, root, "is not a guarded workspace"));
    return;
  }
  const uint64_t serial = nextSerial_++;
  running_[root] = Running{.action = action,
                           .unit = unit,
                           .reason = std::move(reason),
                           .before = *before,
                           .done = std::move(done),
                           .serial = serial,
                           .settle = {}};
  switch (action) {
    case ActionKind::Gc:
      return collectGarbage(root, serial);
    case ActionKind::Trim:
      return trim(root, serial);
    case ActionKind::Restart:
      return restart(root, serial);
  }
}

void ActionRunner::abandon(const std::string& root) {
  auto it = running_.find(root);
  if (it == running_.end()) return;
  Running running = std::move(it->second);
  running_.erase(it);  // cancels the settle timer with it
  log()->info("{}: {} abandoned: the workspace is being removed", root, toString(running.action));
  if (running.done) {
    running.done(
        errnoError(ECANCELED, root,
                   "was removed while its " + std::string(toString(running.action)) + " ran"));
  }
}

void ActionRunner::collectGarbage(const std::string& root, uint64_t serial) {
  // The heap before, the GC, the heap right after (it falls at once), then the memory as Go
  // returns the pages.
  readHeap(root, serial, [this, root, serial](std::optional<uint64_t> heapBefore) {
    Running* running = current(root, serial);
    GoplsDebug* debug = context_.debugClient(root);
    if (running == nullptr) return;
    if (debug == nullptr) return finish(root, serial, goneError(root));
    running->heapBefore = heapBefore;
    debug->collectGarbage(
        context_.config().actions.gc.timeout, [this, root, serial](Result<void> collected) {
          if (current(root, serial) == nullptr) return;
          if (!collected) return finish(root, serial, collected.error());
          readHeap(root, serial, [this, root, serial](std::optional<uint64_t> heapAfter) {
            Running* running = current(root, serial);
            if (running == nullptr) return;
            running->heapAfter = heapAfter;
            running->collectedAt = running->lastFallAt = scheduler_.now();
            running->lowest = running->before;
            watchRelease(root, serial);
          });
        });
  });
}

void ActionRunner::readHeap(const std::string& root, uint64_t serial,
                            std::function<void(std::optional<uint64_t>)> then) {
  GoplsDebug* debug = context_.debugClient(root);
  if (debug == nullptr) return then(std::nullopt);
  debug->readHeapStats(context_.config().actions.gc.timeout,
                       [this, root, serial, then = std::move(then)](Result<HeapStats> stats) {
                         if (current(root, serial) == nullptr) return;
                         then(stats ? std::optional<uint64_t>(stats->heapInuse) : std::nullopt);
                       });
}

void ActionRunner::watchRelease(const std::string& root, uint64_t serial) {
  Running* running = current(root, serial);
  if (running == nullptr) return;
  const Usec now = scheduler_.now();
  auto figure = context_.effectFigure(root, /*fresh=*/true);
  if (!figure) return finish(root, serial, goneError(root));
  const auto step = static_cast<uint64_t>(static_cast<double>(running->before) * kReleaseStep);
  if (*figure + step <= running->lowest) {
    running->lowest = *figure;
    running->lastFallAt = now;
  }
  const bool settled = now - running->lastFallAt >= kReleaseQuiet;
  const bool outOfTime = now - running->collectedAt >= context_.config().actions.settle;
  if (settled || outOfTime) return finish(root, serial, std::string());
  auto timer = scheduler_.addOneShotTimer(
      kReleasePoll, [this, root, serial](Usec) { watchRelease(root, serial); });
  if (!timer) return finish(root, serial, std::string());
  running->settle = std::move(*timer);
}

void ActionRunner::restart(const std::string& root, uint64_t serial) {
  captureProfile(root, /*requested=*/false, [this, root, serial](Result<std::string> profile) {
    Running* running = current(root, serial);
    if (running == nullptr) return;
    // A failed capture costs the profile, never the restart: memory is what matters now.
    if (!profile) {
      log()->warn("{}: no heap profile before the restart: {}", root, profile.error().describe());
    }
    // Likewise a stale environment file costs the new settings, not the restart.
    if (auto written = context_.refreshUnitEnvironment(root); !written) {
      log()->warn("{}: restarting with the unit's previous environment file: {}", root,
                  written.error().describe());
    }
    context_.restartImminent(root, running->reason);
    // systemd refuses every start of a unit it gave up on (its start limit, after a crash loop)
    // until its failed state is reset: e2e 4_crash's ten kills in a minute left a Restart whose
    // job failed at once. Resetting a unit that has not failed changes nothing but systemd's
    // start counter; the guard's own restart limits bound what it restarts.
    systemd_.resetFailed(
        running->unit, [this, alive = std::weak_ptr<const bool>(alive_), root, serial,
                        detail = profile ? *profile : std::string()](Result<void> reset) {
          if (alive.expired()) return;
          Running* still = current(root, serial);
          if (still == nullptr) return;
          if (!reset) {
            log()->debug("{}: reset-failed before the restart: {}", root, reset.error().describe());
          }
          restartUnit(root, serial, still->unit, detail);
        });
  });
}

void ActionRunner::restartUnit(const std::string& root, uint64_t serial, const std::string& unit,
                               const std::string& detail) {
  systemd_.restartUnit(unit, "replace",
                       [this, alive = std::weak_ptr<const bool>(alive_), root, serial,
                        detail](Result<std::string> job) {
                         if (alive.expired() || current(root, serial) == nullptr) return;
                         if (!job) return finish(root, serial, job.error());
                         context_.unitRestarted(root);
                         settleThenFinish(root, serial, detail);
                       });
}

void ActionRunner::settleThenFinish(const std::string& root, uint64_t serial, std::string detail) {
  Running* running = current(root, serial);
  if (running == nullptr) return;
  auto timer = scheduler_.addOneShotTimer(
      kSettleDelay, [this, root, serial, detail](Usec) { finish(root, serial, detail); });
  if (!timer) return finish(root, serial, std::move(detail));
  running->settle = std::move(*timer);
}

void ActionRunner::finish(const std::string& root, uint64_t serial, Result<std::string> result) {
  auto it = running_.find(root);
  if (it == running_.end() || it->second.serial != serial) return;
  Running running = std::move(it->second);
  running_.erase(it);
  // The settle timer may be the caller: it lives on in `running` until this returns.
  auto after = context_.effectFigure(root, /*fresh=*/true);
  if (!after) {
    if (running.done) running.done(goneError(root));
    return;
  }
  ActionReport report{.root = root,
                      .unit = running.unit,
                      .action = running.action,
                      .reason = running.reason,
                      .before = running.before,
                      .after = *after,
                      .heapBefore = running.heapBefore,
                      .heapAfter = running.heapAfter,
                      .result = std::move(result)};
  context_.actionFinished(report);
  if (!running.done) return;
  if (!report.result) return running.done(report.result.error());
  running.done(std::move(report));
}

void ActionRunner::trim(const std::string& root, uint64_t serial) {
  Running* running = current(root, serial);
  if (running == nullptr) return;
  std::string summary;
  const Config& config = context_.config();
  // cgroup v2 with memory.reclaim: ask the kernel to reclaim what is above the warning line.
  if (auto target = context_.reclaimTarget(root)) {
    const uint64_t warning = wholeBytes(config.forWorkspace(root).memory.warning);
    const uint64_t excess =
        target->current > warning ? target->current - warning : target->current / 10;
    if (reclaimCgroupMemory(target->unifiedDir, excess)) {
      summary += "asked the kernel to reclaim " + describeBytes(static_cast<double>(excess)) + "; ";
    }
  }
  std::string goplsCache = context_.goplsFileCache(root);
  if (goplsCache.empty()) goplsCache = goplsCacheDir(paths_.caches);
  TrimPlan plan{.goplsCache = std::move(goplsCache),
                // Deleting is opt-in (actions.trim.cache_budget): a pruned disk cache frees no
                // RAM, and the page cache dropped after it is what the rung is for.
                .cacheBudget = config.actions.trim.cacheBudget,
                .owner = PruneOwner{.home = paths_.caches.home, .uid = ::geteuid()},
                .modCache = context_.goModCache(root)};
  if (plan.modCache.empty()) plan.modCache = goModCacheDir(paths_.caches);
  // Workspaces share gopls' cache and the module cache: one walk over a directory at a time.
  for (const auto& [other, action] : running_) {
    if (action.trim) summary += action.trim->excludeWalked(plan, other);
  }
  running->trim = std::make_unique<TrimJob>(std::move(plan), std::move(summary),
                                            scheduler_.now() + config.actions.trim.timeout);
  trimSlice(root, serial);
}

void ActionRunner::trimSlice(const std::string& root, uint64_t serial) {
  Running* running = current(root, serial);
  if (running == nullptr || !running->trim) return;
  TrimJob& job = *running->trim;
  SliceBudget slice(SliceLimits{
      .maxEntries = kTrimSliceEntries,
      .maxTime = kTrimSliceTime,
      .now = paths_.trimSliceClock ? paths_.trimSliceClock : std::function<Usec()>(monotonicNow)});
  // A walk that outlasts actions.trim.timeout ends with what it did; the next trim starts over.
  if (scheduler_.now() >= job.deadline()) {
    job.stopAtDeadline(context_.config().actions.trim.timeout);
  } else if (!job.step(slice)) {
    auto timer = scheduler_.addOneShotTimer(
        kTrimSliceGap, [this, root, serial](Usec) { trimSlice(root, serial); });
    if (timer) {
      running->settle = std::move(*timer);
      return;
    }
    log()->warn("{}: trim stopped after {} slices: {}", root, job.slices(),
                timer.error().describe());
  }
  for (const Error& refusal : job.refusals()) {
    // A refusal is news for the person who set the cache up; a missing cache is not.
    log()->warn("{}: {}", root, refusal.describe());
  }
  log()->debug("{}: trim walked the caches in {} slices", root, job.slices());
  if (job.summary().empty()) {
    return finish(root, serial,
                  errnoError(ENOENT, root,
                             "nothing to trim: no memory.reclaim and no gopls or module cache "
                             "found"));
  }
  finish(root, serial, job.summary());
}

void ActionRunner::captureProfile(const std::string& root, bool requested,
                                  std::function<void(Result<std::string>)> done) {
  const Config& config = context_.config();
  if (!requested && !config.actions.restart.saveProfile) return done(std::string());
  GoplsDebug* debug = context_.debugClient(root);
  if (debug == nullptr) return done(errnoError(ESRCH, root, "is not a guarded workspace"));
  auto key = escapeUnitPath(root);
  if (!key) return done(key.error());
  ProfileStore store(paths_.profileRoot, config.profiles.keep, config.profiles.maxTotalBytes);
  const auto wallNow = std::chrono::system_clock::time_point(
      std::chrono::microseconds(static_cast<int64_t>(scheduler_.wallNowUsec())));
  auto path =
      store.newProfilePath(*key, std::chrono::time_point_cast<SystemTime::duration>(wallNow));
  if (!path) return done(path.error());
  debug->saveHeapProfile(
      *path, config.actions.restart.timeout,
      [root, file = *path, done = std::move(done), store](Result<uint64_t> saved) mutable {
        if (!saved) {
          std::error_code ignored;
          std::filesystem::remove(file, ignored);
          return done(saved.error());
        }
        if (auto pruned = store.enforceLimits(); !pruned) {
          log()->warn("{}: keeping profiles within limits: {}", root, pruned.error().describe());
        }
        // A profile larger than profiles.max_total goes at once: a path to a deleted file would
        // send the person looking for it on a chase.
        if (std::error_code missing; !std::filesystem::exists(file, missing)) {
          return done(
              errnoError(EFBIG, file,
                         "the profile was " + describeBytes(static_cast<double>(*saved)) +
                             ", more than profiles.max_total allows, and was not kept; raise "
                             "profiles.max_total to keep profiles this large"));
        }
        done(file);
      });
}

}  // namespace wslgo
