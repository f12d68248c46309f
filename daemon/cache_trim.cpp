#include "daemon/cache_trim.h"
#include "daemon/unique_fd.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cstdlib>
#include <optional>
#include <tuple>
#include <utility>
#include <vector>

#include "lib/file_path.h"

namespace wslgo {
namespace {

// Deeper than any cache gopls or the go command writes; a guard against a pathological tree
// exhausting descriptors, since the walk holds one per level.
constexpr int kMaxDepth = 64;

bool isDotOrDotDot(const char* name) {
  return name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'));
}

// A subdirectory opened without following a symlink, and only if it is still the directory
// that fstatat saw (not swapped for another between the two calls).
UniqueFd openSubdir(int parentFd, const char* name, dev_t dev, ino_t ino) {
  UniqueFd fd(::openat(parentFd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) return fd;
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0 || st.st_dev != dev || st.st_ino != ino) fd.reset();
  return fd;
}

// A depth-first walk by descriptors: every entry is reached with openat/fstatat relative to
// its parent's descriptor, so a symlink or a rename elsewhere cannot lead it outside the tree.
// Directories on another filesystem (mount points) are not entered.
class TreeWalk {
 public:
  TreeWalk(dev_t dev, const WalkLimits& limits) : dev_(dev), limits_(limits) {
    if (limits_.now) start_ = limits_.now();
  }

  std::function<void(int dirFd, const char* name, const struct stat& st)> onFile;
  std::function<void(const char* name, const struct stat& st)> enterDir;
  std::function<void()> leaveDir;

  // Takes ownership of dirFd.
  void walk(UniqueFd dirFd, int depth) {
    DIR* dir = ::fdopendir(dirFd.get());
    if (dir == nullptr) {
      ++skipped;
      return;
    }
    dirFd.release();
    while (!stopped) {
      errno = 0;
      const dirent* entry = ::readdir(dir);
      if (entry == nullptr) break;
      if (isDotOrDotDot(entry->d_name)) continue;
      struct stat st {};
      if (::fstatat(::dirfd(dir), entry->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        ++skipped;  // vanished since readdir, or not ours to look at
        continue;
      }
      if (st.st_dev != dev_) continue;
      if (S_ISDIR(st.st_mode)) {
        if (depth + 1 > kMaxDepth) {
          ++skipped;
          continue;
        }
        UniqueFd sub = openSubdir(::dirfd(dir), entry->d_name, st.st_dev, st.st_ino);
        if (!sub.valid()) {
          ++skipped;
          continue;
        }
        if (enterDir) enterDir(entry->d_name, st);
        walk(std::move(sub), depth + 1);
        if (leaveDir) leaveDir();
      } else if (S_ISREG(st.st_mode)) {
        if (limitReached()) {
          stopped = true;
          break;
        }
        ++visited;
        onFile(::dirfd(dir), entry->d_name, st);
      }
      // Symlinks, sockets, fifos and devices are left alone.
    }
    ::closedir(dir);
  }

  bool timeUp() const { return limits_.now && limits_.now() - start_ >= limits_.maxTime; }

  size_t visited = 0;
  size_t skipped = 0;
  bool stopped = false;

 private:
  bool limitReached() const { return visited >= limits_.maxFiles || timeUp(); }

  dev_t dev_;
  const WalkLimits& limits_;
  Usec start_{0};
};

// Opens a directory argument and its identity. `follow` decides whether a symlink as the last
// component is accepted.
Result<std::pair<UniqueFd, struct stat>> openRoot(const std::string& dir, bool follow) {
  int flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW);
  UniqueFd fd(::open(dir.c_str(), flags));
  if (!fd.valid()) return errnoError(errno, dir, "cannot open the cache directory");
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return errnoError(errno, dir, "cannot stat");
  return std::pair<UniqueFd, struct stat>(std::move(fd), st);
}

size_t pathComponents(std::string_view path) {
  size_t count = 0;
  bool inComponent = false;
  for (char c : path) {
    if (c == '/') {
      inComponent = false;
    } else if (!inComponent) {
      inComponent = true;
      ++count;
    }
  }
  return count;
}

// The tree below a pruned directory as the scan saw it: each directory with its parent (index
// 0 is the root), and each file with its directory and identity, so the deletions reach the
// same files again through descriptors and never through a path the tree could have changed.
struct ScannedDir {
  size_t parent = 0;
  std::string name;
  ino_t ino = 0;
  int depth = 0;
};

struct ScannedFile {
  size_t dir = 0;
  std::string name;
  ino_t ino = 0;
  uint64_t size = 0;
  timespec mtime{};
  timespec atime{};
};

bool olderThan(const ScannedFile& a, const ScannedFile& b) {
  return std::tie(a.mtime.tv_sec, a.mtime.tv_nsec, a.atime.tv_sec, a.atime.tv_nsec, a.dir, a.name) <
         std::tie(b.mtime.tv_sec, b.mtime.tv_nsec, b.atime.tv_sec, b.atime.tv_nsec, b.dir, b.name);
}

// Reopens scanned directories from the root, one verified component at a time, keeping the
// last one open since consecutive deletions often share a directory.
class DirReopener {
 public:
  DirReopener(int rootFd, dev_t dev, const std::vector<ScannedDir>& dirs)
      : rootFd_(rootFd), dev_(dev), dirs_(dirs) {}

