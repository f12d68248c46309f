// MemorySample: one reading of a cgroup's memory, from whichever source this host offers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "lib/kept_file.h"
#include "lib/psi.h"
#include "lib/result.h"
#include "lib/sys_roots.h"

namespace wslgo {

// Which file a figure came from. Recorded per figure because a hybrid host mixes them: usage
// from v1 memory.usage_in_bytes, pressure from cgroup2's memory.pressure.
enum class MemorySource {
  None,        // not available on this host
  CgroupV2,    // memory.* in a cgroup2 hierarchy
  CgroupV1,    // memory.* in the v1 memory controller
  ProcessRss,  // the sum of VmRSS over the cgroup's processes (no memory controller for us)
};

std::string_view toString(MemorySource source);

// A limit file's value: absent on this layout, "max" (no limit), or bytes. Never 0 for "max".
struct MemoryLimit {
  enum class Kind { Absent, Unlimited, Bytes };
  Kind kind = Kind::Absent;
  uint64_t bytes = 0;

  static MemoryLimit absent() { return {}; }
  static MemoryLimit unlimited() { return {Kind::Unlimited, 0}; }
  static MemoryLimit of(uint64_t bytes) { return {Kind::Bytes, bytes}; }
  bool isLimited() const { return kind == Kind::Bytes; }
};

// Parses a file that holds one byte or event count (memory.current, memory.usage_in_bytes,
// memory.swap.current, memory.failcnt). A value that overflows 64 bits is an error.
Result<uint64_t> parseCgroupValue(std::string_view text);

// Parses a v2 limit file ("max\n" or a number); v1's "unlimited" (a number near 2^63) maps to
// Unlimited as well.
Result<MemoryLimit> parseMemoryLimit(std::string_view text);

// memory.stat, normalised: v1's total_rss/total_cache/total_inactive_file/total_active_file/
// total_shmem/total_swap map onto the v2 names. Lines this kernel does not have stay unset.
// `kernel` is v2's "kernel" line (Linux 5.18+); older kernels and v1 leave it unset rather than
// an estimate from kernel_stack, slab, percpu and sock that would not match what the kernel
// charges.
struct CgroupMemoryStat {
  std::optional<uint64_t> anon;
  std::optional<uint64_t> file;
  std::optional<uint64_t> kernel;
  std::optional<uint64_t> shmem;
  std::optional<uint64_t> sock;
  std::optional<uint64_t> inactiveFile;
  std::optional<uint64_t> activeFile;
  std::optional<uint64_t> swap;  // v1 total_swap only; v2 reports swap in memory.swap.current
};

Result<CgroupMemoryStat> parseCgroupV2MemoryStat(std::string_view text);
Result<CgroupMemoryStat> parseCgroupV1MemoryStat(std::string_view text);

// v2 memory.events counters. oom_kill appeared in Linux 4.13 and reads 0 on older kernels.
struct MemoryEvents {
  uint64_t low = 0;
  uint64_t high = 0;
  uint64_t max = 0;
  uint64_t oom = 0;
  uint64_t oomKill = 0;
};

Result<MemoryEvents> parseMemoryEvents(std::string_view text);

struct MemorySample {
  std::optional<uint64_t> current;  // memory in use, bytes
  MemorySource currentSource = MemorySource::None;
  CgroupMemoryStat stat;
  MemorySource statSource = MemorySource::None;
  std::optional<uint64_t> swapCurrent;
  MemorySource swapSource = MemorySource::None;
  std::optional<MemoryEvents> events;  // v2 only
  MemoryLimit high;                    // v2 only; v1 has no equivalent
  MemoryLimit max;                     // v2 memory.max or v1 memory.limit_in_bytes
  MemorySource limitSource = MemorySource::None;
  std::optional<uint64_t> failcnt;   // v1 only
  std::optional<Pressure> pressure;  // memory.pressure from a cgroup2 hierarchy
  bool reclaimAvailable = false;     // v2 memory.reclaim exists (Linux 5.19+)
  std::vector<pid_t> pids;           // filled when currentSource is ProcessRss

  // current minus inactive file cache: what the workspace holds that is not cheap to drop.
  std::optional<uint64_t> workingSet() const;
};

}  // namespace wslgo
