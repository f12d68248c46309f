// /proc/meminfo: system memory figures in bytes.
#pragma once

#include <cstdint>
#include <string_view>

#include "lib/kept_file.h"
#include "lib/result.h"
#include "lib/sys_roots.h"

namespace wslgo {

struct Meminfo {
  uint64_t memTotal = 0;
  uint64_t memFree = 0;
  uint64_t memAvailable = 0;
  // False when the kernel (before 3.14) has no MemAvailable line and memAvailable was
  // estimated by estimateMemAvailable() below.
  bool memAvailableReported = true;
  uint64_t buffers = 0;
  uint64_t cached = 0;
  uint64_t shmem = 0;
  uint64_t sReclaimable = 0;
  uint64_t active = 0;
  uint64_t inactive = 0;
  uint64_t activeFile = 0;
  uint64_t inactiveFile = 0;
  uint64_t swapTotal = 0;
  uint64_t swapFree = 0;
  uint64_t swapCached = 0;
  uint64_t dirty = 0;
  uint64_t anonPages = 0;

  uint64_t swapUsed() const { return swapTotal > swapFree ? swapTotal - swapFree : 0; }
};

// Parses the text of /proc/meminfo. MemTotal and MemFree are required; every other line is
// optional (kernels differ), unknown lines are ignored. A known line whose number does not parse,
// overflows 64 bits once converted to bytes, or lacks its "kB" unit (a line cut short) is an
// error naming the line. Without a MemAvailable line the estimate assumes a low watermark of 0;
// readers refine it with /proc/sys/vm/min_free_kbytes.
Result<Meminfo> parseMeminfo(std::string_view text);

// What MemAvailable would say on a kernel that lacks it: the kernel's own formula
// (si_mem_available, Linux 3.14) as procps-ng 3.3.10-3.3.17 `free` applies it on older kernels,
//   MemFree - low + pagecache - min(pagecache / 2, low) + SReclaimable - min(SReclaimable / 2, low)
// with pagecache = Active(file) + Inactive(file), low = min_free_kbytes * 5 / 4 (the sum of the
// zones' low watermarks), clamped to 0. Like procps, a result above MemTotal (lxcfs-style
// containers distort the figures) falls back to MemFree.
uint64_t estimateMemAvailable(const Meminfo& meminfo, uint64_t minFreeBytes);

// /proc/sys/vm/min_free_kbytes, in bytes.
Result<uint64_t> parseMinFreeKbytes(std::string_view text);

Result<Meminfo> readMeminfo(const SysRoots& roots);

// Keeps /proc/meminfo open for repeated sampling.
class MeminfoReader {
 public:
  explicit MeminfoReader(const SysRoots& roots);
  Result<Meminfo> read();

 private:
  KeptFile file_;
  // Only read on kernels without MemAvailable.
  KeptFile minFreeKbytes_;
};

}  // namespace wslgo
