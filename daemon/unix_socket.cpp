#include "daemon/unix_socket.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace wslgo {
namespace {

Result<sockaddr_un> addressOf(const std::string& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof address.sun_path) {
    return errnoError(ENAMETOOLONG, path, "is too long for a unix socket address");
  }
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  return address;
}

Result<UniqueFd> streamSocket(const std::string& path) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return errnoError(errno, path, "cannot create a socket");
  return fd;
}

}  // namespace

Result<UniqueFd> connectUnixSocket(const std::string& path) {
  auto address = addressOf(path);
  if (!address) return address.error();
  auto fd = streamSocket(path);
  if (!fd) return fd.error();
  if (::connect(fd->get(), reinterpret_cast<const sockaddr*>(&*address), sizeof *address) != 0) {
    return errnoError(errno, path, "cannot connect");
  }
  return fd;
}

Result<UniqueFd> listenUnixSocket(const std::string& path, int backlog) {
  auto address = addressOf(path);
  if (!address) return address.error();
  struct stat existing {};
  if (::lstat(path.c_str(), &existing) == 0) {
    if (!S_ISSOCK(existing.st_mode)) {
      return errnoError(EEXIST, path, "exists and is not a socket; remove it or pick another path");
    }
    ::unlink(path.c_str());
  }
  auto fd = streamSocket(path);
  if (!fd) return fd.error();
  mode_t old = ::umask(0077);
  int bound = ::bind(fd->get(), reinterpret_cast<const sockaddr*>(&*address), sizeof *address);
  ::umask(old);
  if (bound != 0) return errnoError(errno, path, "cannot bind");
  if (::listen(fd->get(), backlog) != 0) return errnoError(errno, path, "cannot listen");
  return fd;
}

}  // namespace wslgo
