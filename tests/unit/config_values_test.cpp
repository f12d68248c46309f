#include "lib/config_values.h"

#include <catch2/catch.hpp>

using namespace wslgo;
using namespace std::chrono_literals;

namespace {

constexpr uint64_t kGiB = uint64_t{1} << 30;
constexpr uint64_t kMiB = uint64_t{1} << 20;

}  // namespace

TEST_CASE("sizes accept bytes and binary suffixes in either case", "[config_values]") {
  struct Row {
    const char* text;
    uint64_t bytes;
  };
  auto row =
      GENERATE(Row{"0", 0}, Row{"1048576", 1048576}, Row{"300B", 300}, Row{"4K", 4096},
               Row{"4k", 4096}, Row{"4KiB", 4096}, Row{"800M", 800 * kMiB}, Row{"800m", 800 * kMiB},
               Row{"512MiB", 512 * kMiB}, Row{"3G", 3 * kGiB}, Row{"3GiB", 3 * kGiB},
               Row{"2T", 2 * 1024 * kGiB}, Row{"1.5G", 1610612736}, Row{"0.5K", 512},
               Row{"1.000001K", 1024}, Row{"18446744073709551615", 18446744073709551615ull},
               Row{"16777215.999999T", 18446744073708452104ull});
  CAPTURE(row.text);
  auto parsed = parseBytes(row.text);
  REQUIRE(parsed.ok());
  CHECK(*parsed == row.bytes);
}

TEST_CASE("sizes reject garbage, negatives, fractions of bytes and overflow", "[config_values]") {
  struct Row {
    const char* text;
    const char* why;
  };
  auto row = GENERATE(
      Row{"", "empty"}, Row{"3Q", "(use bytes"}, Row{"-1G", "negative"}, Row{"-5", "negative"},
      Row{"1.5", "fraction of a byte"}, Row{"99999999999T", "2^64"},
      Row{"18446744073709551616", "2^64"}, Row{"16777216T", "2^64"}, Row{"3MB", "ambiguous"},
      Row{"3 G", "(use bytes"}, Row{"G", "(use bytes"}, Row{"1.G", "(use bytes"},
      Row{"1.1234567G", "six decimals"}, Row{"3GiBs", "(use bytes"}, Row{"40%", "(use bytes"});
  CAPTURE(row.text);
  auto parsed = parseBytes(row.text);
  REQUIRE_FALSE(parsed.ok());
  CHECK(parsed.error().code == EINVAL);
  CHECK_THAT(parsed.error().message, Catch::Contains(row.why));
  CHECK_THAT(parsed.error().message, Catch::Contains("\"" + std::string(row.text) + "\""));
}

TEST_CASE("a size may be a percentage of MemTotal, rounded down to whole bytes",
          "[config_values]") {
  const uint64_t memTotal = 16 * kGiB + 7;
  CHECK(*parseSize("40%", 16 * kGiB) == 6871947673ull);  // 0.4 * 2^34, rounded down
  CHECK(*parseSize("100%", memTotal) == memTotal);
  CHECK(*parseSize("50%", 1001) == 500);
  CHECK(*parseSize("12.5%", 8 * kGiB) == kGiB);
  CHECK(*parseSize("3G", memTotal) == 3 * kGiB);
  CHECK(*parseSize("100%", UINT64_MAX) == UINT64_MAX);
}

TEST_CASE("a percentage size not above 0 and at most 100, or without MemTotal, is an error",
          "[config_values]") {
  for (const char* text : {"0%", "101%", "100.5%", "-5%", "%", "abc%", "40 %"}) {
    CAPTURE(text);
    auto parsed = parseSize(text, 16 * kGiB);
    REQUIRE_FALSE(parsed.ok());
    CHECK_THAT(parsed.error().message, Catch::Contains("percentage"));
  }
  auto unknown = parseSize("40%", 0);
  REQUIRE_FALSE(unknown.ok());
  CHECK_THAT(unknown.error().message, Catch::Contains("MemTotal is unknown"));
  auto garbage = parseSize("3Q", 16 * kGiB);
  REQUIRE_FALSE(garbage.ok());
  CHECK(garbage.error().message ==
        R"("3Q" is not a size (use bytes, "800M", "3G" or a percentage of MemTotal like "40%"))");
}

TEST_CASE("percentages parse to their number and must end in a percent sign", "[config_values]") {
  CHECK(*parsePercentage("40%") == 40.0);
  CHECK(*parsePercentage("0.5%") == 0.5);
  CHECK(*parsePercentage("100%") == 100.0);
  CHECK_FALSE(parsePercentage("40").ok());
  CHECK_FALSE(parsePercentage("").ok());
  CHECK_FALSE(parsePercentage("1000000000000000000000%").ok());
}

TEST_CASE("durations accept ms, s, m, h, compounds and decimals", "[config_values]") {
  struct Row {
    const char* text;
    Usec value;
  };
  auto row = GENERATE(Row{"500ms", 500ms}, Row{"30s", 30s}, Row{"5m", 5min}, Row{"1h", 1h},
                      Row{"1h30m", 90min}, Row{"1m30s500ms", 90500ms}, Row{"1.5s", 1500ms},
                      Row{"0s", 0s}, Row{"250us", Usec(250)}, Row{"0.000001s", Usec(1)});
  CAPTURE(row.text);
  auto parsed = parseDuration(row.text);
  REQUIRE(parsed.ok());
  CHECK(parsed->count() == row.value.count());
}

TEST_CASE("durations reject bare numbers, unknown units, negatives and overflow",
          "[config_values]") {
  struct Row {
    const char* text;
    const char* why;
  };
  auto row =
      GENERATE(Row{"30", "add a unit"}, Row{"", "empty"}, Row{"-5s", "negative"},
               Row{"5 s", "unknown unit"}, Row{"5sec", "unknown unit \"sec\""},
               Row{"5d", "unknown unit"}, Row{"s", "not a duration"}, Row{"1h30", "add a unit"},
               Row{"99999999999999999999h", "too long"}, Row{"3000000000h", "too long"});
  CAPTURE(row.text);
  auto parsed = parseDuration(row.text);
  REQUIRE_FALSE(parsed.ok());
  CHECK_THAT(parsed.error().message, Catch::Contains(row.why));
  CHECK_THAT(parsed.error().message, Catch::Contains(R"(like "30s", "500ms")"));
}

TEST_CASE("sizes and durations format the way people write them", "[config_values]") {
  CHECK(formatBytes(0) == "0B");
  CHECK(formatBytes(1023) == "1023B");
  CHECK(formatBytes(512 * kMiB) == "512M");
  CHECK(formatBytes(1610612736) == "1.5G");
  CHECK(formatBytes(2 * 1024 * kGiB) == "2T");
  CHECK(formatDuration(90min) == "1h30m");
  CHECK(formatDuration(250ms) == "250ms");
  CHECK(formatDuration(Usec(0)) == "0s");
  CHECK(formatDuration(1500ms) == "1s500ms");
}
