#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>

#include "lib/growth.h"
#include "lib/rate_limiter.h"

using namespace std::chrono_literals;
using wslgo::GrowthTracker;
using wslgo::RateLimiter;
using wslgo::Usec;

TEST_CASE("growth is the slope in bytes per minute over the window") {
  GrowthTracker growth;
  constexpr double kMiB = 1 << 20;
  // 1 GiB growing 50 MiB per minute, sampled every 2s for 5 minutes; window 2 minutes.
  for (int s = 0; s <= 300; s += 2) {
    growth.add(Usec(std::chrono::seconds(s)), 1024 * kMiB + 50 * kMiB * s / 60.0, 2min);
  }
  auto slope = growth.bytesPerMinute(2min);
  REQUIRE(slope.has_value());
  CHECK(*slope == Approx(50 * kMiB).epsilon(1e-9));
}

TEST_CASE("growth is unknown until the readings span half the window") {
  GrowthTracker growth;
  growth.add(Usec(0s), 100, 2min);
  growth.add(Usec(2s), 200, 2min);
  CHECK_FALSE(growth.bytesPerMinute(2min).has_value());
  for (int s = 4; s <= 60; s += 2) growth.add(Usec(std::chrono::seconds(s)), 200, 2min);
  CHECK(growth.bytesPerMinute(2min).has_value());
}

TEST_CASE("one spike at the end of the window does not read as fast growth") {
  GrowthTracker growth;
  for (int s = 0; s < 120; s += 2) growth.add(Usec(std::chrono::seconds(s)), 1e9, 2min);
  growth.add(Usec(120s), 2e9, 2min);
  auto slope = growth.bytesPerMinute(2min);
  REQUIRE(slope.has_value());
  // Last-minus-first would say 1 GB/min; the fit spreads the spike over the window.
  CHECK(*slope < 0.1e9);
}

TEST_CASE("readings older than the window are dropped and memory falls give a negative slope") {
  GrowthTracker growth;
  for (int s = 0; s < 600; s += 2) {
    double bytes = s < 480 ? 5e9 : 5e9 - (s - 480) * 1e7;  // flat, then falling 10 MB/s
    growth.add(Usec(std::chrono::seconds(s)), bytes, 2min);
  }
  auto slope = growth.bytesPerMinute(2min);
  REQUIRE(slope.has_value());
  CHECK(*slope == Approx(-6e8).epsilon(0.02));
}

TEST_CASE("the growth ring stops at kMaxReadings however long the window, dropping the oldest") {
  // A window of days sampled every 10 ms would otherwise grow the ring without end.
  GrowthTracker growth;
  const Usec window = std::chrono::hours(1000);
  const size_t readings = GrowthTracker::kMaxReadings + 5000;
  for (size_t i = 0; i < readings; ++i) {
    growth.add(Usec(std::chrono::milliseconds(10 * i)), 1e9 + 1e3 * static_cast<double>(i), window);
  }
  CHECK(growth.size() == GrowthTracker::kMaxReadings);
  // The newest readings are kept: the slope is still the one they show.
  growth.add(Usec(std::chrono::milliseconds(10 * readings)), 1e9 + 1e3 * readings, 1min);
  auto slope = growth.bytesPerMinute(1min);
  REQUIRE(slope.has_value());
  CHECK(*slope == Approx(1e3 * 100 * 60).epsilon(1e-6));
}

TEST_CASE("the rate limiter counts events inside a sliding window") {
  RateLimiter limiter;
  limiter.record(Usec(0s), 30min);
  limiter.record(Usec(10min), 30min);
  limiter.record(Usec(20min), 30min);
  CHECK(limiter.count(Usec(25min), 30min) == 3);
  CHECK_FALSE(limiter.allows(Usec(25min), 30min, 3));
  CHECK(limiter.oldestExpiresAt(Usec(25min), 30min) == Usec(30min));
  CHECK(limiter.allows(Usec(30min), 30min, 3));  // the first left the window
  CHECK(limiter.count(Usec(55min), 30min) == 0);
  CHECK_FALSE(limiter.oldestExpiresAt(Usec(55min), 30min).has_value());
}
