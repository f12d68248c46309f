#include "lib/settings_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "lib/json_nesting.h"

namespace wslgo {

Result<std::string_view> readSettingsFile(const std::string& path, std::string& buffer,
                                          size_t maxBytes, size_t maxNesting) {
  int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return errnoError(errno, path, "cannot open");
  struct stat info {};
  if (::fstat(fd, &info) != 0) {
    int error = errno;
    ::close(fd);
    return errnoError(error, path, "cannot stat");
  }
  if (S_ISDIR(info.st_mode)) {
    ::close(fd);
    return errnoError(EISDIR, path, "is a directory; put a JSON file there");
  }
  if (!S_ISREG(info.st_mode)) {
    ::close(fd);
    return errnoError(EINVAL, path,
                      "is not a regular file (a FIFO or a device); put "
                      "a JSON file there");
  }
  if (static_cast<uint64_t>(info.st_size) > maxBytes) {
    ::close(fd);
    return errnoError(EFBIG, path,
                      "is " + std::to_string(info.st_size) +
                          " bytes; a settings file has at most " + std::to_string(maxBytes));
  }
  // One byte more than allowed: a file that grew since fstat is caught too.
  buffer.resize(maxBytes + 1);
  size_t length = 0;
  while (length < buffer.size()) {
    ssize_t got = ::read(fd, buffer.data() + length, buffer.size() - length);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      int error = errno;
      ::close(fd);
      return errnoError(error, path, "cannot read");
    }
    if (got == 0) break;
    length += static_cast<size_t>(got);
  }
  ::close(fd);
  if (length > maxBytes) {
    return errnoError(EFBIG, path, "grew past " + std::to_string(maxBytes) + " bytes while read");
  }
  buffer.resize(length);
  std::string_view text(buffer);
  if (!jsonNestingWithin(text, maxNesting)) {
    return errnoError(EINVAL, path,
                      "nests deeper than " + std::to_string(maxNesting) +
                          " levels, which no real settings file does; fix or remove it");
  }
  return text;
}

}  // namespace wslgo
