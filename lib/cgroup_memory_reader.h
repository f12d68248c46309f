// CgroupMemoryReader: samples one unit's cgroup memory with its files kept open.
#pragma once

#include <optional>
#include <string>

#include "lib/cgroup_hierarchy.h"
#include "lib/cgroup_memory.h"
#include "lib/kept_file.h"
#include "lib/psi.h"
#include "lib/result.h"
#include "lib/sys_roots.h"

namespace wslgo {

// Reads memory from the best source the host offers for this cgroup, in order: cgroup2
// memory.* (when the memory controller is enabled there), the v1 memory controller, then the
// sum of VmRSS over the cgroup's processes (e.g. a non-root user on a hybrid host, where no one
// creates a v1 memory cgroup per unit). memory.pressure comes from cgroup2 whenever it exists.
//
// The source that worked is remembered, as is which optional files are missing, so a
// steady-state sample is one pread per file and allocates nothing (except in the process-RSS
// fallback). When the remembered source stops answering (the unit restarted into a new cgroup,
// or stopped) everything is probed again.
//
// Errors: a cgroup directory that is gone (the unit stopped) is ENOENT naming that directory;
// garbage in a file is EINVAL naming the file. A missing optional file (memory.swap.current with
// swap accounting off) is an unset figure, not an error.
class CgroupMemoryReader {
 public:
  CgroupMemoryReader(SysRoots roots, CgroupDirs dirs);

  const CgroupDirs& dirs() const { return dirs_; }
  Result<MemorySample> read();

 private:
  // A file that may legitimately be missing. Its absence is remembered until the next probe.
  struct OptionalFile {
    KeptFile file;
    bool absent = false;
  };

  // Each returns false when its main file is absent, true when it filled the sample.
  Result<bool> readV2(MemorySample& sample);
  Result<bool> readV1(MemorySample& sample);
  Result<void> readProcessRss(MemorySample& sample);
  Result<void> readPressure(MemorySample& sample);
  // Before probing the sources again: reopen every file, forget which were absent.
  void reset();

  SysRoots roots_;
  CgroupDirs dirs_;
  MemorySource source_ = MemorySource::None;  // the source of the last good sample

  KeptFile v2Current_;
  OptionalFile v2Stat_;
  OptionalFile v2Events_;
  OptionalFile v2High_;
  OptionalFile v2Max_;
  OptionalFile v2SwapCurrent_;
  std::string v2ReclaimPath_;
  std::optional<bool> reclaimAvailable_;
  std::optional<PressureReader> pressure_;

  KeptFile v1Usage_;
  OptionalFile v1Stat_;
  OptionalFile v1Limit_;
  OptionalFile v1Failcnt_;

  std::string procsDir_;  // the cgroup whose cgroup.procs the RSS fallback sums
  KeptFile procs_;
};

}  // namespace wslgo
