// SysRoots: where /proc and /sys are, so every reader can be pointed at a fixture tree.
#pragma once

#include <string>
#include <string_view>

namespace wslgo {

struct SysRoots {
  std::string proc = "/proc";
  std::string sys = "/sys";

  // Maps an absolute path as the kernel names it (a mount point from mountinfo, say) to where
  // it is under these roots: "/sys/fs/cgroup/memory" -> sys + "/fs/cgroup/memory". Paths
  // outside /proc and /sys are returned unchanged.
  std::string rebase(std::string_view absolutePath) const;

  std::string procPath(std::string_view relative) const;  // joinPath(proc, relative)
  std::string sysPath(std::string_view relative) const;   // joinPath(sys, relative)
};

}  // namespace wslgo