  // -1 when the directory is gone or is no longer the one scanned.
  int open(size_t index) {
    if (index == 0) return rootFd_;
    if (cachedIndex_ == index && cached_.valid()) return cached_.get();
    std::vector<size_t> chain;
    for (size_t i = index; i != 0; i = dirs_[i].parent) chain.push_back(i);
    UniqueFd current;
    int parentFd = rootFd_;
    for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
      const ScannedDir& dir = dirs_[*it];
      current = openSubdir(parentFd, dir.name.c_str(), dev_, dir.ino);
      if (!current.valid()) return -1;
      parentFd = current.get();
    }
    cached_ = std::move(current);
    cachedIndex_ = index;
    return cached_.get();
  }

  void forget() {
    cached_.reset();
    cachedIndex_ = 0;
  }

 private:
  int rootFd_;
  dev_t dev_;
  const std::vector<ScannedDir>& dirs_;
  UniqueFd cached_;
  size_t cachedIndex_ = 0;
};

// The entry `name` in dirFd is still the inode that was scanned, of the expected kind.
bool stillSame(int dirFd, const std::string& name, dev_t dev, ino_t ino, mode_t kind) {
  struct stat st {};
  if (::fstatat(dirFd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return false;
  return (st.st_mode & S_IFMT) == kind && st.st_dev == dev && st.st_ino == ino;
}

}  // namespace

Result<uint64_t> reclaimCgroupMemory(const std::string& cgroupDir, uint64_t bytes) {
  std::string path = joinPath(cgroupDir, "memory.reclaim");
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd.valid()) {
    int code = errno;
    if (code == ENOENT) {
      return errnoError(code, path,
                        "no memory.reclaim: this host's memory controller is cgroup v1 (or the "
                        "kernel is older than 5.19); drop the page cache instead");
    }
    return errnoError(code, path, "cannot open memory.reclaim");
  }
  if (bytes == 0) return uint64_t{0};
  std::array<char, 24> text{};
  auto [end, ec] = std::to_chars(text.data(), text.data() + text.size(), bytes);
  if (ec != std::errc()) return errnoError(EINVAL, path, "cannot format the amount to reclaim");
  auto length = static_cast<size_t>(end - text.data());
  for (;;) {
    ssize_t written = ::write(fd.get(), text.data(), length);
    if (written >= 0) {
      if (static_cast<size_t>(written) != length) {
        return errnoError(EIO, path, "the kernel took part of the reclaim request");
      }
      return bytes;
    }
    if (errno == EINTR) continue;
    // The kernel tried and fell short; how much it got is for the caller to measure.
    if (errno == EAGAIN) return bytes;
    return errnoError(errno, path,
                      "cannot ask the kernel to reclaim " + std::to_string(bytes) + " bytes");
  }
}

Result<DropCacheStats> dropPageCache(const std::string& dir, const DropCacheLimits& limits) {
  // The cache directory itself may be a symlink (~/.cache on another disk); nothing below it is
  // followed.
  auto root = openRoot(dir, /*follow=*/true);
  if (!root) return root.error();
  auto& [rootFd, rootStat] = *root;

  DropCacheStats stats;
  bool noAtime = true;  // O_NOATIME needs ownership or CAP_FOWNER; dropped after one EPERM
  TreeWalk walk(rootStat.st_dev, limits);
  walk.onFile = [&](int dirFd, const char* name, const struct stat&) {
    // O_NONBLOCK: a fifo swapped in for the file since fstatat must not block the open.
    int flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK;
    UniqueFd fd(::openat(dirFd, name, flags | (noAtime ? O_NOATIME : 0)));
    if (!fd.valid() && noAtime && errno == EPERM) {
      noAtime = false;
      fd = UniqueFd(::openat(dirFd, name, flags));
    }
    struct stat st {};
    if (!fd.valid() || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode) ||
        ::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_DONTNEED) != 0) {
      ++stats.skipped;
      return;
    }
    ++stats.files;
    stats.bytes += static_cast<uint64_t>(st.st_size);
  };
  walk.walk(std::move(rootFd), 0);
  stats.skipped += walk.skipped;
  stats.stoppedAtLimit = walk.stopped;
  return stats;
}

