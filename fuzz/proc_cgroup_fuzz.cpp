// Fuzzes parseProcCgroup (/proc/PID/cgroup) and the lookups the guard makes on its entries.
#include "fuzz/fuzz_check.h"
#include "lib/cgroup_hierarchy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace wslgo;
  auto entries = parseProcCgroup(fuzz::asText(data, size));
  if (!entries) return 0;
  auto controlGroup = controlGroupOf(*entries);
  auto memory = cgroupPathOf(*entries, "memory");
  auto systemd = cgroupPathOf(*entries, "name=systemd");
  // Whatever the file says, the path a reader joins under a mount is never empty.
  if (controlGroup) FUZZ_CHECK(!controlGroup->empty());
  (void)memory;
  (void)systemd;
  return 0;
}
