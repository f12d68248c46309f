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
#include <ctime>
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

struct DirCloser {
  void operator()(DIR* dir) const { ::closedir(dir); }
};
using DirStream = std::unique_ptr<DIR, DirCloser>;

// A depth-first walk by descriptors that keeps its place between slices: a stack of open
// directory streams. Every entry is reached with openat/fstatat relative to its parent's
// descriptor, so a symlink or a rename elsewhere cannot lead it outside the tree. Directories on
// another filesystem (mount points) are not entered; symlinks, sockets, fifos and devices are
// left alone.
class DirectoryWalk {
 public:
  // A subdirectory `depth` levels below the root (1: a child of the root), in the directory
  // tagged `parentTag`: the tag its entries will carry, or nullopt to leave it out.
  using Enter = std::function<std::optional<size_t>(size_t parentTag, int depth, const char* name,
                                                    const struct stat& st)>;
  // A regular file in the directory tagged `tag`, `depth` levels below the root (0: the root
  // itself), open as dirFd.
  using Visit = std::function<void(size_t tag, int depth, int dirFd, const char* name,
                                   const struct stat& st)>;

  DirectoryWalk(UniqueFd root, dev_t dev, Enter enter, Visit visit)
      : dev_(dev), enter_(std::move(enter)), visit_(std::move(visit)) {
    DIR* dir = ::fdopendir(root.get());
    if (dir == nullptr) {
      ++skipped;
      return;
    }
    root.release();
    stack_.push_back(Frame{DirStream(dir), 0, 0});
  }

  // Walks on until the slice is spent; true once the tree is done.
  bool step(SliceBudget& slice) {
    while (!stack_.empty()) {
      if (!slice.take()) return false;
      Frame& top = stack_.back();
      const int dirFd = ::dirfd(top.dir.get());
      const dirent* entry = ::readdir(top.dir.get());
      if (entry == nullptr) {
        stack_.pop_back();
        continue;
      }
      if (isDotOrDotDot(entry->d_name)) continue;
      struct stat st {};
      if (::fstatat(dirFd, entry->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        ++skipped;  // vanished since readdir, or not ours to look at
        continue;
      }
      if (st.st_dev != dev_) continue;
      if (S_ISDIR(st.st_mode)) {
        const int depth = top.depth + 1;
        if (depth > kMaxDepth) {
          ++skipped;
          continue;
        }
        std::optional<size_t> tag = enter_(top.tag, depth, entry->d_name, st);
        if (!tag) continue;
        UniqueFd sub = openSubdir(dirFd, entry->d_name, st.st_dev, st.st_ino);
        DIR* dir = sub.valid() ? ::fdopendir(sub.get()) : nullptr;
        if (dir == nullptr) {
          ++skipped;
          continue;
        }
        sub.release();
        stack_.push_back(Frame{DirStream(dir), *tag, depth});  // `top` is not used again
      } else if (S_ISREG(st.st_mode)) {
        visit_(top.tag, top.depth, dirFd, entry->d_name, st);
      }
    }
    return true;
  }

  size_t skipped = 0;

 private:
  struct Frame {
    DirStream dir;
    size_t tag = 0;
    int depth = 0;
  };

  dev_t dev_;
  Enter enter_;
  Visit visit_;
  std::vector<Frame> stack_;
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

// The directory of `fd` open again, with a read position of its own (a dup would share the
// position, and a second scan would find the directory already read to its end).
Result<UniqueFd> reopenDirectory(int fd, const std::string& path) {
  UniqueFd again(::openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!again.valid()) return errnoError(errno, path, "cannot open the cache directory again");
  return again;
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

// gopls' file cache layout (see CachePrune in the header): VVVVVVVV/KK/<64 hex>-<kind>.
constexpr size_t kVersionDigits = 8;
constexpr size_t kKeyBytes = 32;
constexpr size_t kKindMaxLength = 32;
// Distinct kinds a prune keeps apart; gopls uses about a dozen.
constexpr size_t kMaxKinds = 64;
// Layout directories one scan enters, 1.5 MiB of bookkeeping at most: a version directory per
// gopls executable run in the last days, each with up to 256 subdirectories.
constexpr size_t kMaxVersionDirs = 1024;
constexpr size_t kMaxSubdirs = 65536;

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;  // Go's %x writes lowercase only
}

bool isLowerHex(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return hexValue(c) >= 0; });
}

bool isKindChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

std::optional<uint8_t> subdirByte(std::string_view name) {
  if (name.size() != 2 || !isLowerHex(name)) return std::nullopt;
  return static_cast<uint8_t>(hexValue(name[0]) * 16 + hexValue(name[1]));
}

