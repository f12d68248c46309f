#include "lib/kept_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

namespace wslgo {
namespace {

constexpr size_t kInitialBuffer = 4096;

// Reads all of fd from offset 0 into buffer, growing it while the kernel fills it completely.
Result<std::string_view> preadAll(int fd, const std::string& path, std::string& buffer) {
  if (buffer.size() < kInitialBuffer) buffer.resize(kInitialBuffer);
  size_t used = 0;
  for (;;) {
    ssize_t got = ::pread(fd, buffer.data() + used, buffer.size() - used, static_cast<off_t>(used));
    if (got < 0) {
      if (errno == EINTR) continue;
      return errnoError(errno, path, "cannot read");
    }
    if (got == 0) break;
    used += static_cast<size_t>(got);
    if (used == buffer.size()) buffer.resize(buffer.size() * 2);
  }
  return std::string_view(buffer.data(), used);
}

}  // namespace

Result<std::string_view> readFileInto(const std::string& path, std::string& buffer) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errnoError(errno, path, "cannot open");
  auto contents = preadAll(fd, path, buffer);
  ::close(fd);
  return contents;
}

KeptFile::KeptFile(std::string path) : path_(std::move(path)) {}

KeptFile::~KeptFile() { close(); }

KeptFile::KeptFile(KeptFile&& other) noexcept
    : path_(std::move(other.path_)), buffer_(std::move(other.buffer_)), fd_(other.fd_) {
  other.fd_ = -1;
}

KeptFile& KeptFile::operator=(KeptFile&& other) noexcept {
  if (this != &other) {
    close();
    path_ = std::move(other.path_);
    buffer_ = std::move(other.buffer_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

void KeptFile::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

Result<void> KeptFile::open() {
  if (fd_ >= 0) return {};
  fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) return errnoError(errno, path_, "cannot open");
  return {};
}

bool KeptFile::exists() { return open().ok(); }

Result<std::string_view> KeptFile::read() {
  if (auto opened = open(); !opened) return opened.error();
  auto contents = preadAll(fd_, path_, buffer_);
  // A failed read on a kept descriptor usually means the object behind it is gone (process
  // exited, cgroup removed); drop the descriptor so the next read finds a successor by path.
  if (!contents) close();
  return contents;
}

}  // namespace wslgo
