// SampleHistory: a bounded ring of a workspace's recent memory samples, for GetHistory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "lib/usec.h"

namespace wslgo {

struct HistorySample {
  uint64_t usec = 0;  // when it was taken, on the clock the daemon samples with
  uint64_t memoryCurrent = 0;
  uint64_t rss = 0;
  uint64_t heapInUse = 0;

  bool operator==(const HistorySample&) const = default;
};

// The most samples one workspace's history holds: 24 h at the default 2 s interval, 1.4 MB of
// ring per workspace. The ring is allocated whole when a workspace is added, so this, not the
// configuration, bounds what a workspace costs (guard.history is validated against it too).
inline constexpr size_t kMaxHistorySamples = 43'200;

// Samples one `interval` apart that span `retention`: 1 h at 2 s is 1800. At least 1, at most
// kMaxHistorySamples.
size_t historyCapacity(Usec retention, Usec interval);

// Keeps the samples of the last `retention` (those newer than newest - retention) and at most
// `capacity` of them, oldest dropped first; sampling faster than planned (the fast interval near
// a threshold) shortens the span kept rather than growing memory. The ring is allocated once,
// so add() never allocates. A capacity of 0 is taken as 1.
class SampleHistory {
 public:
  SampleHistory(Usec retention, size_t capacity);

  // A sample older than the newest means the clock went back: the older ones would claim to be
  // from the future, so the history starts over from this sample.
  void add(const HistorySample& sample);

  // The samples taken at or after `usec`, oldest first.
  std::vector<HistorySample> since(uint64_t usec) const;

  size_t size() const { return size_; }
  size_t capacity() const { return ring_.size(); }

 private:
  const HistorySample& at(size_t index) const;  // 0 is the oldest kept
  void dropOldest();

  uint64_t retentionUsec_;
  std::vector<HistorySample> ring_;
  size_t first_ = 0;  // index in ring_ of the oldest sample
  size_t size_ = 0;
};

}  // namespace wslgo