struct EntryName {
  std::array<uint8_t, kKeyBytes> key{};
  std::string_view kind;
};

// "<64 lowercase hex>-<kind>", else nothing.
std::optional<EntryName> parseEntryName(std::string_view name) {
  constexpr size_t kHexDigits = 2 * kKeyBytes;
  if (name.size() < kHexDigits + 2 || name[kHexDigits] != '-') return std::nullopt;
  EntryName entry;
  for (size_t i = 0; i < kKeyBytes; ++i) {
    const int high = hexValue(name[2 * i]);
    const int low = hexValue(name[2 * i + 1]);
    if (high < 0 || low < 0) return std::nullopt;
    entry.key[i] = static_cast<uint8_t>(high * 16 + low);
  }
  entry.kind = name.substr(kHexDigits + 1);
  if (entry.kind.size() > kKindMaxLength ||
      !std::all_of(entry.kind.begin(), entry.kind.end(), isKindChar)) {
    return std::nullopt;
  }
  return entry;
}

std::string hexName(uint8_t byte) {
  constexpr std::string_view kDigits = "0123456789abcdef";
  return {kDigits[byte >> 4], kDigits[byte & 0xf]};
}

int64_t nanoseconds(const timespec& ts) {
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// The entry `name` in dirFd is still the inode that was scanned, of the expected kind.
bool stillSame(int dirFd, const char* name, dev_t dev, ino_t ino, mode_t kind, struct stat& st) {
  if (::fstatat(dirFd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) return false;
  return (st.st_mode & S_IFMT) == kind && st.st_dev == dev && st.st_ino == ino;
}

uint64_t addSaturating(uint64_t a, uint64_t b) { return a > UINT64_MAX - b ? UINT64_MAX : a + b; }

}  // namespace

Usec monotonicNow() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return Usec(static_cast<Usec::rep>(ts.tv_sec) * 1'000'000 + ts.tv_nsec / 1000);
}

SliceBudget::SliceBudget(SliceLimits limits) : limits_(std::move(limits)) {
  if (limits_.now) start_ = limits_.now();
}

bool SliceBudget::take() {
  if (spent_) return false;
  if (used_ >= limits_.maxEntries || (limits_.now && limits_.now() - start_ >= limits_.maxTime)) {
    spent_ = true;
    return false;
  }
  ++used_;
  return true;
}

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

struct PageCacheDrop::State {
  explicit State(UniqueFd root, dev_t dev)
      : walk(std::move(root), dev, enterAll(),
             [this](size_t, int, int dirFd, const char* name, const struct stat&) {
               advise(dirFd, name);
             }) {}

  static DirectoryWalk::Enter enterAll() {
    return [](size_t, int, const char*, const struct stat&) { return std::optional<size_t>(0); };
  }

  void advise(int dirFd, const char* name) {
    // O_NONBLOCK: a fifo swapped in for the file since fstatat must not block the open.
    const int flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK;
    UniqueFd fd(::openat(dirFd, name, flags | (noAtime ? O_NOATIME : 0)));
    if (!fd.valid() && noAtime && errno == EPERM) {
      noAtime = false;
      fd = UniqueFd(::openat(dirFd, name, flags));
    }
    struct stat st {};
    if (!fd.valid() || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode) ||
        ::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_DONTNEED) != 0) {
      ++unopened;
      return;
    }
    ++stats.files;
    stats.bytes = addSaturating(stats.bytes, static_cast<uint64_t>(st.st_size));
  }

  DirectoryWalk walk;
  DropCacheStats stats;
  bool noAtime = true;  // O_NOATIME needs ownership or CAP_FOWNER; dropped after one EPERM
  bool done = false;
  size_t unopened = 0;  // files that vanished or could not be opened between fstatat and open
};

PageCacheDrop::PageCacheDrop(std::unique_ptr<State> state) : state_(std::move(state)) {}
PageCacheDrop::PageCacheDrop(PageCacheDrop&&) noexcept = default;
PageCacheDrop& PageCacheDrop::operator=(PageCacheDrop&&) noexcept = default;
PageCacheDrop::~PageCacheDrop() = default;

Result<PageCacheDrop> PageCacheDrop::start(const std::string& dir) {
  auto root = openRoot(dir, /*follow=*/true);
  if (!root) return root.error();
  auto& [rootFd, rootStat] = *root;
  return PageCacheDrop(std::make_unique<State>(std::move(rootFd), rootStat.st_dev));
}

