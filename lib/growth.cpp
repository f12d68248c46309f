#include "lib/growth.h"

#include <algorithm>

namespace wslgo {

void GrowthTracker::add(Usec now, double bytes, Usec window) {
  while (size_ > 0 && now - at(0).at > window) {
    head_ = (head_ + 1) % ring_.size();
    --size_;
  }
  if (size_ > 0 && now < at(size_ - 1).at) clear();  // time went backwards: start over
  if (size_ == ring_.size() && ring_.size() >= kMaxReadings) {
    head_ = (head_ + 1) % ring_.size();
    --size_;
  } else if (size_ == ring_.size()) {
    // Full: unroll into a larger ring, oldest first.
    std::vector<Reading> larger;
    larger.reserve(std::min(ring_.size() * 2 + 8, kMaxReadings));
    for (size_t i = 0; i < size_; ++i) larger.push_back(at(i));
    larger.resize(larger.capacity());
    ring_ = std::move(larger);
    head_ = 0;
  }
  ring_[(head_ + size_) % ring_.size()] = Reading{now, bytes};
  ++size_;
}

std::optional<double> GrowthTracker::bytesPerMinute(Usec window) const {
  if (size_ < 2) return std::nullopt;
  Usec first = at(0).at;
  Usec span = at(size_ - 1).at - first;
  if (span * 2 < window || span.count() <= 0) return std::nullopt;

  // Minutes relative to the first reading keep the sums small and the fit well conditioned.
  double n = static_cast<double>(size_);
  double sumT = 0, sumB = 0;
  for (size_t i = 0; i < size_; ++i) {
    sumT += static_cast<double>((at(i).at - first).count()) / 60e6;
    sumB += at(i).bytes;
  }
  double meanT = sumT / n, meanB = sumB / n;
  double covariance = 0, variance = 0;
  for (size_t i = 0; i < size_; ++i) {
    double t = static_cast<double>((at(i).at - first).count()) / 60e6 - meanT;
    covariance += t * (at(i).bytes - meanB);
    variance += t * t;
  }
  if (variance <= 0) return std::nullopt;
  return covariance / variance;
}

void GrowthTracker::clear() {
  head_ = 0;
  size_ = 0;
}

}  // namespace wslgo
