// The "trim caches" rung's file work: cgroup reclaim, page cache drop, gopls' cache pruning.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <string_view>

#include "lib/process_environ.h"
#include "lib/result.h"
#include "lib/sys_roots.h"
#include "lib/usec.h"

namespace wslgo {

// Asks the kernel to reclaim `bytes` from the cgroup at `cgroupDir` by writing to its
// memory.reclaim (cgroup v2, Linux 5.19+). The kernel answers EAGAIN when it could not reclaim
// all of it and never says how much it did, so that is not an error: the requested amount is
// returned and the caller measures memory.current before and after. A host without
// memory.reclaim (v1 memory controller, hybrid layout, older kernel) gets an ENOENT error, on
// which the caller falls back to dropping page cache.
Result<uint64_t> reclaimCgroupMemory(const std::string& cgroupDir, uint64_t bytes);

// Bounds on one slice of a walk over a cache directory. The daemon runs these walks on its one
// event-loop thread, and a module cache can hold hundreds of thousands of files: a walk goes a
// slice at a time and the loop runs in between.
struct SliceLimits {
  // Directory entries looked at, files advised or deleted, directories removed.
  size_t maxEntries = std::numeric_limits<size_t>::max();
  Usec maxTime = Usec::max();
  // A clock that moves while the slice runs, called when the slice starts and before each entry.
  // Empty: no time limit.
  std::function<Usec()> now;
};

// CLOCK_MONOTONIC as it is now. The loop's own now() is the time it woke up and stands still
// while a slice runs, so it cannot end one.
Usec monotonicNow();

// What is left of one slice; the walks of one slice share it.
class SliceBudget {
 public:
  explicit SliceBudget(SliceLimits limits);
  // Takes one entry's worth; false once the slice is spent (and from then on).
  bool take();
  bool spent() const { return spent_; }

 private:
  SliceLimits limits_;
  Usec start_{0};
  size_t used_ = 0;
  bool spent_ = false;
};

struct DropCacheStats {
  size_t files = 0;    // regular files advised
  uint64_t bytes = 0;  // their sizes
  size_t skipped = 0;  // entries that vanished or could not be opened during the walk
  bool stoppedAtLimit = false;
};

// Drops the page cache of every regular file under a directory with POSIX_FADV_DONTNEED, a
// slice at a time: gopls' file cache and the module cache are read once per load and then sit
// in memory charged to the unit's cgroup. Symlinks are never followed and the walk stays on the
// filesystem of the directory. Dirty pages are not written back here, so only clean cache is
// dropped. Files that vanish or cannot be opened mid-walk are counted in `skipped`.
//
// The walk keeps its place between slices as a stack of open directories (at most 64 deep),
// each opened with openat(O_NOFOLLOW | O_DIRECTORY) relative to its parent.
class PageCacheDrop {
 public:
  // Only an unreadable `dir` is an error. The directory itself may be a symlink (~/.cache on
  // another disk); nothing below it is followed.
  static Result<PageCacheDrop> start(const std::string& dir);
  PageCacheDrop(PageCacheDrop&&) noexcept;
  PageCacheDrop& operator=(PageCacheDrop&&) noexcept;
  ~PageCacheDrop();

  // Walks on until the slice is spent or the walk is complete; true once it is complete.
  bool step(SliceBudget& slice);
  const DropCacheStats& stats() const;