bool PageCacheDrop::step(SliceBudget& slice) {
  State& state = *state_;
  if (!state.done) state.done = state.walk.step(slice);
  state.stats.skipped = state.unopened + state.walk.skipped;
  state.stats.stoppedAtLimit = !state.done;
  return state.done;
}

const DropCacheStats& PageCacheDrop::stats() const { return state_->stats; }

Result<DropCacheStats> dropPageCache(const std::string& dir, const SliceLimits& limits) {
  auto drop = PageCacheDrop::start(dir);
  if (!drop) return drop.error();
  SliceBudget slice(limits);
  drop->step(slice);
  return drop->stats();
}

// A prune's scan keeps, per pass, the directories of the layout it entered and the oldest
// entries it met, in a form that reaches each of them again from the root by descriptors (never
// by a path the tree could have changed under it).
struct CachePrune::State {
  struct VersionDir {
    std::string name;
    ino_t ino = 0;
    bool touched = false;  // an entry in it was deleted
  };
  struct Subdir {
    uint32_t version = 0;
    uint8_t byte = 0;
    ino_t ino = 0;
    bool touched = false;
  };
  // 72 bytes: the key rather than the name, whose 70-odd characters would each need a heap
  // allocation of their own.
  struct Candidate {
    std::array<uint8_t, kKeyBytes> key{};
    uint32_t subdir = 0;
    uint8_t kind = 0;
    ino_t ino = 0;
    uint64_t size = 0;
    int64_t mtime = 0;  // ns
    int64_t atime = 0;  // ns
  };
  static_assert(sizeof(Candidate) <= 72, "kPruneMaxCandidates' memory bound counts 72 bytes");
  enum class Phase { Scan, Delete, RemoveDirs, Done };

  static bool olderThan(const Candidate& a, const Candidate& b) {
    return std::tie(a.mtime, a.atime, a.subdir, a.key, a.kind) <
           std::tie(b.mtime, b.atime, b.subdir, b.key, b.kind);
  }

  State(UniqueFd rootFd, dev_t rootDev, std::string realPath, uint64_t budgetBytes, uid_t uid,
        size_t candidateLimit)
      : root(std::move(rootFd)),
        dev(rootDev),
        path(std::move(realPath)),
        budget(budgetBytes),
        owner(uid),
        maxCandidates(std::max<size_t>(candidateLimit, 1)) {}

  // A new scan from the root.
  Result<void> startPass() {
    versions.clear();
    subdirs.clear();
    candidates.clear();
    total = 0;
    truncated = false;
    removedThisPass = 0;
    next = 0;
    cachedSubdir.reset();
    auto walkFd = reopenDirectory(root.get(), path);
    if (!walkFd) return walkFd.error();
    walk.emplace(
        std::move(*walkFd), dev,
        [this](size_t parentTag, int depth, const char* name, const struct stat& st) {
          return enter(parentTag, depth, name, st);
        },
        [this](size_t tag, int depth, int, const char* name, const struct stat& st) {
          visit(tag, depth, name, st);
        });
    ++stats.passes;
    phase = Phase::Scan;
    return {};
  }

  std::optional<size_t> enter(size_t parentTag, int depth, std::string_view name,
                              const struct stat& st) {
    if (depth == 1 && name.size() == kVersionDigits && isLowerHex(name) &&
        versions.size() < kMaxVersionDirs) {
      versions.push_back(VersionDir{std::string(name), st.st_ino, false});
      return versions.size() - 1;
    }
    if (depth == 2 && subdirs.size() < kMaxSubdirs) {
      if (auto byte = subdirByte(name)) {
        subdirs.push_back(Subdir{static_cast<uint32_t>(parentTag), *byte, st.st_ino, false});
        return subdirs.size() - 1;
      }
    }
    return std::nullopt;  // not a directory of the layout: not entered
  }

  void visit(size_t tag, int depth, std::string_view name, const struct stat& st) {
    std::optional<EntryName> entry = depth == 2 ? parseEntryName(name) : std::nullopt;
    if (!entry || entry->key[0] != subdirs[tag].byte) {
      ++stats.outsideLayout;
      return;
    }
    if (st.st_uid != owner) {
      ++stats.notOwned;  // another user's file in the cache is theirs, not the guard's to delete
      return;
    }
    std::optional<uint8_t> kind = kindIndex(entry->kind);
    if (!kind) {
      ++stats.outsideLayout;
      return;
    }
    const auto size = static_cast<uint64_t>(st.st_size);
    total = addSaturating(total, size);
    candidates.push_back(Candidate{.key = entry->key,
                                   .subdir = static_cast<uint32_t>(tag),
                                   .kind = *kind,
                                   .ino = st.st_ino,
                                   .size = size,
                                   .mtime = nanoseconds(st.st_mtim),
                                   .atime = nanoseconds(st.st_atim)});
    // A heap with the newest kept entry on top: past the limit the newest goes.
    std::push_heap(candidates.begin(), candidates.end(), olderThan);
    if (candidates.size() > maxCandidates) {
      std::pop_heap(candidates.begin(), candidates.end(), olderThan);
      candidates.pop_back();
      truncated = true;
    }
  }

