// Fuzzes memory.stat, v2 (parseCgroupV2MemoryStat) and v1 (parseCgroupV1MemoryStat).
#include "fuzz/fuzz_check.h"
#include "lib/cgroup_memory.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace wslgo;
  std::string_view text = fuzz::asText(data, size);
  auto v2 = parseCgroupV2MemoryStat(text);
  auto v1 = parseCgroupV1MemoryStat(text);
  // v2 reports swap in memory.swap.current, never in memory.stat.
  if (v2) FUZZ_CHECK(!v2->swap);
  (void)v1.ok();
  return 0;
}
