// Fuzzes parseProcessStatus: /proc/PID/status.
#include "fuzz/fuzz_check.h"
#include "lib/process.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto status = wslgo::parseProcessStatus(wslgo::fuzz::asText(data, size));
  if (!status) return 0;
  FUZZ_CHECK(status->pid >= 0);
  FUZZ_CHECK(status->ppid >= 0);
  return 0;
}
