#include "daemon/event_loop.h"

#include <signal.h>
#include <sys/signalfd.h>
#include <systemd/sd-event.h>
#include <time.h>

#include <cerrno>
#include <string>
#include <vector>

namespace wslgo {

namespace {

// sd-event's default accuracy is 250 ms, which would smear a 250 ms fast-sampling interval
// over twice its length; 1 ms still lets the kernel coalesce wake-ups.
constexpr uint64_t kTimerAccuracyUsec = 1000;

Error sdError(int negativeErrno, std::string what) {
  return errnoError(-negativeErrno, "sd-event", std::move(what));
}

uint64_t toUsec(Usec value) { return value.count() > 0 ? static_cast<uint64_t>(value.count()) : 0; }

// Adds without wrapping: a huge interval means "practically never", not "in the past".
uint64_t addSaturating(uint64_t a, uint64_t b) {
  return b > UINT64_MAX - a ? UINT64_MAX - 1 : a + b;
}

template <class State>
void destroyState(void* userdata) {
  delete static_cast<State*>(userdata);
}

// Takes ownership of a source just added (`added` is what sd_event_add_* returned) and of the
// state its callback reads: from here the state is freed with the source, or at once if the
// source could not be added or given its destroy callback.
template <class State>
Result<EventSource> ownSource(int added, sd_event_source* source, State* state,
                              const std::string& what) {
  if (added < 0) {
    delete state;
    return sdError(added, "cannot " + what);
  }
  EventSource owned(source);
  int r = sd_event_source_set_destroy_callback(source, destroyState<State>);
  if (r < 0) {
    delete state;
    return sdError(r, "cannot " + what + ": cannot attach its state");
  }
  return owned;
}

}  // namespace

// What every source's state shares: the loop it belongs to, which tracks it while both live
// (see ~EventLoop).
struct SourceState {
  explicit SourceState(EventLoop& owner) : loop(&owner) { owner.track(this); }
  SourceState(const SourceState&) = delete;
  SourceState& operator=(const SourceState&) = delete;
  virtual ~SourceState() {
    if (loop != nullptr) loop->untrack(this);
  }
  // Moves the callback out, for the loop's destructor to drop once no state is touched again.
  virtual std::function<void()> releaseCallback() = 0;

  EventLoop* loop;  // null once the loop is gone
};

namespace {

template <class Callback>
std::function<void()> released(Callback& callback) {
  return [dropped = std::move(callback)] {};
}

}  // namespace

struct TimerState final : SourceState {
  TimerState(EventLoop& owner, std::function<void(Usec)> onFire, uint64_t interval, bool repeats)
      : SourceState(owner),
        callback(std::move(onFire)),
        intervalUsec(interval),
        repeating(repeats) {}
  std::function<void()> releaseCallback() override { return released(callback); }

  std::function<void(Usec)> callback;
  uint64_t intervalUsec = 0;
  uint64_t baseUsec = 0;  // when the timer was armed or last fired; the next firing counts from it
  bool repeating = false;
  bool fired = false;
};

namespace {

struct IoState final : SourceState {
  IoState(EventLoop& owner, std::function<void(uint32_t)> onEvents)
      : SourceState(owner), callback(std::move(onEvents)) {}
  std::function<void()> releaseCallback() override { return released(callback); }

  std::function<void(uint32_t)> callback;
};

struct SignalState final : SourceState {
  SignalState(EventLoop& owner, std::function<void(int)> onSignal)
      : SourceState(owner), callback(std::move(onSignal)) {}
  std::function<void()> releaseCallback() override { return released(callback); }

