// Scheduler: the clocks and timers the guard's logic runs on — sd-event in the daemon, synthetic
// time in the unit tests.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include "lib/result.h"
#include "lib/usec.h"

namespace wslgo {

// What a timer handle controls; one implementation per scheduler.
class TimerControl {
 public:
  virtual ~TimerControl() = default;
  virtual void setInterval(Usec interval) = 0;
  virtual Usec interval() const = 0;
  virtual bool pending() const = 0;
};

// A one-shot or repeating timer; destroying (or reset()ting) the handle cancels it, also from
// inside its own callback.
class [[nodiscard]] Timer {
 public:
  Timer() = default;
  explicit Timer(std::unique_ptr<TimerControl> control) : control_(std::move(control)) {}

  // Repeating timers: the next firing moves to (last firing + interval), or now if that is
  // past, so switching to a fast interval near a threshold takes effect at once, and setting
  // the same interval again changes nothing.
  void setInterval(Usec interval) {
    if (control_) control_->setInterval(interval);
  }
  Usec interval() const { return control_ ? control_->interval() : Usec(0); }
  // False once a one-shot timer has fired.
  bool pending() const { return control_ && control_->pending(); }
  void reset() { control_.reset(); }
  explicit operator bool() const { return static_cast<bool>(control_); }

 private:
  std::unique_ptr<TimerControl> control_;
};

class Scheduler {
 public:
  virtual ~Scheduler() = default;

  // CLOCK_MONOTONIC of the current loop iteration: the `now` handed to the policy engine, so
  // every decision in one iteration sees the same instant.
  virtual Usec now() const = 0;
  // CLOCK_REALTIME of the same iteration, µs since the epoch: for timestamps people read
  // (history, last action, profile names), never for intervals.
  virtual uint64_t wallNowUsec() const = 0;

  virtual Result<Timer> addRepeatingTimer(Usec interval,
                                          std::function<void(Usec now)> callback) = 0;
  virtual Result<Timer> addOneShotTimer(Usec delay, std::function<void(Usec now)> callback) = 0;
};

}  // namespace wslgo
