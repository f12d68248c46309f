#include <catch2/catch.hpp>

#include <chrono>
#include <vector>

#include "lib/threshold_tracker.h"

using namespace std::chrono_literals;
using wslgo::Level;
using wslgo::Thresholds;
using wslgo::ThresholdTracker;
using wslgo::Usec;

namespace {

struct Step {
  int second;
  double value;
  Level expected;
};

// Warning 100, high 200, critical 300, sustain 10s, hysteresis 10%.
Thresholds hundreds() {
  return Thresholds{.warning = 100,
                    .high = 200,
                    .critical = 300,
                    .sustain = 10s,
                    .hysteresis = 0.1,
                    .higherIsWorse = true};
}

void run(const Thresholds& thresholds, const std::vector<Step>& steps) {
  ThresholdTracker tracker;
  for (const Step& step : steps) {
    INFO("t=" << step.second << "s value=" << step.value);
    CHECK(tracker.update(thresholds, step.value, Usec(std::chrono::seconds(step.second))) ==
          step.expected);
  }
}

}  // namespace

TEST_CASE("a single spike above every threshold does not raise the level") {
  run(hundreds(), {{0, 50, Level::Ok},
                   {2, 900, Level::Ok},
                   {4, 50, Level::Ok},
                   {14, 50, Level::Ok},
                   {16, 900, Level::Ok}});
}

TEST_CASE("a level is entered once the metric stayed beyond it for the sustain time") {
  run(hundreds(), {{0, 150, Level::Ok},
                   {8, 150, Level::Ok},
                   {10, 150, Level::Warning},  // 10s at or above 100
                   {12, 250, Level::Warning},
                   {20, 250, Level::Warning},
                   {22, 250, Level::High}});
}

TEST_CASE("a dip below the line restarts the sustain clock") {
  run(hundreds(), {{0, 150, Level::Ok},
                   {8, 99, Level::Ok},
                   {10, 150, Level::Ok},
                   {18, 150, Level::Ok},
                   {20, 150, Level::Warning}});
}

TEST_CASE("without sustain a level is entered at the first reading at the line") {
  Thresholds thresholds = hundreds();
  thresholds.sustain = 0s;
  run(thresholds, {{0, 99.9, Level::Ok}, {1, 100, Level::Warning}, {2, 310, Level::Critical}});
}

TEST_CASE("a level clears only below its threshold less the hysteresis") {
  run(hundreds(), {{0, 250, Level::Ok},
                   {10, 250, Level::High},
                   {12, 199, Level::High},    // below 200 but not below 180
                   {14, 180.5, Level::High},  // hovering just above the clear line
                   {16, 179, Level::Warning},
                   {18, 91, Level::Warning},
                   {20, 89, Level::Ok}});
}

TEST_CASE("a fall skips every level whose clear line is crossed as well") {
  run(hundreds(), {{0, 350, Level::Ok}, {10, 350, Level::Critical}, {12, 10, Level::Ok}});
}

TEST_CASE("a value hovering at a threshold does not flap") {
  ThresholdTracker tracker;
  Thresholds thresholds = hundreds();
  std::vector<Level> seen;
  for (int s = 0; s < 600; s += 2) {
    double value = (s / 2) % 2 == 0 ? 101 : 97;  // crosses the line at every sample
    Level level = tracker.update(thresholds, value, Usec(std::chrono::seconds(s)));
    if (seen.empty() || seen.back() != level) seen.push_back(level);
  }
  CHECK(seen == std::vector<Level>{Level::Ok});
}

TEST_CASE("an unset level is skipped on the way up and down") {
  Thresholds thresholds{.warning = std::nullopt,
                        .high = 200,
                        .critical = std::nullopt,
                        .sustain = 0s,
                        .hysteresis = 0.1,
                        .higherIsWorse = true};
  run(thresholds,
      {{0, 150, Level::Ok}, {1, 500, Level::High}, {2, 185, Level::High}, {3, 170, Level::Ok}});
}

TEST_CASE("when lower is worse a level clears only above the threshold plus hysteresis") {
  // MemAvailable: warning below 1000, high below 500.
  Thresholds thresholds{.warning = 1000,
                        .high = 500,
                        .critical = std::nullopt,
                        .sustain = 4s,
                        .hysteresis = 0.2,
                        .higherIsWorse = false};
  run(thresholds, {{0, 400, Level::Ok},
                   {4, 400, Level::High},
                   {6, 590, Level::High},  // above 500 but not above 600
                   {8, 610, Level::Warning},
                   {10, 1100, Level::Warning},
                   {12, 1201, Level::Ok}});
}

TEST_CASE("the tracker remembers since when the metric has been beyond each level") {
  ThresholdTracker tracker;
  Thresholds thresholds = hundreds();
  (void)tracker.update(thresholds, 250, Usec(4s));
  (void)tracker.update(thresholds, 250, Usec(6s));
  CHECK(tracker.beyondSince(Level::Warning) == Usec(4s));
  CHECK(tracker.beyondSince(Level::High) == Usec(4s));
  CHECK_FALSE(tracker.beyondSince(Level::Critical).has_value());
  CHECK(tracker.lastValue() == 250);
}

TEST_CASE("the next entry is due when the earliest pending level completes its sustain") {
  const Thresholds thresholds = hundreds();
  ThresholdTracker tracker;
  CHECK_FALSE(tracker.nextEntryDue(thresholds));  // nothing pending before any reading

  tracker.update(thresholds, 150, Usec(3s));  // beyond warning from t=3s
  REQUIRE(tracker.nextEntryDue(thresholds));
  CHECK(*tracker.nextEntryDue(thresholds) == Usec(13s));

  tracker.update(thresholds, 250, Usec(5s));  // beyond high too, from t=5s: warning stays first
  CHECK(*tracker.nextEntryDue(thresholds) == Usec(13s));

  tracker.update(thresholds, 250, Usec(13s));  // warning entered; high is due at 15s
  REQUIRE(tracker.level() == Level::Warning);
  CHECK(*tracker.nextEntryDue(thresholds) == Usec(15s));

  tracker.update(thresholds, 150, Usec(14s));  // back under high: nothing higher is pending
  CHECK_FALSE(tracker.nextEntryDue(thresholds));
}
