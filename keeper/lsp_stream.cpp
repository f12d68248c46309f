#include "keeper/lsp_stream.h"

#include <sys/epoll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "lib/lsp_frame.h"

namespace wslgo {

Result<std::unique_ptr<LspStream>> LspStream::open(EventLoop& loop, UniqueFd fd, Limits limits,
                                                   MessageHook onMessage, ClosedHook onClosed) {
  std::unique_ptr<LspStream> stream(
      new LspStream(loop, limits, std::move(onMessage), std::move(onClosed)));
  LspStream* self = stream.get();
  auto watch = loop.addIo(fd.get(), EPOLLIN | EPOLLRDHUP,
                          [self](uint32_t revents) { self->onEvents(revents); });
  if (!watch) return watch.error();
  stream->watch_ = std::move(*watch);
  stream->fd_ = std::move(fd);
  return stream;
}

void LspStream::send(std::string_view body) {
  if (!fd_.valid()) return;
  outgoing_ += frameLspMessage(body);
  if (unsentBytes() > limits_.maxUnsentBytes) {
    return failLater("the peer stopped reading (" + std::to_string(unsentBytes() >> 20) +
                     " MiB unsent)");
  }
  if (std::string why; !flush(why)) failLater(why);
}

void LspStream::close() {
  failure_.reset();  // closed on purpose: a failure met before is nobody's business now
  watch_.reset();
  fd_.reset();
  outgoing_.clear();
  sentOffset_ = 0;
}

void LspStream::onEvents(uint32_t revents) {
  if (std::string why; (revents & EPOLLOUT) != 0 && !flush(why)) return fail(why);
  if ((revents & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP)) != 0) readAvailable();
}

void LspStream::readAvailable() {
  char buffer[65536];
  for (;;) {
    ssize_t got = ::recv(fd_.get(), buffer, sizeof buffer, 0);
    if (got < 0 && (errno == EAGAIN || errno == EINTR)) break;
    if (got < 0) return fail(std::strerror(errno));
    if (got == 0) {
      // Deliver what arrived before the end: a last answer, an exit notification.
      deliverFrames();
      if (fd_.valid()) fail("EOF");
      return;
    }
    incoming_.append(buffer, static_cast<size_t>(got));
    if (incoming_.size() > limits_.maxMessageBytes + 4096) {
      deliverFrames();
      if (!fd_.valid()) return;
    }
  }
  deliverFrames();
}

void LspStream::deliverFrames() {
  size_t offset = 0;
  while (fd_.valid()) {
    auto frame = splitLspFrame(std::string_view(incoming_).substr(offset), limits_.maxMessageBytes);
    if (!frame) return fail(frame.error().message);
    if (!*frame) break;
    size_t consumed = (*frame)->consumed;
    onMessage_((*frame)->body);  // may close this stream
    offset += consumed;
  }
  if (fd_.valid()) incoming_.erase(0, offset);
}

bool LspStream::flush(std::string& why) {
  while (sentOffset_ < outgoing_.size()) {
    ssize_t sent = ::send(fd_.get(), outgoing_.data() + sentOffset_, outgoing_.size() - sentOffset_,
                          MSG_NOSIGNAL | MSG_DONTWAIT);
    if (sent < 0 && errno == EINTR) continue;
    if (sent < 0 && errno == EAGAIN) break;
    if (sent < 0) {
      why = std::strerror(errno);
      return false;
    }
    sentOffset_ += static_cast<size_t>(sent);
  }
  if (sentOffset_ == outgoing_.size()) {
    outgoing_.clear();
    sentOffset_ = 0;
  } else if (sentOffset_ > (1u << 20) && sentOffset_ * 2 > outgoing_.size()) {
    outgoing_.erase(0, sentOffset_);  // keep the buffer from holding what went long ago
    sentOffset_ = 0;
  }
  bool wantWrite = !outgoing_.empty();
  if (wantWrite != wantWrite_) {
    wantWrite_ = wantWrite;
    (void)watch_.setEvents(EPOLLIN | EPOLLRDHUP | (wantWrite ? EPOLLOUT : 0u));
  }
  return true;
}

void LspStream::failLater(const std::string& why) {
  if (!fd_.valid()) return;
  close();
  auto timer = loop_.addOneShotTimer(Usec(0), [this, why](Usec) {
    auto hook = onClosed_;
    if (hook) hook(why);
  });
  if (timer) failure_ = std::move(*timer);
}

void LspStream::fail(const std::string& why) {
  if (!fd_.valid()) return;
  close();
  auto hook = onClosed_;  // the hook may destroy what owns this stream's callbacks
  if (hook) hook(why);
}

}  // namespace wslgo