 private:
  struct State;
  explicit PageCacheDrop(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// The whole walk in one slice: `stoppedAtLimit` when the slice ran out first.
Result<DropCacheStats> dropPageCache(const std::string& dir, const SliceLimits& limits = {});

struct PruneStats {
  size_t filesRemoved = 0;
  uint64_t bytesFreed = 0;
  size_t dirsRemoved = 0;  // directories of the layout left empty by the removals
  uint64_t bytesLeft = 0;  // what remains of the cache entries that were looked at
  size_t notOwned = 0;     // cache entries of another user, never deleted nor counted
  // Regular files met in the cache and the layout's directories that are not gopls cache
  // entries: left alone. (Directories outside the layout are not entered.)
  size_t outsideLayout = 0;
  size_t passes = 0;  // scans of the cache (more than one when the oldest did not fit)
  bool stoppedAtLimit = false;
};

// Whose cache it is: a prune refuses a directory that is `home` or above it, or that `owner` does
// not own, and deletes only files `owner` owns.
struct PruneOwner {
  std::string home;  // "" when unknown: no home check
  uid_t uid = 0;
};

// How many of the oldest cache entries a pass keeps in memory (72 bytes each, 4.5 MiB in all).
// A cache with more entries to delete than that is pruned over several passes, each a new scan.
inline constexpr size_t kPruneMaxCandidates = 65536;
// Scans of one prune at most: 16 × kPruneMaxCandidates entries, over a million.
inline constexpr size_t kPruneMaxPasses = 16;

// Deletes gopls' oldest cache entries (by modification time, then access time: gopls touches an
// entry's times when it uses it) under gopls' file cache `dir` (the ".../gopls" directory) until
// their total size is at most `budgetBytes`, then removes the layout's directories those
// deletions left empty, a slice at a time.
//
// Only files in gopls' own layout are cache entries (gopls/internal/filecache/filecache.go,
// `filename` and `getCacheDir`, the same from v0.12.0 through v0.23.0):
//
//   <dir>/VVVVVVVV/KK/KKKK…KKKK-kind
//
// VVVVVVVV is 8 lowercase hex digits (32 bits of the SHA-256 of the gopls executable), KK the
// first two of the 64 lowercase hex digits of the entry's key, and kind the entry's namespace
// ("analysis", "cas", "xrefs", "bug"…: lowercase letters, digits, '-' and '_'). Anything else —
// a file directly in <dir> or in a version directory (exe.sha256), another name, a deeper
// directory, the kind directories of the v0.12.0 pre-releases (which any later gopls deletes
// within 5 days, its own GC's maximum age) — is never deleted, even a regular file the owner
// owns.
//
// Never `dir` itself, never a symlink or anything reached through one, never anything on another
// filesystem, never a file another user owns, never an entry gopls used since the scan saw it.
// Refuses a `dir` that is itself a symlink (a ~/.cache/gopls linked to ~/Documents once had every
// document deleted), "/" and any directory with fewer than two path components (after resolving
// symlinks above `dir`), the owner's home and its ancestors, and a directory the owner does not
// own: a mistaken setting must not empty a home or a system directory.
//
// Meant only for gopls' own cache: the module cache is the user's data.
//
// The scan keeps its place between slices (at most three open directories), enters at most
// 1,024 version directories and 65,536 subdirectories, and keeps the `maxCandidates` oldest
// entries it met; nothing is deleted before a scan is complete, since the
// oldest files may not have been seen yet. The deletions reach each file again from the root
// through descriptors, checking every directory and the file are still the ones scanned.
class CachePrune {
 public:
  static Result<CachePrune> start(const std::string& dir, uint64_t budgetBytes,
                                  const PruneOwner& owner,
                                  size_t maxCandidates = kPruneMaxCandidates);
  CachePrune(CachePrune&&) noexcept;
  CachePrune& operator=(CachePrune&&) noexcept;
  ~CachePrune();

  // Scans or deletes on until the slice is spent or the prune is complete; true once it is.
  bool step(SliceBudget& slice);
  const PruneStats& stats() const;

 private:
  struct State;
  explicit CachePrune(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// The whole prune in one slice: when the slice runs out during the scan nothing is deleted, and
// `stoppedAtLimit` is set either way.
Result<PruneStats> pruneCacheToBudget(const std::string& dir, uint64_t budgetBytes,
                                      const PruneOwner& owner, const SliceLimits& limits = {});

// The environment values the cache locations depend on; empty when unset.
struct GoCacheEnv {
  std::string goplsCache;    // $GOPLSCACHE (gopls v0.12.0 on: instead of the user cache dir)
  std::string xdgCacheHome;  // $XDG_CACHE_HOME
  std::string goModCache;    // $GOMODCACHE
  std::string goPath;        // $GOPATH, a list separated by ':'
  std::string home;          // $HOME
};

// gopls' file cache as gopls (v0.12.0 on) finds it: $GOPLSCACHE/gopls, else
// os.UserCacheDir()/gopls, that is $XDG_CACHE_HOME/gopls or $HOME/.cache/gopls
// (gopls/internal/filecache/filecache.go, getCacheDir: GOPLSCACHE names the directory the
// "gopls" directory goes in, like the user cache directory). Relative values are ignored (recent
// Go rejects them too, and the daemon's working directory is not gopls'). Empty when nothing
// resolves.
std::string goplsCacheDir(const GoCacheEnv& env);

// The cache locations as a process' own environment gives them.
GoCacheEnv goCacheEnvOf(const ProcessEnviron& environment);

// gopls' file cache as the running gopls `pid` finds it: goplsCacheDir over its own environment
// (/proc/PID/environ under `roots`), which is the truth where the guard's environment and the
// workspace's configuration are guesses (a launcher, an editor or a shell profile may set
// GOPLSCACHE or XDG_CACHE_HOME). "" when that environment resolves to nothing; an error when it
// cannot be read (gone, another user's, over kMaxEnvironBytes).
Result<std::string> goplsCacheDirOfProcess(const SysRoots& roots, pid_t pid);

// The module cache as the go command finds it: $GOMODCACHE, else the first $GOPATH entry +
// /pkg/mod, else $HOME/go/pkg/mod. A GOMODCACHE set with `go env -w` lives in go's own env file
// and is not seen here. Relative values are ignored, as the go command refuses them. Empty when
// nothing resolves.
std::string goModCacheDir(const GoCacheEnv& env);

}  // namespace wslgo
