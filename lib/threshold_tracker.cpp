#include "lib/threshold_tracker.h"

namespace wslgo {

bool isBeyond(const Thresholds& thresholds, double value, double threshold) {
  return thresholds.higherIsWorse ? value >= threshold : value <= threshold;
}

double clearLine(const Thresholds& thresholds, double threshold) {
  return thresholds.higherIsWorse ? threshold * (1 - thresholds.hysteresis)
                                  : threshold * (1 + thresholds.hysteresis);
}

Level ThresholdTracker::update(const Thresholds& thresholds, double value, Usec now) {
  lastValue_ = value;
  constexpr Level kLevels[] = {Level::Warning, Level::High, Level::Critical};

  Level entered = Level::Ok;
  for (Level level : kLevels) {
    auto& since = beyondSince_[static_cast<size_t>(level)];
    auto threshold = thresholds.at(level);
    if (!threshold || !isBeyond(thresholds, value, *threshold)) {
      since.reset();
      continue;
    }
    if (!since) since = now;
    if (now - *since >= thresholds.sustain) entered = level;
  }
  if (entered > level_) {
    level_ = entered;
    return level_;
  }

  // Falling: every level from the current one down is dropped while the value is past its
  // clear line; the first one still held stops the fall.
  while (level_ > Level::Ok) {
    auto threshold = thresholds.at(level_);
    bool cleared = !threshold;
    if (threshold) {
      double line = clearLine(thresholds, *threshold);
      cleared = thresholds.higherIsWorse ? value < line : value > line;
    }
    if (!cleared) break;
    level_ = static_cast<Level>(static_cast<int>(level_) - 1);
  }
  return level_;
}

std::optional<Usec> ThresholdTracker::nextEntryDue(const Thresholds& thresholds) const {
  std::optional<Usec> due;
  for (int l = static_cast<int>(level_) + 1; l <= static_cast<int>(Level::Critical); ++l) {
    const auto& since = beyondSince_[static_cast<size_t>(l)];
    if (!since) continue;
    const Usec at = *since + thresholds.sustain;
    if (!due || at < *due) due = at;
  }
  return due;
}

}  // namespace wslgo
