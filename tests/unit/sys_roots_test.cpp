#include "lib/sys_roots.h"

#include <catch2/catch.hpp>

namespace wslgo {
namespace {

const SysRoots kFixture{"/fx/proc", "/fx/sys"};

TEST_CASE("rebase moves paths under /sys to the sys root", "[sys_roots]") {
  CHECK(kFixture.rebase("/sys/fs/cgroup") == "/fx/sys/fs/cgroup");
  CHECK(kFixture.rebase("/sys/fs/cgroup/memory/user.slice") ==
        "/fx/sys/fs/cgroup/memory/user.slice");
  CHECK(kFixture.rebase("/sys") == "/fx/sys");
}

TEST_CASE("rebase moves /proc itself and paths below it to the proc root", "[sys_roots]") {
  CHECK(kFixture.rebase("/proc") == "/fx/proc");
  CHECK(kFixture.rebase("/proc/self/mountinfo") == "/fx/proc/self/mountinfo");
}

TEST_CASE("rebase leaves paths that only start with the same letters unchanged", "[sys_roots]") {
  CHECK(kFixture.rebase("/system") == "/system");
  CHECK(kFixture.rebase("/sysroot/x") == "/sysroot/x");
  CHECK(kFixture.rebase("/processes") == "/processes");
}

TEST_CASE("rebase leaves paths outside /proc and /sys unchanged", "[sys_roots]") {
  CHECK(kFixture.rebase("/home/dev/go/src/project") == "/home/dev/go/src/project");
  CHECK(kFixture.rebase("/") == "/");
  CHECK(kFixture.rebase("") == "");
  CHECK(kFixture.rebase("proc/self") == "proc/self");  // relative: not a kernel mount point
}

TEST_CASE("the default roots map kernel paths to themselves", "[sys_roots]") {
  SysRoots live;
  CHECK(live.rebase("/sys/fs/cgroup/unified") == "/sys/fs/cgroup/unified");
  CHECK(live.rebase("/proc") == "/proc");
  CHECK(live.procPath("meminfo") == "/proc/meminfo");
  CHECK(live.sysPath("fs/cgroup") == "/sys/fs/cgroup");
}

TEST_CASE("procPath and sysPath join with exactly one slash", "[sys_roots]") {
  CHECK(kFixture.procPath("meminfo") == "/fx/proc/meminfo");
  CHECK(kFixture.procPath("/meminfo") == "/fx/proc/meminfo");
  CHECK(kFixture.sysPath("fs/cgroup") == "/fx/sys/fs/cgroup");
  CHECK(kFixture.procPath("") == "/fx/proc");
}

}  // namespace
}  // namespace wslgo
