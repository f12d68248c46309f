#include "daemon/profile_store.h"
#include "daemon/unique_fd.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <tuple>
#include <utility>

#include "lib/file_path.h"

namespace wslgo {
namespace {

constexpr std::string_view kSuffix = ".pb.gz";
constexpr size_t kStampLength = 16;  // "20261123T193012Z"
// More profiles than this within one second means something is looping; refuse rather than
// spin through names.
constexpr unsigned kMaxSequence = 999;

bool validKey(std::string_view key) {
  return !key.empty() && key != "." && key != ".." &&
         key.find_first_of(std::string_view("/\0", 2)) == std::string_view::npos;
}

Error badKey(const std::string& root, std::string_view key) {
  return errnoError(EINVAL, root,
                    "workspace key \"" + std::string(key) +
                        "\" is not a single path component; pass the systemd-escaped root");
}

std::optional<unsigned> parseDigits(std::string_view text) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// `mkdir -p` with 0700 for the components it creates; existing ones keep their mode.
Result<void> makeDirs(const std::string& path) {
  for (size_t slash = path.find('/', 1);; slash = path.find('/', slash + 1)) {
    std::string prefix = path.substr(0, slash);
    if (!prefix.empty() && ::mkdir(prefix.c_str(), 0700) != 0 && errno != EEXIST) {
      return errnoError(errno, prefix, "cannot create the profile directory");
    }
    if (slash == std::string::npos) return {};
  }
}

// The workspace directory `key` under rootFd, never through a symlink; -1 with errno set.
UniqueFd openWorkspaceDir(int rootFd, std::string_view key) {
  return UniqueFd(
      ::openat(rootFd, std::string(key).c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
}

struct Found {
  ProfileFile file;
  ino_t ino = 0;
};

bool older(const Found& a, const Found& b) {
  return std::tie(a.file.time, a.file.sequence, a.file.workspaceKey) <
         std::tie(b.file.time, b.file.sequence, b.file.workspaceKey);
}

// The recognised profiles in one workspace directory, oldest first. Takes ownership of dirFd.
std::vector<Found> scanWorkspace(UniqueFd dirFd, const std::string& root, std::string_view key) {
  std::vector<Found> found;
  DIR* dir = ::fdopendir(dirFd.get());
  if (dir == nullptr) return found;
  dirFd.release();
  std::string dirPath = joinPath(root, key);
  while (const dirent* entry = ::readdir(dir)) {
    auto name = parseProfileFileName(entry->d_name);
    if (!name) continue;
    struct stat st {};
    if (::fstatat(::dirfd(dir), entry->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if (!S_ISREG(st.st_mode)) continue;
    found.push_back(
        Found{ProfileFile{joinPath(dirPath, entry->d_name), std::string(key), name->time,
                          name->sequence, static_cast<uint64_t>(st.st_size)},
              st.st_ino});
  }
  ::closedir(dir);
  std::sort(found.begin(), found.end(), older);
  return found;
}

}  // namespace

std::string profileFileName(SystemTime time, unsigned sequence) {
  using namespace std::chrono;
  auto seconds = floor<std::chrono::seconds>(time);
  auto day = floor<days>(seconds);
  year_month_day date{day};
  hh_mm_ss clock{seconds - day};
  char stamp[48];
  std::snprintf(stamp, sizeof stamp, "%04d%02u%02uT%02d%02d%02lldZ", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                static_cast<int>(clock.hours().count()), static_cast<int>(clock.minutes().count()),
                static_cast<long long>(clock.seconds().count()));
  std::string name(stamp);
  if (sequence > 0) name += "-" + std::to_string(sequence);
  name += kSuffix;
  return name;
}

std::optional<ProfileName> parseProfileFileName(std::string_view name) {
  using namespace std::chrono;
  if (name.size() < kStampLength + kSuffix.size() || !name.ends_with(kSuffix)) return std::nullopt;
  std::string_view stamp = name.substr(0, kStampLength);
  std::string_view rest = name.substr(kStampLength, name.size() - kStampLength - kSuffix.size());
  if (stamp[8] != 'T' || stamp[15] != 'Z') return std::nullopt;
  auto y = parseDigits(stamp.substr(0, 4));
  auto mo = parseDigits(stamp.substr(4, 2));
  auto d = parseDigits(stamp.substr(6, 2));
  auto h = parseDigits(stamp.substr(9, 2));
  auto mi = parseDigits(stamp.substr(11, 2));
  auto s = parseDigits(stamp.substr(13, 2));
  if (!y || !mo || !d || !h || !mi || !s || *h > 23 || *mi > 59 || *s > 59) return std::nullopt;
  year_month_day date{year(static_cast<int>(*y)), month(*mo), day(*d)};
  if (!date.ok()) return std::nullopt;
  unsigned sequence = 0;
  if (!rest.empty()) {
    if (rest.front() != '-') return std::nullopt;
    auto n = parseDigits(rest.substr(1));
    if (!n || *n == 0) return std::nullopt;
    sequence = *n;
  }
  SystemTime time = sys_days(date) + hours(*h) + minutes(*mi) + seconds(*s);
  // Only the exact spelling the store writes ("-01" or "+1" would parse above).
  if (profileFileName(time, sequence) != name) return std::nullopt;
  return ProfileName{time, sequence};
}

std::string defaultProfileRoot(std::string_view xdgStateHome, std::string_view home) {
  if (isAbsolutePath(xdgStateHome)) return joinPath(xdgStateHome, "wslgo-guard/profiles");
  if (isAbsolutePath(home)) return joinPath(home, ".local/state/wslgo-guard/profiles");
  return {};
}

ProfileStore::ProfileStore(std::string root, unsigned keepPerWorkspace, uint64_t maxTotalBytes)
    : root_(std::move(root)), keepPerWorkspace_(keepPerWorkspace), maxTotalBytes_(maxTotalBytes) {}

Result<std::string> ProfileStore::newProfilePath(std::string_view workspaceKey, SystemTime now) {
  if (!validKey(workspaceKey)) return badKey(root_, workspaceKey);
  if (auto made = makeDirs(root_); !made) return made.error();
  UniqueFd rootFd(::open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!rootFd.valid()) return errnoError(errno, root_, "cannot open the profile directory");
  std::string key(workspaceKey);
  std::string dirPath = joinPath(root_, key);
  if (::mkdirat(rootFd.get(), key.c_str(), 0700) != 0 && errno != EEXIST) {
    return errnoError(errno, dirPath, "cannot create the workspace's profile directory");
  }
  UniqueFd dirFd = openWorkspaceDir(rootFd.get(), key);
  if (!dirFd.valid()) {
    return errnoError(errno, dirPath, "cannot open the workspace's profile directory");
  }
  for (unsigned sequence = 0; sequence <= kMaxSequence; ++sequence) {
    std::string name = profileFileName(now, sequence);
    int fd = ::openat(dirFd.get(), name.c_str(),
                      O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd >= 0) {
      ::close(fd);
      return joinPath(dirPath, name);
    }
    if (errno != EEXIST) return errnoError(errno, joinPath(dirPath, name), "cannot create");
  }
  return errnoError(EEXIST, dirPath,
                    "more than " + std::to_string(kMaxSequence + 1) +
                        " profiles within one second; the restart loop should have stopped this");
}

Result<std::vector<ProfileFile>> ProfileStore::list(std::string_view workspaceKey) const {
  if (!validKey(workspaceKey)) return badKey(root_, workspaceKey);
  std::vector<ProfileFile> out;
  UniqueFd rootFd(::open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!rootFd.valid()) {
    if (errno == ENOENT) return out;
    return errnoError(errno, root_, "cannot open the profile directory");
  }
  UniqueFd dirFd = openWorkspaceDir(rootFd.get(), workspaceKey);
  if (!dirFd.valid()) {
    if (errno == ENOENT) return out;
    return errnoError(errno, joinPath(root_, workspaceKey),
                      "cannot open the workspace's profile directory");
  }
  for (Found& found : scanWorkspace(std::move(dirFd), root_, workspaceKey)) {
    out.push_back(std::move(found.file));
  }
  return out;
}

Result<PruneStats> ProfileStore::enforceLimits() {
  PruneStats stats;
  UniqueFd rootFd(::open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!rootFd.valid()) {
    if (errno == ENOENT) return stats;
    return errnoError(errno, root_, "cannot open the profile directory");
  }

  std::vector<std::string> keys;
  {
    UniqueFd listFd(::fcntl(rootFd.get(), F_DUPFD_CLOEXEC, 0));
    DIR* dir = listFd.valid() ? ::fdopendir(listFd.get()) : nullptr;
    if (dir == nullptr) return errnoError(errno, root_, "cannot list the profile directory");
    listFd.release();
    while (const dirent* entry = ::readdir(dir)) {
      if (validKey(entry->d_name)) keys.emplace_back(entry->d_name);
    }
    ::closedir(dir);
  }
  std::sort(keys.begin(), keys.end());

  // Removes one profile if it is still the file that was scanned. False only when it is still
  // there (a failed unlink); a profile gone or replaced since the scan no longer counts.
  std::vector<std::string> touched;
  auto remove = [&](const Found& found) {
    UniqueFd dirFd = openWorkspaceDir(rootFd.get(), found.file.workspaceKey);
    if (!dirFd.valid()) return true;
    std::string name = found.file.path.substr(found.file.path.rfind('/') + 1);
    struct stat st {};
    if (::fstatat(dirFd.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 ||
        !S_ISREG(st.st_mode) || st.st_ino != found.ino) {
      return true;
    }
    if (::unlinkat(dirFd.get(), name.c_str(), 0) != 0) return errno == ENOENT;
    ++stats.filesRemoved;
    stats.bytesFreed += found.file.bytes;
    touched.push_back(found.file.workspaceKey);
    return true;
  };

  std::vector<Found> survivors;
  for (const std::string& key : keys) {
    UniqueFd dirFd = openWorkspaceDir(rootFd.get(), key);
    if (!dirFd.valid()) continue;  // a plain file or a symlink: not a workspace of ours
    std::vector<Found> found = scanWorkspace(std::move(dirFd), root_, key);
    size_t excess = found.size() > keepPerWorkspace_ ? found.size() - keepPerWorkspace_ : 0;
    for (size_t i = 0; i < found.size(); ++i) {
      if (i < excess) {
        remove(found[i]);
      } else {
        survivors.push_back(std::move(found[i]));
      }
    }
  }

  std::sort(survivors.begin(), survivors.end(), older);
  uint64_t total = 0;
  for (const Found& found : survivors) {
    total = total > UINT64_MAX - found.file.bytes ? UINT64_MAX : total + found.file.bytes;
  }
  for (const Found& found : survivors) {
    if (total <= maxTotalBytes_) break;
    if (remove(found)) total -= std::min(total, found.file.bytes);
  }
  stats.bytesLeft = total;

  std::sort(touched.begin(), touched.end());
  touched.erase(std::unique(touched.begin(), touched.end()), touched.end());
  for (const std::string& key : touched) {
    // Fails with ENOTEMPTY while profiles (or anyone else's files) remain, as it should.
    if (::unlinkat(rootFd.get(), key.c_str(), AT_REMOVEDIR) == 0) ++stats.dirsRemoved;
  }
  return stats;
}

}  // namespace wslgo