Result<PruneStats> pruneCacheToBudget(const std::string& dir, uint64_t budgetBytes,
                                      const PruneOwner& owner, const WalkLimits& limits) {
  struct stat link {};
  if (::lstat(dir.c_str(), &link) != 0) {
    return errnoError(errno, dir, "cannot read the cache directory");
  }
  if (S_ISLNK(link.st_mode)) {
    return errnoError(EPERM, dir,
                      "is a symlink; the guard never prunes through one, since it may lead to a "
                      "user's own files: point $GOPLSCACHE or $XDG_CACHE_HOME at the real "
                      "directory");
  }
  char* resolved = ::realpath(dir.c_str(), nullptr);
  if (resolved == nullptr) return errnoError(errno, dir, "cannot resolve the cache directory");
  std::string real(resolved);
  std::free(resolved);  // NOLINT(cppcoreguidelines-no-malloc): realpath allocates with malloc
  if (pathComponents(real) < 2) {
    return errnoError(EPERM, dir,
                      "refusing to prune " + real +
                          ": a cache directory is at least two levels below / (like "
                          "~/.cache/gopls); check $GOPLSCACHE and $XDG_CACHE_HOME");
  }
  if (!owner.home.empty()) {
    if (char* home = ::realpath(owner.home.c_str(), nullptr); home != nullptr) {
      std::string realHome(home);
      std::free(home);  // NOLINT(cppcoreguidelines-no-malloc): realpath allocates with malloc
      if (realHome == real || realHome.rfind(real + "/", 0) == 0) {
        return errnoError(EPERM, dir,
                          "refusing to prune " + real +
                              ": it is the home directory or above it; check $GOPLSCACHE and "
                              "$XDG_CACHE_HOME");
      }
    }
  }
  auto root = openRoot(real, /*follow=*/false);
  if (!root) return root.error();
  auto& [rootFd, rootStat] = *root;
  if (rootStat.st_uid != owner.uid) {
    return errnoError(EPERM, dir,
                      "refusing to prune " + real + ": it belongs to uid " +
                          std::to_string(rootStat.st_uid) + ", not to the user running the guard");
  }
  const int rootDescriptor = rootFd.get();
  const dev_t dev = rootStat.st_dev;

  std::vector<ScannedDir> dirs{ScannedDir{0, {}, rootStat.st_ino, 0}};
  std::vector<ScannedFile> files;
  size_t current = 0;
  uint64_t total = 0;
  TreeWalk walk(dev, limits);
  walk.enterDir = [&](const char* name, const struct stat& st) {
    dirs.push_back(ScannedDir{current, name, st.st_ino, dirs[current].depth + 1});
    current = dirs.size() - 1;
  };
  walk.leaveDir = [&] { current = dirs[current].parent; };
  size_t notOwned = 0;
  walk.onFile = [&](int, const char* name, const struct stat& st) {
    if (st.st_uid != owner.uid) {
      ++notOwned;  // another user's file in the cache is theirs, not the guard's to delete
      return;
    }
    auto size = static_cast<uint64_t>(st.st_size);
    files.push_back(ScannedFile{current, name, st.st_ino, size, st.st_mtim, st.st_atim});
    total = total > UINT64_MAX - size ? UINT64_MAX : total + size;
  };
  // The walk owns a duplicate, so the root stays open for the deletions.
  UniqueFd walkFd(::fcntl(rootDescriptor, F_DUPFD_CLOEXEC, 0));
  if (!walkFd.valid()) return errnoError(errno, real, "cannot duplicate a descriptor");
  walk.walk(std::move(walkFd), 0);

  PruneStats stats;
  stats.bytesLeft = total;
  stats.notOwned = notOwned;
  if (walk.stopped) {
    stats.stoppedAtLimit = true;
    return stats;
  }

  std::sort(files.begin(), files.end(), olderThan);
  DirReopener reopen(rootDescriptor, dev, dirs);
  std::vector<bool> touched(dirs.size(), false);
  for (const ScannedFile& file : files) {
    if (total <= budgetBytes) break;
    if (walk.timeUp()) {
      stats.stoppedAtLimit = true;
      break;
    }
    int dirFd = reopen.open(file.dir);
    if (dirFd >= 0 && stillSame(dirFd, file.name, dev, file.ino, S_IFREG)) {
      if (::unlinkat(dirFd, file.name.c_str(), 0) == 0) {
        ++stats.filesRemoved;
        stats.bytesFreed += file.size;
        touched[file.dir] = true;
      } else if (errno != ENOENT) {
        continue;  // not ours to delete (read-only, immutable): still counts toward the total
      }
    }
    // Gone, removed, or replaced by a newer file under the same name: not this file any more.
    total = total > file.size ? total - file.size : 0;
  }
  stats.bytesLeft = total;

  // Directories the deletions may have emptied, deepest first so a parent is tried after its
  // children. A directory that is not empty is simply left.
  std::vector<size_t> candidates;
  for (size_t i = dirs.size(); i-- > 1;) {
    if (touched[i]) touched[dirs[i].parent] = true;
  }
  for (size_t i = 1; i < dirs.size(); ++i) {
    if (touched[i]) candidates.push_back(i);
  }
  std::stable_sort(candidates.begin(), candidates.end(),
                   [&](size_t a, size_t b) { return dirs[a].depth > dirs[b].depth; });
  for (size_t index : candidates) {
    reopen.forget();
    int parentFd = reopen.open(dirs[index].parent);
    if (parentFd < 0) continue;
    const std::string& name = dirs[index].name;
    if (!stillSame(parentFd, name, dev, dirs[index].ino, S_IFDIR)) continue;
    if (::unlinkat(parentFd, name.c_str(), AT_REMOVEDIR) == 0) ++stats.dirsRemoved;
  }
  return stats;
}

std::string goplsCacheDir(const GoCacheEnv& env) {
  if (isAbsolutePath(env.goplsCache)) return env.goplsCache;
  if (isAbsolutePath(env.xdgCacheHome)) return joinPath(env.xdgCacheHome, "gopls");
  if (isAbsolutePath(env.home)) return joinPath(env.home, ".cache/gopls");
  return {};
}

std::string goModCacheDir(const GoCacheEnv& env) {
  if (!env.goModCache.empty()) {
    return isAbsolutePath(env.goModCache) ? env.goModCache : std::string();
  }
  if (!env.goPath.empty()) {
    std::string_view first(env.goPath);
    first = first.substr(0, first.find(':'));
    return isAbsolutePath(first) ? joinPath(first, "pkg/mod") : std::string();
  }
  if (isAbsolutePath(env.home)) return joinPath(env.home, "go/pkg/mod");
  return {};
}

}  // namespace wslgo
