// Fuzzes parsePressure: /proc/pressure/{memory,cpu,io} and cgroup *.pressure files.
#include <cmath>

#include "fuzz/fuzz_check.h"
#include "lib/psi.h"

namespace {

// The averages are shares of wall time: thresholds compare against them, so a NaN or a negative
// share would never (or always) cross a line.
void checkLine(const wslgo::PressureLine& line) {
  for (double average : {line.avg10, line.avg60, line.avg300}) {
    FUZZ_CHECK(std::isfinite(average));
    FUZZ_CHECK(average >= 0);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto pressure = wslgo::parsePressure(wslgo::fuzz::asText(data, size));
  if (!pressure) return 0;
  checkLine(pressure->some);
  if (pressure->full) checkLine(*pressure->full);
  return 0;
}