  std::optional<uint8_t> kindIndex(std::string_view kind) {
    auto it = std::find(kinds.begin(), kinds.end(), kind);
    if (it != kinds.end()) return static_cast<uint8_t>(it - kinds.begin());
    if (kinds.size() >= kMaxKinds) return std::nullopt;
    kinds.emplace_back(kind);
    return static_cast<uint8_t>(kinds.size() - 1);
  }

  // The subdirectory reopened from the root, one verified component at a time; the last one
  // stays open, since consecutive deletions often share it. -1 when it is gone or is no longer
  // the one scanned (replaced by another directory or a symlink).
  int openSubdirOf(size_t index) {
    if (cachedSubdir.valid() && cachedIndex == index) return cachedSubdir.get();
    cachedSubdir.reset();
    const Subdir& subdir = subdirs[index];
    const VersionDir& version = versions[subdir.version];
    UniqueFd versionFd = openSubdir(root.get(), version.name.c_str(), dev, version.ino);
    if (!versionFd.valid()) return -1;
    cachedSubdir = openSubdir(versionFd.get(), hexName(subdir.byte).c_str(), dev, subdir.ino);
    cachedIndex = index;
    return cachedSubdir.valid() ? cachedSubdir.get() : -1;
  }

  std::string entryName(const Candidate& candidate) const {
    std::string name;
    name.reserve(2 * kKeyBytes + 1 + kinds[candidate.kind].size());
    for (uint8_t byte : candidate.key) name += hexName(byte);
    name += '-';
    name += kinds[candidate.kind];
    return name;
  }

  // Deletes the oldest entries until the cache fits; true when done with this pass' list.
  bool deleteOldest(SliceBudget& slice) {
    while (next < candidates.size() && total > budget) {
      if (!slice.take()) return false;
      const Candidate& candidate = candidates[next++];
      const int dirFd = openSubdirOf(candidate.subdir);
      if (dirFd < 0) {
        // Moved, removed or replaced (by a symlink, say) since the scan: nothing of it is
        // deleted, and what it held no longer counts.
        total = total > candidate.size ? total - candidate.size : 0;
        continue;
      }
      const std::string name = entryName(candidate);
      struct stat st {};
      if (!stillSame(dirFd, name.c_str(), dev, candidate.ino, S_IFREG, st)) {
        total = total > candidate.size ? total - candidate.size : 0;  // gone or replaced
        continue;
      }
      if (nanoseconds(st.st_mtim) != candidate.mtime || st.st_uid != owner) {
        continue;  // gopls used it since the scan: no longer among the oldest
      }
      if (::unlinkat(dirFd, name.c_str(), 0) != 0) {
        if (errno == ENOENT) total = total > candidate.size ? total - candidate.size : 0;
        continue;  // not ours to delete (read-only, immutable): it still counts
      }
      ++stats.filesRemoved;
      ++removedThisPass;
      stats.bytesFreed += candidate.size;
      total = total > candidate.size ? total - candidate.size : 0;
      subdirs[candidate.subdir].touched = true;
      versions[subdirs[candidate.subdir].version].touched = true;
    }
    return true;
  }

  // Removes the layout's directories the deletions emptied: subdirectories first, then their
  // version directories. One that is not empty is simply left.
  bool removeEmptied(SliceBudget& slice) {
    cachedSubdir.reset();
    const size_t count = subdirs.size() + versions.size();
    while (next < count) {
      if (!slice.take()) return false;
      const size_t index = next++;
      if (index < subdirs.size()) {
        const Subdir& subdir = subdirs[index];
        if (!subdir.touched) continue;
        const VersionDir& version = versions[subdir.version];
        UniqueFd versionFd = openSubdir(root.get(), version.name.c_str(), dev, version.ino);
        const std::string name = hexName(subdir.byte);
        struct stat st {};
        if (versionFd.valid() &&
            stillSame(versionFd.get(), name.c_str(), dev, subdir.ino, S_IFDIR, st) &&
            ::unlinkat(versionFd.get(), name.c_str(), AT_REMOVEDIR) == 0) {
          ++stats.dirsRemoved;
        }
      } else {
        const VersionDir& version = versions[index - subdirs.size()];
        struct stat st {};
        if (version.touched &&
            stillSame(root.get(), version.name.c_str(), dev, version.ino, S_IFDIR, st) &&
            ::unlinkat(root.get(), version.name.c_str(), AT_REMOVEDIR) == 0) {
          ++stats.dirsRemoved;
        }
      }
    }
    return true;
  }

