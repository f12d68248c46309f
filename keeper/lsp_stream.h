// LspStream: one non-blocking unix stream socket that carries LSP messages, on the EventLoop —
// an editor's connection to the keeper, or the keeper's connection to a gopls.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "daemon/event_loop.h"
#include "daemon/unique_fd.h"
#include "lib/result.h"

namespace wslgo {

class LspStream {
 public:
  // Each complete message's body, in order. The hook may close the stream (or ask its owner to
  // destroy it later); the stream then reads no further message.
  using MessageHook = std::function<void(std::string_view body)>;
  // The peer closed, or the stream broke (a malformed frame, a peer that stopped reading):
  // called once, and never after close().
  using ClosedHook = std::function<void(const std::string& why)>;

  struct Limits {
    size_t maxMessageBytes = 64u << 20;
    // Bytes written but not yet taken by the peer: past this it is not reading, and the
    // stream is closed rather than growing without bound.
    size_t maxUnsentBytes = 256u << 20;
  };

  static Result<std::unique_ptr<LspStream>> open(EventLoop& loop, UniqueFd fd, Limits limits,
                                                 MessageHook onMessage, ClosedHook onClosed);
  LspStream(const LspStream&) = delete;
  LspStream& operator=(const LspStream&) = delete;
  ~LspStream() = default;

  // Frames `body` and writes it as soon as the peer takes it. Nothing happens once closed. A
  // failure here reaches the closed hook from the loop, never from inside send(): the caller is
  // in the middle of something.
  void send(std::string_view body);
  // Closes the socket without calling the closed hook (not even for a failure met before).
  void close();
  bool isOpen() const { return fd_.valid(); }
  size_t unsentBytes() const { return outgoing_.size() - sentOffset_; }

 private:
  LspStream(EventLoop& loop, Limits limits, MessageHook onMessage, ClosedHook onClosed)
      : loop_(loop),
        limits_(limits),
        onMessage_(std::move(onMessage)),
        onClosed_(std::move(onClosed)) {}

  void onEvents(uint32_t revents);
  void readAvailable();
  void deliverFrames();
  // Writes what the peer takes now; false (and `why`) when the stream broke.
  bool flush(std::string& why);
  void fail(const std::string& why);
  void failLater(const std::string& why);

  EventLoop& loop_;
  Limits limits_;
  MessageHook onMessage_;
  ClosedHook onClosed_;
  UniqueFd fd_;
  IoWatch watch_;
  std::string incoming_;
  std::string outgoing_;
  size_t sentOffset_ = 0;
  bool wantWrite_ = false;
  Timer failure_;  // a failure met inside send(), reported from the loop
};

}  // namespace wslgo
