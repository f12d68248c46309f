#include "lib/process_environ.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string>
#include <utility>

namespace wslgo {

std::string ProcessEnviron::value(std::string_view name) const {
  auto it = variables.find(name);
  return it == variables.end() ? std::string() : it->second;
}

Result<ProcessEnviron> parseProcessEnviron(std::string_view text) {
  if (text.size() > kMaxEnvironBytes) {
    return parseError({}, "an environment of " + std::to_string(text.size()) +
                              " bytes, more than the " + std::to_string(kMaxEnvironBytes) +
                              " read at most");
  }
  ProcessEnviron env;
  while (!text.empty()) {
    const size_t end = text.find('\0');
    const std::string_view entry = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    const size_t equals = entry.find('=');
    if (equals == std::string_view::npos || equals == 0) continue;
    // emplace keeps the first value of a name given twice.
    env.variables.emplace(std::string(entry.substr(0, equals)),
                          std::string(entry.substr(equals + 1)));
  }
  return env;
}

Result<ProcessEnviron> readProcessEnviron(const SysRoots& roots, pid_t pid) {
  const std::string path = roots.procPath(std::to_string(pid) + "/environ");
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int code = errno;
    return errnoError(code, path,
                      code == EACCES ? "cannot read the environment: the process belongs to "
                                       "another user"
                                     : "cannot read the environment: the process has exited");
  }
  // One byte more than allowed tells a full-size environment from a larger one. The buffer
  // grows as the file turns out longer: a usual environment is a few KiB, and a whole 1 MiB
  // buffer each time cost the guard 1 MiB of zeroed pages and raised glibc's mmap threshold.
  constexpr size_t kMostRead = kMaxEnvironBytes + 1;
  constexpr size_t kFirstRead = 16 * 1024;
  std::string buffer;
  size_t used = 0;
  int code = 0;
  while (used < kMostRead) {
    if (used == buffer.size()) {
      buffer.resize(std::min(kMostRead, std::max(kFirstRead, buffer.size() * 2)));
    }
    const ssize_t got = ::read(fd, buffer.data() + used, buffer.size() - used);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) code = errno;
    if (got <= 0) break;
    used += static_cast<size_t>(got);
  }
  ::close(fd);
  if (code != 0) {
    // ESRCH: the process exited after the open; a zombie's environment reads as empty.
    return errnoError(code, path, "cannot read the environment");
  }
  buffer.resize(used);
  auto parsed = parseProcessEnviron(buffer);
  if (!parsed) return parsed.error().withPath(path);
  return parsed;
}

}  // namespace wslgo