  std::function<void(int)> callback;
};

uint64_t loopNow(sd_event* event, clockid_t clock = CLOCK_MONOTONIC) {
  uint64_t now = 0;
  if (sd_event_now(event, clock, &now) < 0) {
    timespec ts{};
    ::clock_gettime(clock, &ts);
    now = static_cast<uint64_t>(ts.tv_sec) * 1000000u + static_cast<uint64_t>(ts.tv_nsec) / 1000u;
  }
  return now;
}

// The next firing after `base`, never in the past: a loop that stalled (suspend, a slow
// callback) skips the missed ticks instead of firing them back to back.
uint64_t nextFiring(uint64_t base, uint64_t interval, uint64_t now) {
  const uint64_t next = addSaturating(base, interval);
  return next < now ? now : next;
}

int onTimer(sd_event_source* source, uint64_t scheduled, void* userdata) {
  auto* state = static_cast<TimerState*>(userdata);
  sd_event* event = sd_event_source_get_event(source);
  const uint64_t now = loopNow(event);
  if (state->repeating) {
    // Re-armed before the callback runs, so a setInterval() inside it counts from this firing.
    state->baseUsec = scheduled;
    const uint64_t next = addSaturating(scheduled, state->intervalUsec);
    sd_event_source_set_time(source, next > now ? next : addSaturating(now, state->intervalUsec));
  } else {
    state->fired = true;
  }
  runGuarded(*state->loop, "timer callback", [&] { state->callback(Usec(now)); });
  return 0;
}

int onIo(sd_event_source* /*source*/, int /*fd*/, uint32_t revents, void* userdata) {
  auto* state = static_cast<IoState*>(userdata);
  runGuarded(*state->loop, "I/O callback", [&] { state->callback(revents); });
  return 0;
}

int onSignalInfo(sd_event_source* /*source*/, const struct signalfd_siginfo* info, void* userdata) {
  auto* state = static_cast<SignalState*>(userdata);
  const int signo = static_cast<int>(info->ssi_signo);
  runGuarded(*state->loop, "signal callback", [&] { state->callback(signo); });
  return 0;
}

// A timer on sd-event: the source, and the state its callback reads (owned by the source).
class SdEventTimer final : public TimerControl {
 public:
  SdEventTimer(EventSource source, TimerState* state) : source_(std::move(source)), state_(state) {}

  void setInterval(Usec interval) override {
    const uint64_t usec = toUsec(interval);
    if (usec == state_->intervalUsec) return;
    state_->intervalUsec = usec;
    if (!state_->repeating) return;
    sd_event_source_set_time(
        source_.raw(),
        nextFiring(state_->baseUsec, usec, loopNow(sd_event_source_get_event(source_.raw()))));
  }
  Usec interval() const override { return Usec(static_cast<Usec::rep>(state_->intervalUsec)); }
  bool pending() const override { return !state_->fired; }

