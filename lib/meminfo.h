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
  // estimated the way procps' `free` does: MemFree + Cached + SReclaimable + Buffers - Shmem.
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
// optional (kernels differ), unknown lines are ignored.
Result<Meminfo> parseMeminfo(std::string_view text);

Result<Meminfo> readMeminfo(const SysRoots& roots);

// Keeps /proc/meminfo open for repeated sampling.
class MeminfoReader {
 public:
  explicit MeminfoReader(const SysRoots& roots);
  Result<Meminfo> read();

 private:
  KeptFile file_;
};

}  // namespace wslgo
