// FakeScheduler: synthetic time for the daemon's logic. Nothing moves until a test calls
// advance(); timers then fire in order, each at its own due time.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "daemon/scheduler.h"

namespace wslgo::test {

class FakeScheduler final : public Scheduler {
 public:
  // What wallNowUsec() says at monotonic 0: 2026-09-21T11:33:20Z.
  static constexpr uint64_t kWallAtZeroUsec = 1'790'000'000'000'000;

  explicit FakeScheduler(Usec start = std::chrono::hours(1)) : now_(start) {}

  Usec now() const override { return now_; }
  uint64_t wallNowUsec() const override {
    return kWallAtZeroUsec + static_cast<uint64_t>(now_.count());
  }
  Result<Timer> addRepeatingTimer(Usec interval, std::function<void(Usec now)> callback) override;
  Result<Timer> addOneShotTimer(Usec delay, std::function<void(Usec now)> callback) override;

  // Moves time forward by `by`, firing every timer that falls due on the way (those a callback
  // adds included).
  void advance(Usec by);
  // Fires what is due now: callbacks scheduled "at once", as the loop would on its next turn.
  void runDue() { advance(Usec(0)); }
  // Timers that will still fire.
  size_t pendingTimers() const;

  struct Entry {
    Usec due{0};
    Usec interval{0};
    Usec base{0};  // armed or last fired: a repeating timer's next firing counts from it
    bool repeating = false;
    bool done = false;  // fired (one-shot) or cancelled
    uint64_t order = 0;
    std::function<void(Usec)> callback;
  };

 private:
  Result<Timer> add(Usec delay, bool repeating, std::function<void(Usec)> callback);

  Usec now_;
  uint64_t nextOrder_ = 0;
  std::vector<std::shared_ptr<Entry>> entries_;
};

}  // namespace wslgo::test
