// Fuzzes parsePidList: a cgroup.procs (or v1 tasks) file, one pid per line.
#include "fuzz/fuzz_check.h"
#include "lib/process.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto pids = wslgo::parsePidList(wslgo::fuzz::asText(data, size));
  if (!pids) return 0;
  // A pid the guard would signal or read must be a real one: 0 and negatives mean groups.
  for (pid_t pid : *pids) FUZZ_CHECK(pid > 0);
  return 0;
}
