// Cgroup hierarchies: which are mounted where, a process's cgroups, and a unit's directories.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/mountinfo.h"
#include "lib/result.h"
#include "lib/sys_roots.h"

namespace wslgo {

// A mounted cgroup hierarchy: cgroup2 (unified) or one v1 hierarchy with its controllers.
struct CgroupMount {
  bool unified = false;    // cgroup2
  std::string mountPoint;  // as the kernel names it: "/sys/fs/cgroup/memory"
  std::string root;        // the cgroup mounted there; "/" unless in a namespace or bind
  std::vector<std::string> controllers;  // v1 only: "cpu", "cpuacct"; empty for cgroup2
  std::string name;                      // v1 named hierarchy: "systemd" for name=systemd

  // True for "memory" when this hierarchy carries it, and for "name=systemd" when named so.
  bool has(std::string_view controller) const;
};

// How cgroups are laid out on this host, as systemd names it.
enum class CgroupLayoutKind {
  None,    // no cgroup filesystem mounted
  V1Only,  // legacy: only v1 hierarchies
  Hybrid,  // v1 controllers plus cgroup2 (usually at /sys/fs/cgroup/unified) without them
  PureV2,  // cgroup2 and no v1 hierarchy carrying a controller
};

std::string_view toString(CgroupLayoutKind kind);

struct CgroupLayout {
  CgroupLayoutKind kind = CgroupLayoutKind::None;
  // The first cgroup2 mount, preferring one whose root is "/" (a bind of a subtree sees less).
  std::optional<CgroupMount> unified;
  std::vector<CgroupMount> v1;

  // The first v1 hierarchy carrying `controller` ("memory", "name=systemd"), or null.
  const CgroupMount* v1Controller(std::string_view controller) const;
};

// The cgroup mounts in mountinfo text, in mount order.
Result<std::vector<CgroupMount>> parseCgroupMounts(std::string_view mountinfo);
// Classifies mounts into a layout. Named-only v1 hierarchies (name=systemd beside a cgroup2 at
// /sys/fs/cgroup) do not make a host hybrid: memory is read from cgroup2 there.
CgroupLayout classifyCgroupMounts(std::vector<CgroupMount> mounts);
// Reads roots.proc/self/mountinfo. Mount points stay as the kernel names them; the functions
// below map them onto `roots`.
Result<CgroupLayout> readCgroupLayout(const SysRoots& roots);

// Where cgroup `cgroupPath` (as in /proc/PID/cgroup or systemd's ControlGroup) lives under
// `mount`, rebased onto `roots`; empty when the mount's root is not `cgroupPath` or one of its
// ancestors, since such a mount cannot see that cgroup.
std::optional<std::string> cgroupDirIn(const CgroupMount& mount, std::string_view cgroupPath,
                                       const SysRoots& roots);

// The directories a reader needs for one cgroup; unset where this host has no such hierarchy or
// the hierarchy cannot see the cgroup. Whether the directories exist is not checked here.
struct CgroupDirs {
  std::optional<std::string> unified;    // cgroup2: memory.* when it carries memory, PSI always
  std::optional<std::string> memoryV1;   // the v1 memory controller
  std::optional<std::string> systemdV1;  // the v1 name=systemd hierarchy (cgroup.procs)
};

// `controlGroup` is systemd's ControlGroup property of a unit, e.g.
// "/user.slice/user-1000.slice/user@1000.service/app.slice/wslgo-gopls@x.service". On hybrid
// and v1 hosts systemd mirrors that path in every hierarchy it manages.
CgroupDirs cgroupDirsFor(const CgroupLayout& layout, std::string_view controlGroup,
                         const SysRoots& roots);

// One line of /proc/PID/cgroup: "ID:CONTROLLERS:PATH". The cgroup2 line is "0::PATH".
struct ProcCgroupEntry {
  unsigned hierarchyId = 0;
  std::vector<std::string> controllers;  // "cpu,cpuacct" split; "name=systemd" kept whole
  std::string path;
  bool deleted = false;  // the kernel appended " (deleted)": the cgroup was removed

  bool unified() const { return hierarchyId == 0 && controllers.empty(); }
  bool has(std::string_view controller) const;
};

Result<std::vector<ProcCgroupEntry>> parseProcCgroup(std::string_view text);
Result<std::vector<ProcCgroupEntry>> readProcCgroup(const SysRoots& roots, pid_t pid);

// The cgroup path of the entry for `controller` ("memory", "name=systemd"); empty if none.
std::optional<std::string> cgroupPathOf(const std::vector<ProcCgroupEntry>& entries,
                                        std::string_view controller);

// The systemd ControlGroup-style path of a process: the cgroup2 path, else the name=systemd
// path, else the memory controller's. The first of those that is not the root "/" wins (and "/"
// only when all are): a hybrid host without systemd leaves every process in the cgroup2 and
// name=systemd roots while the memory controller places it somewhere useful.
std::optional<std::string> controlGroupOf(const std::vector<ProcCgroupEntry>& entries);

}  // namespace wslgo
