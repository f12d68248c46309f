// ThresholdTracker: one metric's level, entered after a sustain time, cleared through hysteresis.
#pragma once

#include <array>
#include <optional>

#include "lib/config.h"
#include "lib/levels.h"

namespace wslgo {

// Rules, per level L with threshold t:
//  - the metric is "beyond" L while value >= t (value <= t when lower is worse);
//  - L is entered once the metric has been beyond it without a break for `sustain`;
//  - the current level clears only when value < t * (1 - h) (value > t * (1 + h) when lower is
//    worse); it then falls to the highest lower level it has not cleared as well.
// So a single spike never raises the level and a value hovering at the line never lowers it.
class ThresholdTracker {
 public:
  // Feeds one reading and returns the level after it.
  Level update(const Thresholds& thresholds, double value, Usec now);

  Level level() const { return level_; }
  std::optional<double> lastValue() const { return lastValue_; }
  // Since when the metric has been beyond `level` without a break; unset if it is not.
  std::optional<Usec> beyondSince(Level level) const {
    return beyondSince_[static_cast<size_t>(level)];
  }
  // When the metric, if it stays where it is, completes the sustain time of a level above the
  // current one: the moment to look again rather than wait for the next sampling tick. Unset
  // when no higher level is pending.
  std::optional<Usec> nextEntryDue(const Thresholds& thresholds) const;

 private:
  Level level_ = Level::Ok;
  std::optional<double> lastValue_;
  std::array<std::optional<Usec>, 4> beyondSince_{};
};

// Whether `value` is at or beyond `threshold` in the metric's bad direction.
bool isBeyond(const Thresholds& thresholds, double value, double threshold);
// The line a level must be crossed back over to clear: threshold * (1 -/+ hysteresis).
double clearLine(const Thresholds& thresholds, double threshold);

}  // namespace wslgo
