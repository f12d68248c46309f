// GrowthTracker: the slope of a workspace's memory over a time window, in bytes per minute.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "lib/usec.h"

namespace wslgo {

// Keeps the readings of the last `window` in a ring that grows to the number of samples a
// window holds and is then reused, so steady sampling allocates nothing. It never grows past
// kMaxReadings: beyond that the oldest reading goes, whatever the window (the configuration
// keeps a window's readings below it at the fast sampling interval).
class GrowthTracker {
 public:
  static constexpr size_t kMaxReadings = 43'200;

  void add(Usec now, double bytes, Usec window);

  // The least-squares slope over the window, in bytes per minute. A fit through every reading
  // rather than last-minus-first, so one spike at either end does not read as growth. Unset
  // until the readings span half the window: two samples a second apart say nothing.
  std::optional<double> bytesPerMinute(Usec window) const;

  void clear();
  size_t size() const { return size_; }

 private:
  struct Reading {
    Usec at;
    double bytes;
  };
  const Reading& at(size_t i) const { return ring_[(head_ + i) % ring_.size()]; }

  std::vector<Reading> ring_;
  size_t head_ = 0;  // index of the oldest reading
  size_t size_ = 0;
};

}  // namespace wslgo
