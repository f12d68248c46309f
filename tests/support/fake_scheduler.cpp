#include "tests/support/fake_scheduler.h"

#include <algorithm>

namespace wslgo::test {
namespace {

class FakeTimer final : public TimerControl {
 public:
  explicit FakeTimer(std::shared_ptr<FakeScheduler::Entry> entry) : entry_(std::move(entry)) {}
  ~FakeTimer() override { entry_->done = true; }

  void setInterval(Usec interval) override {
    if (interval == entry_->interval) return;
    entry_->interval = interval;
    if (entry_->repeating) entry_->due = entry_->base + interval;
  }
  Usec interval() const override { return entry_->interval; }
  bool pending() const override { return !entry_->done; }

 private:
  std::shared_ptr<FakeScheduler::Entry> entry_;
};

}  // namespace

Result<Timer> FakeScheduler::add(Usec delay, bool repeating, std::function<void(Usec)> callback) {
  auto entry = std::make_shared<Entry>(Entry{.due = now_ + delay,
                                             .interval = delay,
                                             .base = now_,
                                             .repeating = repeating,
                                             .done = false,
                                             .order = nextOrder_++,
                                             .callback = std::move(callback)});
  entries_.push_back(entry);
  return Timer(std::make_unique<FakeTimer>(std::move(entry)));
}

Result<Timer> FakeScheduler::addRepeatingTimer(Usec interval,
                                               std::function<void(Usec now)> callback) {
  if (interval.count() <= 0) {
    return errnoError(EINVAL, "fake scheduler", "a repeating timer needs an interval above zero");
  }
  return add(interval, true, std::move(callback));
}

Result<Timer> FakeScheduler::addOneShotTimer(Usec delay, std::function<void(Usec now)> callback) {
  return add(std::max(delay, Usec(0)), false, std::move(callback));
}

void FakeScheduler::advance(Usec by) {
  const Usec target = now_ + by;
  for (;;) {
    std::erase_if(entries_, [](const auto& entry) { return entry->done; });
    auto next =
        std::min_element(entries_.begin(), entries_.end(), [](const auto& a, const auto& b) {
          return a->due != b->due ? a->due < b->due : a->order < b->order;
        });
    if (next == entries_.end() || (*next)->due > target) break;
    std::shared_ptr<Entry> entry = *next;  // alive through its callback even if cancelled there
    now_ = std::max(now_, entry->due);
    if (entry->repeating) {
      entry->base = entry->due;
      entry->due = entry->due + entry->interval;
    } else {
      entry->done = true;
    }
    entry->order = nextOrder_++;  // a repeating timer goes behind the others due at once
    auto callback = entry->callback;
    callback(now_);
  }
  now_ = std::max(now_, target);
}

size_t FakeScheduler::pendingTimers() const {
  return static_cast<size_t>(
      std::count_if(entries_.begin(), entries_.end(), [](const auto& e) { return !e->done; }));
}

}  // namespace wslgo::test
