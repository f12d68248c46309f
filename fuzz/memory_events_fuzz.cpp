// Fuzzes the OOM-kill counters: parseMemoryEvents (cgroup v2 memory.events) and the daemon's
// parseOomKillCount (memory.events or v1 memory.oom_control), which links without sd-bus.
#include "daemon/workspace_resources.h"
#include "fuzz/fuzz_check.h"
#include "lib/cgroup_memory.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace wslgo;
  std::string_view text = fuzz::asText(data, size);
  auto events = parseMemoryEvents(text);
  auto oomKills = parseOomKillCount(text);
  (void)events.ok();
  (void)oomKills;
  return 0;
}
