// TrimJob: the trim rung's walks over gopls' file cache and the module cache, a slice at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "daemon/cache_trim.h"
#include "lib/result.h"
#include "lib/usec.h"

namespace wslgo {

struct TrimPlan {
  std::string goplsCache;               // gopls' file cache ("…/gopls"); "" for none
  std::optional<uint64_t> cacheBudget;  // actions.trim.cache_budget: prune gopls' cache to it
  PruneOwner owner;
  std::string modCache;  // the module cache; "" for none
};

// Prunes gopls' file cache (when a budget is set), then drops the page cache of gopls' file
// cache and of the module cache. Each walk keeps its place between slices; the runner decides
// when the next slice runs. A cache that is missing is passed over; one the prune refuses is
// passed over and the refusal kept for the log.
class TrimJob {
 public:
  // `summary`: what the trim did before the walks (the kernel's reclaim). `deadline`: when the
  // runner stops the walks (actions.trim.timeout after the start, on the loop's clock).
  TrimJob(TrimPlan plan, std::string summary, Usec deadline);

  // Walks on until the slice is spent; true once every walk is done.
  bool step(SliceBudget& slice);
  // Slices run so far.
  size_t slices() const { return slices_; }
  Usec deadline() const { return deadline_; }
  // The walks end here, unfinished: says so in the summary.
  void stopAtDeadline(Usec timeout);
  // What was done, "" when nothing: "pruned …; dropped the page cache of … files in …; ".
  const std::string& summary() const { return summary_; }
  // Why a cache was not pruned, for the person who set it up (a symlink, a home, a stranger's).
  const std::vector<Error>& refusals() const { return refusals_; }

  // Takes out of `plan` (a trim about to start) the directories this job walks: two walks over
  // one cache would each do the whole work. Says so for the new trim's summary ("" when it
  // shares nothing); `walkingFor` is the workspace this job runs for.
  std::string excludeWalked(TrimPlan& plan, const std::string& walkingFor) const;

 private:
  enum class Stage { Prune, DropGoplsCache, DropModuleCache, Done };

  bool prune(SliceBudget& slice);
  bool drop(const std::string& dir, SliceBudget& slice);

  TrimPlan plan_;
  std::string summary_;
  std::vector<Error> refusals_;
  Stage stage_ = Stage::Prune;
  std::optional<CachePrune> prune_;
  std::optional<PageCacheDrop> drop_;
  size_t slices_ = 0;
  Usec deadline_;
};

}  // namespace wslgo
