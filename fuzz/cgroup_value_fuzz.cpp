// Fuzzes the one-value cgroup memory files, v2 and v1: parseCgroupValue (memory.current,
// memory.swap.current, memory.usage_in_bytes, memory.failcnt) and parseMemoryLimit (memory.max,
// memory.high, memory.limit_in_bytes).
#include <string>

#include "fuzz/fuzz_check.h"
#include "lib/cgroup_memory.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace wslgo;
  std::string_view text = fuzz::asText(data, size);
  if (auto value = parseCgroupValue(text)) {
    // The kernel's own rendering of the value reads back as the same value.
    FUZZ_CHECK(*parseCgroupValue(std::to_string(*value) + "\n") == *value);
  }
  if (auto limit = parseMemoryLimit(text)) {
    FUZZ_CHECK(limit->kind != MemoryLimit::Kind::Absent);
    if (!limit->isLimited()) FUZZ_CHECK(limit->bytes == 0);
  }
  return 0;
}
