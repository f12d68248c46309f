// ScratchCgroup: a cgroup of the test's own in the v1 memory hierarchy and the unified one, for
// live tests on hybrid hosts; removed however the test ends.
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <string>

#include "lib/cgroup_hierarchy.h"
#include "lib/sys_roots.h"

namespace wslgo::test {

struct ScratchCgroup {
  CgroupDirs dirs;

  // `controlGroup` as systemd would name it, e.g. "/wslgo-unit-test-<pid>.service".
  ScratchCgroup(const CgroupLayout& layout, const std::string& controlGroup)
      : dirs(cgroupDirsFor(layout, controlGroup, SysRoots{})) {}
  ~ScratchCgroup() { remove(); }
  ScratchCgroup(const ScratchCgroup&) = delete;
  ScratchCgroup& operator=(const ScratchCgroup&) = delete;

  bool make() const {
    return dirs.memoryV1 && dirs.unified && ::mkdir(dirs.memoryV1->c_str(), 0755) == 0 &&
           ::mkdir(dirs.unified->c_str(), 0755) == 0;
  }
  // True when both were there and are gone; rmdir of a missing directory is harmless.
  bool remove() const {
    const bool memory = dirs.memoryV1 && ::rmdir(dirs.memoryV1->c_str()) == 0;
    const bool unified = dirs.unified && ::rmdir(dirs.unified->c_str()) == 0;
    return memory && unified;
  }
  // Sets the v1 memory limit; true when the kernel took it (it may round down to a page).
  bool limitTo(uint64_t bytes) const {
    std::ofstream(*dirs.memoryV1 + "/memory.limit_in_bytes") << bytes;
    std::ifstream in(*dirs.memoryV1 + "/memory.limit_in_bytes");
    uint64_t set = 0;
    in >> set;
    return set <= bytes && set > 0;
  }
};

}  // namespace wslgo::test
