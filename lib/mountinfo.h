// /proc/PID/mountinfo: the mounts a process sees, with escaped paths decoded.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "lib/result.h"
#include "lib/sys_roots.h"

namespace wslgo {

// One line of mountinfo (proc(5)):
//   ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTS
// `root` and `mountPoint` are decoded: the kernel writes space, tab, newline and backslash in
// them as \040 \011 \012 \134.
struct MountEntry {
  uint32_t id = 0;
  uint32_t parentId = 0;
  uint32_t major = 0;
  uint32_t minor = 0;
  std::string root;          // the directory of the filesystem that is mounted here
  std::string mountPoint;    // where, as the kernel names it (not rebased onto SysRoots)
  std::string mountOptions;  // per-mount options: "rw,nosuid,relatime"
  std::vector<std::string> optionalFields;  // "shared:9", "master:1"...
  std::string fsType;
  std::string source;
  std::string superOptions;  // per-superblock options; for cgroup v1 they name the controllers
};

// Parses the whole file. A line that does not have the fields above is an error naming its
// line number, since a half-understood mount table would put readers in the wrong directory.
Result<std::vector<MountEntry>> parseMountinfo(std::string_view text);

// Reads roots.proc/self/mountinfo.
Result<std::vector<MountEntry>> readMountinfo(const SysRoots& roots);

// Decodes the octal escapes (\ooo) the kernel uses in mountinfo paths.
std::string unescapeMountPath(std::string_view text);

}  // namespace wslgo
