#include "keeper/keeper.h"

#include <sys/epoll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "daemon/logging.h"

namespace wslgo {
namespace {

std::shared_ptr<spdlog::logger> log() { return componentLogger("keeper"); }

}  // namespace

Keeper::~Keeper() {
  listenWatch_.reset();
  connections_.clear();
}

Result<void> Keeper::listen(UniqueFd listening) {
  auto watch = loop_.addIo(listening.get(), EPOLLIN, [this](uint32_t) { accept(); });
  if (!watch) return watch.error();
  listenWatch_ = std::move(*watch);
  listening_ = std::move(listening);
  return {};
}

void Keeper::accept() {
  for (;;) {
    int fd = ::accept4(listening_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED) return;
      // EMFILE and the like: say so and let the loop come back when the editor retries.
      log()->error("cannot accept an editor: {}", std::strerror(errno));
      return;
    }
    uint64_t serial = nextSerial_++;
    auto connection = EditorConnection::open(loop_, *guard_, *this, UniqueFd(fd), serial, limits_);
    if (!connection) {
      log()->error("cannot serve an editor: {}", connection.error().describe());
      continue;
    }
    connections_[serial] = std::move(*connection);
    log()->debug("editor {} connected ({} in all)", serial, connections_.size());
  }
}

void Keeper::restartAnnounced(const std::string& object, const std::string& reason) {
  // Copies: a connection may close (and ask to be reaped) while it hears the news.
  auto connections = connections_;
  for (auto& [serial, connection] : connections) connection->restartAnnounced(object, reason);
}

void Keeper::closeAll(const std::string& why) {
  auto connections = connections_;
  for (auto& [serial, connection] : connections) connection->shutdown(why);
  report();
}

void Keeper::connectionClosed(uint64_t serial) {
  closed_.push_back(serial);
  if (reapTimer_.pending()) return;
  auto timer = loop_.addOneShotTimer(Usec(0), [this](Usec) {
    for (uint64_t gone : closed_) connections_.erase(gone);
    closed_.clear();
  });
  if (timer) reapTimer_ = std::move(*timer);
}

void Keeper::connectionChanged() {
  if (reportTimer_.pending()) return;
  auto timer = loop_.addOneShotTimer(kReportDelay, [this](Usec) { report(); });
  if (timer) reportTimer_ = std::move(*timer);
}

void Keeper::report() {
  std::map<std::string, uint32_t> editors;
  for (const auto& [serial, connection] : connections_) {
    std::string root = connection->attachedRoot();
    if (!root.empty()) ++editors[root];
  }
  // Sent even when unchanged: the guard drops counts for roots it did not guard at the time
  // (a workspace removed and added again), and the debounce already bounds the rate.
  if (guard_ != nullptr) guard_->reportEditors(editors);
}

}  // namespace wslgo
