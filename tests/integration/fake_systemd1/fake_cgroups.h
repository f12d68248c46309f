// FakeCgroups: real cgroups for the fake systemd's units, mirrored in every writable hierarchy.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "lib/result.h"
#include "lib/sys_roots.h"

namespace wslgo::fake {

// As systemd places a service: one parent ("/wslgo-fake-<pid>", standing in for app.slice)
// and a child per unit, at the same path in cgroup2 and in each v1 hierarchy systemd manages
// on a hybrid host, so the guard's readers (cgroupDirsFor) find the unit's real memory files
// and PSI from the ControlGroup property alone.
class FakeCgroups {
 public:
  // Makes the parent in every hierarchy where mkdir is allowed; an error when there is none.
  static Result<FakeCgroups> create(const SysRoots& roots, const std::string& parentName);

  FakeCgroups(FakeCgroups&& other) noexcept = default;
  FakeCgroups& operator=(FakeCgroups&& other) noexcept = default;
  FakeCgroups(const FakeCgroups&) = delete;
  FakeCgroups& operator=(const FakeCgroups&) = delete;
  // removeAll() if it was not called.
  ~FakeCgroups();

  // "/wslgo-fake-123/wslgo-gopls@x.service": the ControlGroup property of `unit`.
  std::string controlGroup(const std::string& unit) const;

  // Makes the unit's cgroup in every hierarchy (an existing one is reused, as after a restart)
  // and returns the cgroup.procs files a forked child writes "0" to before exec.
  Result<std::vector<std::string>> prepareUnit(const std::string& unit);

  // SIGKILLs whatever is left in the unit's cgroups (KillMode=control-group) and removes them.
  // A cgroup whose processes have not exited yet stays; the next call or removeAll() retries.
  void releaseUnit(const std::string& unit);

  // Kills every unit's leftovers and removes the children, then the parent, waiting (bounded)
  // for killed processes to leave. Whatever could not be removed is named on stderr.
  void removeAll();

 private:
  FakeCgroups(std::string parentPath, std::vector<std::string> parentDirs)
      : parentDirs_(std::move(parentDirs)), parentPath_(std::move(parentPath)) {}

  // Returns true when every one of the unit's directories is gone.
  bool killAndRemove(const std::string& unit);

  std::vector<std::string> parentDirs_;  // one per hierarchy, as rebased onto the roots
  std::vector<std::string> units_;       // whose cgroups may still exist
  std::string parentPath_;               // "/wslgo-fake-123"
};

}  // namespace wslgo::fake
