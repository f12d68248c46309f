#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "lib/sparkline.h"

using namespace wslgo;

TEST_CASE("sparkline draws 0 to the largest value as the eight blocks, one column each",
          "[sparkline]") {
  CHECK(sparkline({0, 1, 2, 3, 4, 5, 6, 7, 8}, 9) == "▁▁▂▃▄▅▆▇█");
  CHECK(sparkline({8, 4, 1}, 3) == "█▄▁");
}

TEST_CASE("sparkline with a given max draws values against it and clamps those above",
          "[sparkline]") {
  CHECK(sparkline({1, 2, 4}, 3, 8) == "▁▂▄");
  CHECK(sparkline({16, 8, 9}, 3, 8) == "███");
}

TEST_CASE("sparkline rounds a value up to its eighth, so any value above 0 rises off the floor",
          "[sparkline]") {
  CHECK(sparkline({1, 101, 1000}, 3, 1000) == "▁▁█");
  CHECK(sparkline({126, 125, 999}, 3, 1000) == "▂▁█");
}

TEST_CASE("sparkline right-aligns fewer values than columns, newest last", "[sparkline]") {
  CHECK(sparkline({4, 8}, 5) == "   ▄█");
  CHECK(sparkline({}, 3) == "   ");
}

TEST_CASE("sparkline of values that are all 0 is the floor throughout", "[sparkline]") {
  CHECK(sparkline({0, 0, 0}, 3) == "▁▁▁");
  CHECK(sparkline({0, 0}, 2, 0) == "▁▁");
}

TEST_CASE("sparkline resamples more values than columns to each share's peak", "[sparkline]") {
  // 8 values into 4 columns: pairs; the peak of each pair is kept.
  CHECK(sparkline({0, 8, 1, 2, 4, 0, 0, 0}, 4) == "█▂▄▁");
  // 7 values into 3 columns: shares of 2, 2 and 3 values.
  CHECK(sparkline({1, 1, 2, 2, 0, 0, 8}, 3) == "▁▂█");
  // A single spike among many survives.
  std::vector<uint64_t> flat(1000, 1);
  flat[500] = 8;
  const std::string line = sparkline(flat, 10);
  CHECK(line == "▁▁▁▁▁█▁▁▁▁");
}

TEST_CASE("sparkline of width 0 or less is empty", "[sparkline]") {
  CHECK(sparkline({1, 2, 3}, 0).empty());
  CHECK(sparkline({1, 2, 3}, -4).empty());
}