  bool step(SliceBudget& slice) {
    while (!slice.spent()) {
      switch (phase) {
        case Phase::Scan:
          if (!walk->step(slice)) return false;
          walk.reset();
          // Oldest first; the sort ends the heap.
          std::sort_heap(candidates.begin(), candidates.end(), olderThan);
          stats.bytesLeft = total;
          next = 0;
          phase = Phase::Delete;
          break;
        case Phase::Delete:
          if (!deleteOldest(slice)) return false;
          stats.bytesLeft = total;
          next = 0;
          phase = Phase::RemoveDirs;
          break;
        case Phase::RemoveDirs:
          if (!removeEmptied(slice)) return false;
          // The oldest entries did not all fit in memory and deleting those kept was not
          // enough: a new scan finds the next oldest.
          if (total > budget && truncated && removedThisPass > 0 &&
              stats.passes < kPruneMaxPasses && startPass()) {
            break;
          }
          candidates = {};
          versions = {};
          subdirs = {};
          phase = Phase::Done;
          break;
        case Phase::Done:
          return true;
      }
    }
    return phase == Phase::Done;
  }

  UniqueFd root;
  dev_t dev;
  std::string path;
  uint64_t budget;
  uid_t owner;
  size_t maxCandidates;

  Phase phase = Phase::Scan;
  std::optional<DirectoryWalk> walk;
  std::vector<VersionDir> versions;
  std::vector<Subdir> subdirs;
  std::vector<std::string> kinds;
  std::vector<Candidate> candidates;
  uint64_t total = 0;  // the owner's cache entries the current pass met
  bool truncated = false;
  size_t removedThisPass = 0;
  size_t next = 0;  // the next candidate to delete, or directory to remove
  UniqueFd cachedSubdir;
  size_t cachedIndex = 0;
  PruneStats stats;
};

CachePrune::CachePrune(std::unique_ptr<State> state) : state_(std::move(state)) {}
CachePrune::CachePrune(CachePrune&&) noexcept = default;
CachePrune& CachePrune::operator=(CachePrune&&) noexcept = default;
CachePrune::~CachePrune() = default;

Result<CachePrune> CachePrune::start(const std::string& dir, uint64_t budgetBytes,
                                     const PruneOwner& owner, size_t maxCandidates) {
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
  auto state = std::make_unique<State>(std::move(rootFd), rootStat.st_dev, std::move(real),
                                       budgetBytes, owner.uid, maxCandidates);
  if (auto started = state->startPass(); !started) return started.error();
  return CachePrune(std::move(state));
}

bool CachePrune::step(SliceBudget& slice) {
  const bool done = state_->step(slice);
  state_->stats.stoppedAtLimit = !done;
  return done;
}

const PruneStats& CachePrune::stats() const { return state_->stats; }

Result<PruneStats> pruneCacheToBudget(const std::string& dir, uint64_t budgetBytes,
                                      const PruneOwner& owner, const SliceLimits& limits) {
  auto prune = CachePrune::start(dir, budgetBytes, owner);
  if (!prune) return prune.error();
  SliceBudget slice(limits);
  prune->step(slice);
  return prune->stats();
}

std::string goplsCacheDir(const GoCacheEnv& env) {
  if (isAbsolutePath(env.goplsCache)) return joinPath(env.goplsCache, "gopls");
  if (isAbsolutePath(env.xdgCacheHome)) return joinPath(env.xdgCacheHome, "gopls");
  if (isAbsolutePath(env.home)) return joinPath(env.home, ".cache/gopls");
  return {};
}

GoCacheEnv goCacheEnvOf(const ProcessEnviron& environment) {
  return GoCacheEnv{.goplsCache = environment.value("GOPLSCACHE"),
                    .xdgCacheHome = environment.value("XDG_CACHE_HOME"),
                    .goModCache = environment.value("GOMODCACHE"),
                    .goPath = environment.value("GOPATH"),
                    .home = environment.value("HOME")};
}

Result<std::string> goplsCacheDirOfProcess(const SysRoots& roots, pid_t pid) {
  auto environment = readProcessEnviron(roots, pid);
  if (!environment) return environment.error();
  return goplsCacheDir(goCacheEnvOf(*environment));
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
