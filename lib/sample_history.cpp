#include "lib/sample_history.h"

#include <algorithm>

namespace wslgo {

size_t historyCapacity(Usec retention, Usec interval) {
  if (retention.count() <= 0 || interval.count() <= 0) return 1;
  // Divided before rounding up: retention + interval could overflow for absurd durations.
  auto count = retention.count() / interval.count() + (retention.count() % interval.count() != 0);
  return std::clamp<size_t>(static_cast<size_t>(count), 1, kMaxHistorySamples);
}

SampleHistory::SampleHistory(Usec retention, size_t capacity)
    : retentionUsec_(retention.count() > 0 ? static_cast<uint64_t>(retention.count()) : 0),
      ring_(std::max<size_t>(capacity, 1)) {}

const HistorySample& SampleHistory::at(size_t index) const {
  return ring_[(first_ + index) % ring_.size()];
}

void SampleHistory::dropOldest() {
  first_ = (first_ + 1) % ring_.size();
  --size_;
}

void SampleHistory::add(const HistorySample& sample) {
  if (size_ > 0 && sample.usec < at(size_ - 1).usec) {
    first_ = 0;
    size_ = 0;
  }
  if (size_ == ring_.size()) dropOldest();
  ring_[(first_ + size_) % ring_.size()] = sample;
  ++size_;
  // Below retention the subtraction would wrap: everything is recent then.
  if (sample.usec >= retentionUsec_) {
    uint64_t horizon = sample.usec - retentionUsec_;
    while (size_ > 1 && at(0).usec <= horizon) dropOldest();
  }
}

std::vector<HistorySample> SampleHistory::since(uint64_t usec) const {
  // Kept in time order, so the first sample at or after `usec` is found by bisection.
  size_t low = 0;
  size_t high = size_;
  while (low < high) {
    size_t middle = low + (high - low) / 2;
    if (at(middle).usec < usec) {
      low = middle + 1;
    } else {
      high = middle;
    }
  }
  std::vector<HistorySample> out;
  out.reserve(size_ - low);
  for (size_t i = low; i < size_; ++i) out.push_back(at(i));
  return out;
}

}  // namespace wslgo
