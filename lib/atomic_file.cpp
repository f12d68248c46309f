#include "lib/atomic_file.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace wslgo {
namespace {

// Enough for every crash-and-retry loop a person could leave behind; past it something is
// setting files aside in a loop, and a person should look.
constexpr int kMaxSetAsideCopies = 1000;

std::string parentOf(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string baseOf(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

Result<void> writeAll(int fd, std::string_view contents, const std::string& path) {
  while (!contents.empty()) {
    ssize_t wrote = ::write(fd, contents.data(), contents.size());
    if (wrote < 0) {
      if (errno == EINTR) continue;
      return errnoError(errno, path, "cannot write its new copy; it is unchanged");
    }
    contents.remove_prefix(static_cast<size_t>(wrote));
  }
  return {};
}

Result<void> fsyncDirectory(const std::string& directory) {
  int fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errnoError(errno, directory, "cannot open the directory to sync it");
  int rc = ::fsync(fd);
  int error = errno;
  ::close(fd);
  // Some filesystems (9p, drvfs under WSL) cannot sync a directory; the rename is done anyway.
  if (rc != 0 && error != EINVAL && error != ENOTSUP) {
    return errnoError(error, directory, "cannot sync the directory after the rename");
  }
  return {};
}

// Renames without ever replacing an existing file: renameat2(RENAME_NOREPLACE), or, where the
// filesystem lacks it, a hard link then unlink. Returns the errno, 0 on success.
int renameNoReplace(const std::string& from, const std::string& to) {
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) return 0;
  if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP) return errno;
  if (::link(from.c_str(), to.c_str()) != 0) return errno;
  if (::unlink(from.c_str()) != 0) return errno;
  return 0;
}

}  // namespace

Result<void> makeDirectories(const std::string& path, mode_t mode) {
  if (path.empty()) return errnoError(ENOENT, path, "no directory given");
  size_t at = 0;
  while (at != std::string::npos) {
    at = path.find('/', at + 1);
    std::string prefix = path.substr(0, at);
    if (prefix.empty() || prefix.back() == '/') continue;
    if (::mkdir(prefix.c_str(), mode) == 0) continue;
    int error = errno;
    struct stat info {};
    if (error == EEXIST && ::stat(prefix.c_str(), &info) == 0) {
      if (S_ISDIR(info.st_mode)) continue;
      return errnoError(ENOTDIR, prefix,
                        "is in the way of directory " + path +
                            "; move it away or pick another "
                            "directory");
    }
    return errnoError(error, prefix, "cannot create directory");
  }
  return {};
}

Result<void> writeFileAtomically(const std::string& path, std::string_view contents, mode_t mode) {
  std::string directory = parentOf(path);
  // A dot name keeps an interrupted write out of sight of people listing the directory.
  std::string temporary = directory + "/." + baseOf(path) + ".tmp.XXXXXX";
  int fd = ::mkostemp(temporary.data(), O_CLOEXEC);
  if (fd < 0) {
    return errnoError(errno, path,
                      "cannot create a temporary file in " + directory +
                          " to write this file; check that the directory exists and is writable");
  }
  auto fail = [&](Error error) -> Result<void> {
    if (fd >= 0) ::close(fd);
    ::unlink(temporary.c_str());
    return error;
  };
  // Failures before the rename name the file being replaced, which is intact: the temporary
  // one is removed and would mean nothing to whoever reads the message.
  if (::fchmod(fd, mode) != 0) {
    return fail(errnoError(errno, path, "cannot set the mode of its new copy; it is unchanged"));
  }
  if (auto wrote = writeAll(fd, contents, path); !wrote) return fail(wrote.error());
  if (::fsync(fd) != 0) {
    return fail(errnoError(errno, path, "cannot sync its new copy to disk; it is unchanged"));
  }
  int closed = ::close(fd);
  fd = -1;
  if (closed != 0) {
    return fail(errnoError(errno, path, "cannot close its new copy; it is unchanged"));
  }
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    return fail(errnoError(errno, path, "cannot replace with " + temporary));
  }
  return fsyncDirectory(directory);
}

Result<std::string> setAsideCorruptFile(const std::string& path) {
  std::string target = path + ".bad";
  for (int copy = 0; copy <= kMaxSetAsideCopies; ++copy) {
    if (copy > 0) target = path + ".bad." + std::to_string(copy);
    int error = renameNoReplace(path, target);
    if (error == 0) return target;
    if (error != EEXIST) {
      return errnoError(error, path, "cannot set aside as " + target);
    }
  }
  return errnoError(EEXIST, path,
                    "cannot set aside: " + path + ".bad through .bad." +
                        std::to_string(kMaxSetAsideCopies) +
                        " all exist; look at them and remove the ones no longer needed");
}

}  // namespace wslgo
