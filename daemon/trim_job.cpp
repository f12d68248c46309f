#include "daemon/trim_job.h"

#include <cerrno>
#include <utility>

#include "lib/config_values.h"
#include "lib/policy_format.h"

namespace wslgo {

TrimJob::TrimJob(TrimPlan plan, std::string summary, Usec deadline)
    : plan_(std::move(plan)), summary_(std::move(summary)), deadline_(deadline) {}

void TrimJob::stopAtDeadline(Usec timeout) {
  if (stage_ != Stage::Done) {
    const bool pruning = stage_ == Stage::Prune;
    const std::string& dir = stage_ == Stage::DropModuleCache ? plan_.modCache : plan_.goplsCache;
    summary_ += std::string(pruning ? "stopped pruning " : "stopped dropping the page cache of ") +
                dir + " after " + formatDuration(timeout) + " (actions.trim.timeout)";
    if (prune_) {
      summary_ += ", having pruned " + std::to_string(prune_->stats().filesRemoved) + " files (" +
                  describeBytes(static_cast<double>(prune_->stats().bytesFreed)) + ")";
    }
    summary_ += "; ";
  }
  prune_.reset();
  drop_.reset();
  stage_ = Stage::Done;
}

bool TrimJob::step(SliceBudget& slice) {
  ++slices_;
  while (stage_ != Stage::Done) {
    switch (stage_) {
      case Stage::Prune:
        if (!prune(slice)) return false;
        stage_ = Stage::DropGoplsCache;
        break;
      case Stage::DropGoplsCache:
        if (!drop(plan_.goplsCache, slice)) return false;
        stage_ = Stage::DropModuleCache;
        break;
      case Stage::DropModuleCache:
        if (!drop(plan_.modCache, slice)) return false;
        stage_ = Stage::Done;
        break;
      case Stage::Done:
        break;
    }
  }
  return true;
}

bool TrimJob::prune(SliceBudget& slice) {
  if (!plan_.cacheBudget || plan_.goplsCache.empty()) return true;
  if (!prune_) {
    auto started = CachePrune::start(plan_.goplsCache, *plan_.cacheBudget, plan_.owner);
    if (!started) {
      if (started.error().code == EPERM) refusals_.push_back(started.error());
      return true;
    }
    prune_.emplace(std::move(*started));
  }
  if (!prune_->step(slice)) return false;
  const PruneStats& pruned = prune_->stats();
  summary_ += "pruned " + std::to_string(pruned.filesRemoved) + " files (" +
              describeBytes(static_cast<double>(pruned.bytesFreed)) + ") of " + plan_.goplsCache;
  if (pruned.outsideLayout > 0) {
    summary_ += ", leaving " + std::to_string(pruned.outsideLayout) +
                " files that are not gopls cache entries";
  }
  summary_ += "; ";
  prune_.reset();
  return true;
}

bool TrimJob::drop(const std::string& dir, SliceBudget& slice) {
  if (dir.empty()) return true;
  if (!drop_) {
    auto started = PageCacheDrop::start(dir);
    if (!started) return true;  // no such cache here
    drop_.emplace(std::move(*started));
  }
  if (!drop_->step(slice)) return false;
  summary_ += "dropped the page cache of " + std::to_string(drop_->stats().files) + " files in " +
              dir + "; ";
  drop_.reset();
  return true;
}

std::string TrimJob::excludeWalked(TrimPlan& plan, const std::string& walkingFor) const {
  std::string said;
  for (std::string* dir : {&plan.goplsCache, &plan.modCache}) {
    if (dir->empty() || (*dir != plan_.goplsCache && *dir != plan_.modCache)) continue;
    said += *dir + " is being trimmed for " + walkingFor + "; ";
    dir->clear();
  }
  return said;
}

}  // namespace wslgo
