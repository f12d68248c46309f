// EventLoop: the daemon's one sd-event loop, with RAII handles for its timers, fds and signals.
#pragma once

#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>

#include "daemon/scheduler.h"
#include "lib/result.h"
#include "lib/usec.h"

struct sd_event;
struct sd_event_source;

namespace wslgo {

struct SourceState;  // event_loop.cpp: a source's callback and what it needs

// Owns one sd_event_source: destroying (or reset()ting) the handle removes the source. Safe to
// destroy from inside the source's own callback; the callback's state lives until it returns.
class EventSource {
 public:
  EventSource() = default;
  explicit EventSource(sd_event_source* source) : source_(source) {}
  EventSource(EventSource&& other) noexcept;
  EventSource& operator=(EventSource&& other) noexcept;
  EventSource(const EventSource&) = delete;
  EventSource& operator=(const EventSource&) = delete;
  ~EventSource();

  void reset();
  explicit operator bool() const { return source_ != nullptr; }
  sd_event_source* raw() const { return source_; }

 private:
  sd_event_source* source_ = nullptr;
};

// Watches one fd for EPOLLIN/EPOLLOUT/...; the callback gets the revents.
class [[nodiscard]] IoWatch {
 public:
  IoWatch() = default;
  explicit IoWatch(EventSource source) : source_(std::move(source)) {}

  Result<void> setEvents(uint32_t events);
  // Stops watching without closing: for an fd that will only ever report an error again
  // (epoll reports EPOLLERR whatever the events asked for).
  Result<void> disable();
  void reset() { source_.reset(); }
  explicit operator bool() const { return static_cast<bool>(source_); }

 private:
  EventSource source_;
};

// A signal delivered through the loop (signalfd) rather than an async handler.
class [[nodiscard]] SignalWatch {
 public:
  SignalWatch() = default;
  explicit SignalWatch(EventSource source) : source_(std::move(source)) {}

  void reset() { source_.reset(); }
  explicit operator bool() const { return static_cast<bool>(source_); }

 private:
  EventSource source_;
};

class EventLoop final : public Scheduler {
 public:
  // Reports a callback that threw. The loop itself does not log; the daemon hooks its logger.
  using ErrorHook = std::function<void(std::string_view what)>;

  static Result<std::unique_ptr<EventLoop>> create();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;
  ~EventLoop() override;

  Usec now() const override;
  uint64_t wallNowUsec() const override;
  Result<Timer> addRepeatingTimer(Usec interval, std::function<void(Usec now)> callback) override;
  Result<Timer> addOneShotTimer(Usec delay, std::function<void(Usec now)> callback) override;
  Result<IoWatch> addIo(int fd, uint32_t events, std::function<void(uint32_t revents)> callback);

  // Blocks `signo` in the calling thread (so call this before starting any thread that should
  // inherit the mask) and delivers it through the loop.
  Result<SignalWatch> onSignal(int signo, std::function<void(int signo)> callback);

  // Sends WATCHDOG=1 at half of WATCHDOG_USEC for as long as the loop turns. True when the
  // service manager asked for a watchdog, false when it did not (nothing to do).
  Result<bool> enableWatchdog();

  // Runs until exit(); returns its code, or a negative errno if the loop itself failed.
  int run();
  void exit(int code);

  void setErrorHook(ErrorHook hook) { errorHook_ = std::move(hook); }
  // For callbacks' trampolines: report what a callback threw, never throwing itself.
  void reportError(std::string_view what) const noexcept;

  sd_event* raw() const { return event_; }

  // For the sources' own states (event_loop.cpp): each is tracked while both it and the loop
  // live, so that the loop's destructor can drop the callbacks still held.
  void track(SourceState* state);
  void untrack(SourceState* state);

 private:
  explicit EventLoop(sd_event* event) : event_(event) {}

  sd_event* event_ = nullptr;
  ErrorHook errorHook_;
  std::unordered_set<SourceState*> sources_;
};

// Runs `callback`, turning anything it throws into a report through the loop's error hook, so
// one failing callback does not end the loop.
template <class Callback>
void runGuarded(const EventLoop& loop, std::string_view where, Callback&& callback) noexcept {
  try {
    std::forward<Callback>(callback)();
  } catch (const std::exception& e) {
    loop.reportError(std::string(where) + ": " + e.what());
  } catch (...) {
    loop.reportError(std::string(where) + ": unknown exception");
  }
}

}  // namespace wslgo
