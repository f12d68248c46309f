#include "lib/sample_history.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <vector>

namespace wslgo {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr uint64_t kSecond = 1'000'000;

HistorySample sampleAt(uint64_t usec) { return {usec, usec * 3, usec * 2, usec + 7}; }

std::vector<uint64_t> timesOf(const std::vector<HistorySample>& samples) {
  std::vector<uint64_t> out;
  for (const auto& sample : samples) out.push_back(sample.usec);
  return out;
}

TEST_CASE("history capacity is the samples one interval apart that span the retention") {
  CHECK(historyCapacity(hours(1), seconds(2)) == 1800);
  CHECK(historyCapacity(hours(1), milliseconds(250)) == 14400);
  CHECK(historyCapacity(seconds(5), seconds(2)) == 3);
  CHECK(historyCapacity(seconds(0), seconds(2)) == 1);
  CHECK(historyCapacity(seconds(10), seconds(0)) == 1);
}

TEST_CASE("three hours at 2 s keep exactly the last hour: 1800 samples") {
  SampleHistory history(hours(1), historyCapacity(hours(1), seconds(2)));
  const uint64_t start = 1'700'000'000 * kSecond;
  uint64_t last = start;
  for (uint64_t t = start; t <= start + 3 * 3600 * kSecond; t += 2 * kSecond) {
    history.add(sampleAt(t));
    last = t;
  }
  REQUIRE(history.size() == 1800);
  auto all = history.since(0);
  REQUIRE(all.size() == 1800);
  CHECK(all.back() == sampleAt(last));
  CHECK(all.front() == sampleAt(last - 3598 * kSecond));
  for (size_t i = 1; i < all.size(); ++i) CHECK(all[i].usec - all[i - 1].usec == 2 * kSecond);
}

TEST_CASE("samples older than the retention go even when there is room") {
  SampleHistory history(seconds(10), 100);
  for (uint64_t t = 1; t <= 30; ++t) history.add(sampleAt(t * kSecond));
  CHECK(history.size() == 10);
  CHECK(history.since(0).front().usec == 21 * kSecond);
  // A gap longer than the retention leaves only the newest.
  history.add(sampleAt(100 * kSecond));
  CHECK(timesOf(history.since(0)) == std::vector<uint64_t>{100 * kSecond});
}

TEST_CASE("a full ring drops the oldest sample even inside the retention") {
  SampleHistory history(hours(1), 5);
  for (uint64_t t = 1; t <= 12; ++t) history.add(sampleAt(t));
  CHECK(history.size() == 5);
  CHECK(history.capacity() == 5);
  CHECK(timesOf(history.since(0)) == std::vector<uint64_t>{8, 9, 10, 11, 12});
}

TEST_CASE("since returns the samples at or after the time, oldest first, with their values") {
  SampleHistory history(hours(1), 10);
  for (uint64_t t : {10, 20, 30, 40}) history.add(sampleAt(t));
  CHECK(timesOf(history.since(0)) == std::vector<uint64_t>{10, 20, 30, 40});
  CHECK(timesOf(history.since(20)) == std::vector<uint64_t>{20, 30, 40});
  CHECK(timesOf(history.since(21)) == std::vector<uint64_t>{30, 40});
  CHECK(timesOf(history.since(40)) == std::vector<uint64_t>{40});
  CHECK(history.since(41).empty());
  CHECK(history.since(UINT64_MAX).empty());
  auto one = history.since(30);
  REQUIRE(one.size() == 2);
  CHECK(one[0].memoryCurrent == 90);
  CHECK(one[0].rss == 60);
  CHECK(one[0].heapInUse == 37);
}

TEST_CASE("since works across the ring's wrap-around") {
  SampleHistory history(hours(1), 4);
  for (uint64_t t = 1; t <= 7; ++t) history.add(sampleAt(t * 10));
  // Kept: 40 50 60 70, stored from the middle of the ring.
  CHECK(timesOf(history.since(0)) == std::vector<uint64_t>{40, 50, 60, 70});
  CHECK(timesOf(history.since(55)) == std::vector<uint64_t>{60, 70});
  CHECK(timesOf(history.since(70)) == std::vector<uint64_t>{70});
}

TEST_CASE("an empty history returns nothing") {
  SampleHistory history(hours(1), 1800);
  CHECK(history.size() == 0);
  CHECK(history.since(0).empty());
}

TEST_CASE("a clock that goes back starts the history over from the new sample") {
  SampleHistory history(hours(1), 10);
  for (uint64_t t : {100, 200, 300}) history.add(sampleAt(t));
  history.add(sampleAt(50));
  CHECK(timesOf(history.since(0)) == std::vector<uint64_t>{50});
  history.add(sampleAt(60));
  CHECK(timesOf(history.since(0)) == std::vector<uint64_t>{50, 60});
}

TEST_CASE("samples with the same time are all kept, in the order added") {
  SampleHistory history(hours(1), 10);
  history.add({5, 1, 0, 0});
  history.add({5, 2, 0, 0});
  auto kept = history.since(5);
  REQUIRE(kept.size() == 2);
  CHECK(kept[0].memoryCurrent == 1);
  CHECK(kept[1].memoryCurrent == 2);
}

TEST_CASE("early times below the retention do not wrap the horizon and drop samples") {
  SampleHistory history(hours(1), 10);
  for (uint64_t t : {0, 1, 2}) history.add(sampleAt(t));
  CHECK(history.size() == 3);
}

TEST_CASE("history capacity stops at kMaxHistorySamples whatever the retention") {
  // 1000000 h at 100 ms asked for 36 billion samples: bad_alloc at AddWorkspace, abort at start.
  CHECK(historyCapacity(hours(1000000), milliseconds(100)) == kMaxHistorySamples);
  CHECK(historyCapacity(hours(24), seconds(2)) == kMaxHistorySamples);
  CHECK(historyCapacity(Usec::max(), Usec(1)) == kMaxHistorySamples);
  SampleHistory history(hours(1000000), historyCapacity(hours(1000000), milliseconds(100)));
  CHECK(history.capacity() == kMaxHistorySamples);
}

TEST_CASE("a capacity of zero still keeps the newest sample") {
  SampleHistory history(hours(1), 0);
  history.add(sampleAt(1));
  history.add(sampleAt(2));
  CHECK(timesOf(history.since(0)) == std::vector<uint64_t>{2});
}

}  // namespace
}  // namespace wslgo
