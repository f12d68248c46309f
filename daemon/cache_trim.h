// The "trim caches" rung's file work: cgroup reclaim, page cache drop, gopls' cache pruning.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <string_view>

#include "lib/result.h"
#include "lib/usec.h"

namespace wslgo {

// Asks the kernel to reclaim `bytes` from the cgroup at `cgroupDir` by writing to its
// memory.reclaim (cgroup v2, Linux 5.19+). The kernel answers EAGAIN when it could not reclaim
// all of it and never says how much it did, so that is not an error: the requested amount is
// returned and the caller measures memory.current before and after. A host without
// memory.reclaim (v1 memory controller, hybrid layout, older kernel) gets an ENOENT error, on
// which the caller falls back to dropping page cache.
Result<uint64_t> reclaimCgroupMemory(const std::string& cgroupDir, uint64_t bytes);

// Bounds on a walk over a cache directory. The daemon runs these walks on its one event-loop
// thread, and a module cache can hold hundreds of thousands of files.
struct WalkLimits {
  size_t maxFiles = std::numeric_limits<size_t>::max();
  Usec maxTime = Usec::max();
  // A monotonic clock, called once before the walk and once per file. Empty: no time limit.
  std::function<Usec()> now;
};

using DropCacheLimits = WalkLimits;

struct DropCacheStats {
  size_t files = 0;    // regular files advised
  uint64_t bytes = 0;  // their sizes
  size_t skipped = 0;  // entries that vanished or could not be opened during the walk
  bool stoppedAtLimit = false;
};

// Drops the page cache of every regular file under `dir` with POSIX_FADV_DONTNEED: gopls' file
// cache and the module cache are read once per load and then sit in memory charged to the
// unit's cgroup. Symlinks are never followed and the walk stays on the filesystem of `dir`.
// Dirty pages are not written back here, so only clean cache is dropped. Files that vanish or
// cannot be opened mid-walk are counted in `skipped`; only an unreadable `dir` is an error.
Result<DropCacheStats> dropPageCache(const std::string& dir, const DropCacheLimits& limits = {});

struct PruneStats {
  size_t filesRemoved = 0;
  uint64_t bytesFreed = 0;
  size_t dirsRemoved = 0;  // directories left empty by the removals
  uint64_t bytesLeft = 0;  // what remains of the files that were looked at
  size_t notOwned = 0;     // files of another user, never deleted nor counted
  bool stoppedAtLimit = false;
};

// Whose cache it is: a prune refuses a directory that is `home` or above it, or that `owner` does
// not own, and deletes only files `owner` owns.
struct PruneOwner {
  std::string home;  // "" when unknown: no home check
  uid_t uid = 0;
};

// Deletes the oldest regular files under `dir` (by modification time, then access time: gopls
// touches a cache entry's mtime when it uses it) until their total size is at most
// `budgetBytes`, then removes the directories those deletions left empty. Never `dir` itself,
// never a symlink or anything reached through one, never anything on another filesystem, never
// a file another user owns. Refuses a `dir` that is itself a symlink (a ~/.cache/gopls linked to
// ~/Documents once had every document deleted), "/" and any directory with fewer than two path
// components (after resolving symlinks above `dir`), the owner's home and its ancestors, and a
// directory the owner does not own: a mistaken setting must not empty a home or a system
// directory.
//
// Meant only for gopls' own cache: the module cache is the user's data.
//
// When a limit cuts the scan short nothing is deleted (the oldest files may not have been seen
// yet) and `stoppedAtLimit` is set; a limit reached while deleting stops the deletions there.
Result<PruneStats> pruneCacheToBudget(const std::string& dir, uint64_t budgetBytes,
                                      const PruneOwner& owner, const WalkLimits& limits = {});

// The environment values the cache locations depend on; empty when unset.
struct GoCacheEnv {
  std::string goplsCache;    // $GOPLSCACHE (newer gopls: overrides its cache directory)
  std::string xdgCacheHome;  // $XDG_CACHE_HOME
  std::string goModCache;    // $GOMODCACHE
  std::string goPath;        // $GOPATH, a list separated by ':'
  std::string home;          // $HOME
};

// gopls' file cache as gopls finds it: $GOPLSCACHE, else os.UserCacheDir()/gopls, that is
// $XDG_CACHE_HOME/gopls or $HOME/.cache/gopls. Relative values are ignored (recent Go rejects
// them too, and the daemon's working directory is not gopls'). Empty when nothing resolves.
std::string goplsCacheDir(const GoCacheEnv& env);

// The module cache as the go command finds it: $GOMODCACHE, else the first $GOPATH entry +
// /pkg/mod, else $HOME/go/pkg/mod. A GOMODCACHE set with `go env -w` lives in go's own env file
// and is not seen here. Relative values are ignored, as the go command refuses them. Empty when
// nothing resolves.
std::string goModCacheDir(const GoCacheEnv& env);

}  // namespace wslgo
