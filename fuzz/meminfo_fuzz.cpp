// Fuzzes parseMeminfo (/proc/meminfo) and parseMinFreeKbytes (/proc/sys/vm/min_free_kbytes), and
// the MemAvailable estimate made from what they parse.
#include "fuzz/fuzz_check.h"
#include "lib/meminfo.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace wslgo;
  std::string_view text = fuzz::asText(data, size);
  auto minFree = parseMinFreeKbytes(text);
  auto meminfo = parseMeminfo(text);
  if (!meminfo) return 0;
  FUZZ_CHECK(meminfo->swapUsed() <= meminfo->swapTotal);
  // The estimate falls back to MemFree rather than report more than MemTotal.
  uint64_t estimate = estimateMemAvailable(*meminfo, minFree ? *minFree : 0);
  FUZZ_CHECK(estimate <= meminfo->memTotal || estimate == meminfo->memFree);
  return 0;
}
