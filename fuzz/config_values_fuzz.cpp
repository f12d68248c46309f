// Fuzzes the configuration's values: parseBytes, parsePercentage, parseSize and parseDuration,
// with the ranges their documentation promises and the round trip of formatDuration.
#include <cmath>

#include "fuzz/fuzz_check.h"
#include "lib/config_values.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace wslgo;
  std::string_view text = fuzz::asText(data, size);
  (void)parseBytes(text).ok();
  if (auto percentage = parsePercentage(text)) {
    FUZZ_CHECK(std::isfinite(*percentage));
    FUZZ_CHECK(*percentage > 0 && *percentage <= 100);
  }
  // A percentage of MemTotal never exceeds MemTotal, whatever MemTotal is.
  for (uint64_t memTotal : {uint64_t{0}, uint64_t{1}, uint64_t{16} << 30, ~uint64_t{0}}) {
    auto size = parseSize(text, memTotal);
    if (size && !text.empty() && text.back() == '%') FUZZ_CHECK(*size <= memTotal);
  }
  if (auto duration = parseDuration(text)) {
    FUZZ_CHECK(duration->count() >= 0);
    // formatDuration writes what people read in messages; it must mean the same duration.
    auto again = parseDuration(formatDuration(*duration));
    FUZZ_CHECK(again.ok());
    FUZZ_CHECK(*again == *duration);
  }
  return 0;
}
