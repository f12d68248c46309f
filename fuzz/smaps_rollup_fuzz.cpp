// Fuzzes parseSmapsRollup: /proc/PID/smaps_rollup.
#include "fuzz/fuzz_check.h"
#include "lib/process.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto rollup = wslgo::parseSmapsRollup(wslgo::fuzz::asText(data, size));
  (void)rollup.ok();
  return 0;
}