 private:
  EventSource source_;
  TimerState* state_;  // freed with the source
};

}  // namespace

EventSource::EventSource(EventSource&& other) noexcept
    : source_(std::exchange(other.source_, nullptr)) {}

EventSource& EventSource::operator=(EventSource&& other) noexcept {
  if (this != &other) {
    reset();
    source_ = std::exchange(other.source_, nullptr);
  }
  return *this;
}

EventSource::~EventSource() { reset(); }

void EventSource::reset() {
  // disable_unref: a source still referenced elsewhere (sd-event holds one while dispatching)
  // must not fire again after its owner let go.
  if (source_ != nullptr) sd_event_source_disable_unref(std::exchange(source_, nullptr));
}

Result<void> IoWatch::setEvents(uint32_t events) {
  if (!source_) return errnoError(EINVAL, "sd-event", "setEvents on an empty I/O watch");
  const int r = sd_event_source_set_io_events(source_.raw(), events);
  if (r < 0) return sdError(r, "cannot change the events of an I/O watch");
  return {};
}

Result<void> IoWatch::disable() {
  if (!source_) return errnoError(EINVAL, "sd-event", "disable on an empty I/O watch");
  const int r = sd_event_source_set_enabled(source_.raw(), SD_EVENT_OFF);
  if (r < 0) return sdError(r, "cannot disable an I/O watch");
  return {};
}

Result<std::unique_ptr<EventLoop>> EventLoop::create() {
  sd_event* event = nullptr;
  const int r = sd_event_new(&event);
  if (r < 0) return sdError(r, "cannot create the event loop");
  return std::unique_ptr<EventLoop>(new EventLoop(event));
}

EventLoop::~EventLoop() {
  // A source still alive here is held by an object that outlives the loop, or by a closure that
  // keeps itself alive through its own sources until it finishes (an exchange with gopls in
  // flight at shutdown). None of their callbacks can run any more. Dropping them ends such
  // cycles, which would otherwise keep their sources, their owners and the loop allocated for
  // good (valgrind saw a probe's at exit). Every callback is moved out before any is destroyed:
  // destroying one may free other sources, and with them their states.
  std::vector<std::function<void()>> dropped;
  dropped.reserve(sources_.size());
  for (SourceState* state : sources_) {
    state->loop = nullptr;
    dropped.push_back(state->releaseCallback());
  }
  sources_.clear();
  dropped.clear();
  sd_event_unref(event_);
}

void EventLoop::track(SourceState* state) { sources_.insert(state); }

void EventLoop::untrack(SourceState* state) { sources_.erase(state); }

Usec EventLoop::now() const { return Usec(static_cast<Usec::rep>(loopNow(event_))); }

uint64_t EventLoop::wallNowUsec() const { return loopNow(event_, CLOCK_REALTIME); }

namespace {

Result<Timer> addTimer(EventLoop& loop, Usec delay, std::function<void(Usec)> callback,
                       bool repeating) {
  auto* state = new TimerState(loop, std::move(callback), toUsec(delay), repeating);
  state->baseUsec = loopNow(loop.raw());
  sd_event_source* source = nullptr;
  int r = sd_event_add_time(loop.raw(), &source, CLOCK_MONOTONIC,
                            addSaturating(state->baseUsec, state->intervalUsec), kTimerAccuracyUsec,
                            onTimer, state);
  auto owned = ownSource(r, source, state, "add a timer");
  if (!owned) return owned.error();
  if (repeating) sd_event_source_set_enabled(source, SD_EVENT_ON);
  return Timer(std::make_unique<SdEventTimer>(std::move(*owned), state));
}

}  // namespace

Result<Timer> EventLoop::addRepeatingTimer(Usec interval, std::function<void(Usec now)> callback) {
  if (interval.count() <= 0) {
    return errnoError(EINVAL, "sd-event", "a repeating timer needs an interval above zero");
  }
  return addTimer(*this, interval, std::move(callback), true);
}

Result<Timer> EventLoop::addOneShotTimer(Usec delay, std::function<void(Usec now)> callback) {
  return addTimer(*this, delay, std::move(callback), false);
}

Result<IoWatch> EventLoop::addIo(int fd, uint32_t events,
                                 std::function<void(uint32_t revents)> callback) {
  auto* state = new IoState(*this, std::move(callback));
  sd_event_source* source = nullptr;
  int r = sd_event_add_io(event_, &source, fd, events, onIo, state);
  auto owned = ownSource(r, source, state, "watch fd " + std::to_string(fd));
  if (!owned) return owned.error();
  return IoWatch(std::move(*owned));
}

Result<SignalWatch> EventLoop::onSignal(int signo, std::function<void(int signo)> callback) {
  sigset_t mask;
  sigemptyset(&mask);
  if (sigaddset(&mask, signo) != 0) {
    return errnoError(EINVAL, "sd-event", "no such signal: " + std::to_string(signo));
  }
  // sd-event reads signals through a signalfd, which only sees signals that are blocked.
  int r = pthread_sigmask(SIG_BLOCK, &mask, nullptr);
  if (r != 0) return errnoError(r, "sd-event", "cannot block signal " + std::to_string(signo));

  auto* state = new SignalState(*this, std::move(callback));
  sd_event_source* source = nullptr;
  r = sd_event_add_signal(event_, &source, signo, onSignalInfo, state);
  auto owned = ownSource(r, source, state, "watch signal " + std::to_string(signo));
  if (!owned) return owned.error();
  return SignalWatch(std::move(*owned));
}

Result<bool> EventLoop::enableWatchdog() {
  const int r = sd_event_set_watchdog(event_, 1);
  if (r < 0) return sdError(r, "cannot enable the watchdog (WATCHDOG_USEC)");
  return r > 0;
}

int EventLoop::run() { return sd_event_loop(event_); }

void EventLoop::exit(int code) { sd_event_exit(event_, code); }

void EventLoop::reportError(std::string_view what) const noexcept {
  if (!errorHook_) return;
  try {
    errorHook_(what);
  } catch (...) {  // NOLINT(bugprone-empty-catch): a throwing hook has nowhere to report to
  }
}

}  // namespace wslgo
