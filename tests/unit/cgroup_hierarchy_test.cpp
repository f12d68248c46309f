#include "lib/cgroup_hierarchy.h"

#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <string>
#include <vector>

#include "tests/unit/fixtures.h"

using namespace wslgo;

namespace {

constexpr std::string_view kHybridUnit =
    "/user.slice/user-1000.slice/user@1000.service/app.slice/wslgo-gopls@x.service";
constexpr std::string_view kV2Unit =
    "/user.slice/user-1000.slice/user@1000.service/app.slice/"
    "wslgo-gopls@-home-me-src-app.service";

CgroupMount v1Mount(std::string mountPoint, std::string root,
                    std::vector<std::string> controllers) {
  CgroupMount mount;
  mount.mountPoint = std::move(mountPoint);
  mount.root = std::move(root);
  mount.controllers = std::move(controllers);
  return mount;
}

}  // namespace

TEST_CASE("the hybrid capture is classified hybrid with cgroup2 at /sys/fs/cgroup/unified",
          "[cgroup]") {
  auto layout = readCgroupLayout(test::fixtureRoots("hybrid"));
  REQUIRE(layout.ok());
  CHECK(layout->kind == CgroupLayoutKind::Hybrid);
  REQUIRE(layout->unified);
  CHECK(layout->unified->mountPoint == "/sys/fs/cgroup/unified");
  CHECK(layout->unified->controllers.empty());
  CHECK(layout->v1.size() == 9);

  const CgroupMount* memory = layout->v1Controller("memory");
  REQUIRE(memory != nullptr);
  CHECK(memory->mountPoint == "/sys/fs/cgroup/memory");
  CHECK(memory->controllers == std::vector<std::string>{"memory"});

  const CgroupMount* systemd = layout->v1Controller("name=systemd");
  REQUIRE(systemd != nullptr);
  CHECK(systemd->mountPoint == "/sys/fs/cgroup/systemd");
  CHECK(systemd->name == "systemd");
  CHECK(systemd->controllers.empty());

  CHECK(layout->v1Controller("hugetlb") == nullptr);
  CHECK(layout->v1Controller("name=elogind") == nullptr);
}

TEST_CASE("the v2 tree is classified pure v2", "[cgroup]") {
  auto layout = readCgroupLayout(test::fixtureRoots("v2"));
  REQUIRE(layout.ok());
  CHECK(layout->kind == CgroupLayoutKind::PureV2);
  REQUIRE(layout->unified);
  CHECK(layout->unified->mountPoint == "/sys/fs/cgroup");
  CHECK(layout->v1.empty());
}

TEST_CASE("the v1 tree without a cgroup2 mount is classified v1-only", "[cgroup]") {
  auto layout = readCgroupLayout(test::fixtureRoots("v1"));
  REQUIRE(layout.ok());
  CHECK(layout->kind == CgroupLayoutKind::V1Only);
  CHECK_FALSE(layout->unified);
  CHECK(layout->v1Controller("memory") != nullptr);
}

TEST_CASE("a host without cgroup mounts has layout none", "[cgroup]") {
  auto mounts = parseCgroupMounts("1 0 0:1 / / rw - ext4 /dev/x rw\n");
  REQUIRE(mounts.ok());
  CHECK(mounts->empty());
  CHECK(classifyCgroupMounts(*mounts).kind == CgroupLayoutKind::None);
}

TEST_CASE("v1 super options yield controllers, the hierarchy name and no mount flags", "[cgroup]") {
  auto mounts = parseCgroupMounts(
      "31 30 0:28 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid shared:10 - cgroup cgroup "
      "rw,cpu,cpuacct\n"
      "32 30 0:29 / /sys/fs/cgroup/systemd rw shared:11 - cgroup cgroup "
      "rw,xattr,release_agent=/lib/systemd/systemd-cgroups-agent,name=systemd\n"
      "33 30 0:30 / /sys/fs/cgroup/net_cls,net_prio rw - cgroup cgroup ro,net_cls,net_prio\n");
  REQUIRE(mounts.ok());
  REQUIRE(mounts->size() == 3);
  CHECK((*mounts)[0].controllers == std::vector<std::string>{"cpu", "cpuacct"});
  CHECK((*mounts)[0].has("cpuacct"));
  CHECK((*mounts)[1].controllers.empty());
  CHECK((*mounts)[1].name == "systemd");
  CHECK((*mounts)[1].has("name=systemd"));
  CHECK_FALSE((*mounts)[1].has("systemd"));
  CHECK((*mounts)[2].controllers == std::vector<std::string>{"net_cls", "net_prio"});
}

TEST_CASE("cgroup2 beside a named-only v1 hierarchy is still pure v2", "[cgroup]") {
  auto mounts = parseCgroupMounts(
      "77 66 0:33 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n"
      "78 77 0:34 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,name=systemd\n");
  REQUIRE(mounts.ok());
  CgroupLayout layout = classifyCgroupMounts(*mounts);
  CHECK(layout.kind == CgroupLayoutKind::PureV2);
  CHECK(layout.v1Controller("name=systemd") != nullptr);
}

TEST_CASE("of two cgroup2 mounts the one showing the whole hierarchy is used", "[cgroup]") {
  auto mounts = parseCgroupMounts(
      "80 66 0:33 /user.slice /mnt/sub rw - cgroup2 cgroup2 rw\n"
      "81 66 0:33 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n");
  REQUIRE(mounts.ok());
  CgroupLayout layout = classifyCgroupMounts(*mounts);
  REQUIRE(layout.unified);
  CHECK(layout.unified->mountPoint == "/sys/fs/cgroup");
}

TEST_CASE("a unit's directories on the hybrid capture lie in all three hierarchies", "[cgroup]") {
  SysRoots roots = test::fixtureRoots("hybrid");
  auto layout = readCgroupLayout(roots);
  REQUIRE(layout.ok());
  CgroupDirs dirs = cgroupDirsFor(*layout, kHybridUnit, roots);
  std::string unit(kHybridUnit);
  CHECK(dirs.unified == roots.sys + "/fs/cgroup/unified" + unit);
  CHECK(dirs.memoryV1 == roots.sys + "/fs/cgroup/memory" + unit);
  CHECK(dirs.systemdV1 == roots.sys + "/fs/cgroup/systemd" + unit);
  struct stat info {};
  CHECK(::stat(dirs.memoryV1->c_str(), &info) == 0);
}

TEST_CASE("a unit's directory on a pure v2 host is in cgroup2 only", "[cgroup]") {
  SysRoots roots = test::fixtureRoots("v2");
  auto layout = readCgroupLayout(roots);
  REQUIRE(layout.ok());
  CgroupDirs dirs = cgroupDirsFor(*layout, kV2Unit, roots);
  CHECK(dirs.unified == roots.sys + "/fs/cgroup" + std::string(kV2Unit));
  CHECK_FALSE(dirs.memoryV1);
  CHECK_FALSE(dirs.systemdV1);
}

TEST_CASE("a mount's root is stripped from the cgroup path when it is an ancestor", "[cgroup]") {
  SysRoots roots{"/p", "/s"};
  CgroupMount mount = v1Mount("/sys/fs/cgroup/memory", "/user.slice", {"memory"});
  CHECK(cgroupDirIn(mount, "/user.slice/a.service", roots) == "/s/fs/cgroup/memory/a.service");
  CHECK(cgroupDirIn(mount, "/user.slice", roots) == "/s/fs/cgroup/memory");
  // A sibling that merely starts with the same letters is not below the root.
  CHECK_FALSE(cgroupDirIn(mount, "/user.slicer/a.service", roots));
  CHECK_FALSE(cgroupDirIn(mount, "/system.slice/a.service", roots));
  CHECK_FALSE(cgroupDirIn(mount, "/", roots));
}

TEST_CASE("the cgroup root maps to the mount point itself", "[cgroup]") {
  SysRoots roots{"/p", "/s"};
  CgroupMount mount = v1Mount("/sys/fs/cgroup/memory", "/", {"memory"});
  CHECK(cgroupDirIn(mount, "/", roots) == "/s/fs/cgroup/memory");
  CHECK(cgroupDirIn(mount, "/a", roots) == "/s/fs/cgroup/memory/a");
}

TEST_CASE("cgroup paths that are relative or climb out of the hierarchy are refused", "[cgroup]") {
  SysRoots roots;
  CgroupMount mount = v1Mount("/sys/fs/cgroup/memory", "/", {"memory"});
  CHECK_FALSE(cgroupDirIn(mount, "", roots));
  CHECK_FALSE(cgroupDirIn(mount, "user.slice", roots));
  CHECK_FALSE(cgroupDirIn(mount, "/user.slice/../../etc", roots));
  CHECK_FALSE(cgroupDirIn(mount, "/..", roots));
  CHECK(cgroupDirIn(mount, "/a..b/c", roots) == "/sys/fs/cgroup/memory/a..b/c");
}

TEST_CASE("a hierarchy whose root does not contain the unit gives no directory", "[cgroup]") {
  CgroupLayout layout;
  layout.kind = CgroupLayoutKind::V1Only;
  layout.v1.push_back(v1Mount("/sys/fs/cgroup/memory", "/system.slice", {"memory"}));
  layout.v1.push_back(v1Mount("/mnt/memory", "/", {"memory"}));
  CgroupDirs dirs = cgroupDirsFor(layout, "/user.slice/a.service", SysRoots{});
  // The first memory mount cannot see the unit; the second, a full bind, can.
  CHECK(dirs.memoryV1 == "/mnt/memory/user.slice/a.service");
  CHECK_FALSE(dirs.unified);
  CHECK_FALSE(dirs.systemdV1);
}

TEST_CASE("proc cgroup of the hybrid capture lists every hierarchy", "[cgroup]") {
  auto entries = readProcCgroup(test::fixtureRoots("hybrid"), 5610);
  REQUIRE(entries.ok());
  REQUIRE(entries->size() == 10);
  const ProcCgroupEntry& systemd = entries->front();
  CHECK(systemd.hierarchyId == 9);
  CHECK(systemd.controllers == std::vector<std::string>{"name=systemd"});
  CHECK(systemd.path == kHybridUnit);
  CHECK_FALSE(systemd.unified());
  const ProcCgroupEntry& v2 = entries->back();
  CHECK(v2.unified());
  CHECK(v2.path == kHybridUnit);
  CHECK(cgroupPathOf(*entries, "memory") == std::string(kHybridUnit));
  CHECK(cgroupPathOf(*entries, "cpu") == "/");
  CHECK_FALSE(cgroupPathOf(*entries, "hugetlb"));
  CHECK(controlGroupOf(*entries) == std::string(kHybridUnit));
}

TEST_CASE("proc cgroup lines split controller lists and mark removed cgroups", "[cgroup]") {
  auto entries = parseProcCgroup(
      "3:cpu,cpuacct:/system.slice\n"
      "1:name=systemd:/user.slice/a:b.scope\n"
      "0::/user.slice/gone.service (deleted)\n");
  REQUIRE(entries.ok());
  REQUIRE(entries->size() == 3);
  CHECK((*entries)[0].controllers == std::vector<std::string>{"cpu", "cpuacct"});
  CHECK((*entries)[0].has("cpuacct"));
  // Only the first two colons separate fields; a cgroup name may hold more.
  CHECK((*entries)[1].path == "/user.slice/a:b.scope");
  CHECK((*entries)[2].path == "/user.slice/gone.service");
  CHECK((*entries)[2].deleted);
  CHECK_FALSE((*entries)[1].deleted);
}

TEST_CASE("garbage in proc cgroup is an error naming the line", "[cgroup]") {
  for (std::string_view text : {"0::/\nnonsense\n", "x::/\n", "0:memory\n", "4:memory:relative\n",
                                "99999999999:memory:/\n"}) {
    auto entries = parseProcCgroup(text);
    INFO(text);
    REQUIRE_FALSE(entries.ok());
    CHECK(entries.error().code == EINVAL);
    CHECK_THAT(entries.error().message, Catch::Contains("line"));
  }
}

TEST_CASE("a process's control group prefers cgroup2, then name=systemd, then memory", "[cgroup]") {
  auto pick = [](std::string_view text) {
    auto entries = parseProcCgroup(text);
    REQUIRE(entries.ok());
    return controlGroupOf(*entries);
  };
  CHECK(pick("0::/a.service\n") == "/a.service");
  CHECK(pick("2:memory:/m\n1:name=systemd:/s\n0::/u\n") == "/u");
  CHECK(pick("2:memory:/m\n1:name=systemd:/s\n") == "/s");
  CHECK(pick("2:memory:/m\n1:cpu:/c\n") == "/m");
  // A hybrid host without systemd: cgroup2 and name=systemd stay at the root.
  CHECK(pick("4:memory:/process_api/x\n9:name=systemd:/\n0::/\n") == "/process_api/x");
  CHECK(pick("0::/\n") == "/");
  CHECK_FALSE(pick("1:cpu:/c\n"));
}

TEST_CASE("proc cgroup of a process that is gone is ENOENT naming the file", "[cgroup]") {
  SysRoots roots = test::fixtureRoots("hybrid");
  auto entries = readProcCgroup(roots, 5611);
  REQUIRE_FALSE(entries.ok());
  CHECK(entries.error().code == ENOENT);
  CHECK(entries.error().path == roots.proc + "/5611/cgroup");
}

TEST_CASE("this machine's cgroup layout is one of the known kinds", "[cgroup][live]") {
  auto layout = readCgroupLayout(SysRoots{});
  REQUIRE(layout.ok());
  CHECK((layout->kind == CgroupLayoutKind::None || layout->kind == CgroupLayoutKind::V1Only ||
         layout->kind == CgroupLayoutKind::Hybrid || layout->kind == CgroupLayoutKind::PureV2));

  constexpr long kCgroup2SuperMagic = 0x63677270;
  struct statfs fs {};
  bool unifiedIsCgroup2 = ::statfs("/sys/fs/cgroup/unified", &fs) == 0 &&
                          static_cast<long>(fs.f_type) == kCgroup2SuperMagic;
  struct stat memoryDir {};
  bool v1Memory = ::stat("/sys/fs/cgroup/memory/memory.usage_in_bytes", &memoryDir) == 0;
  if (unifiedIsCgroup2 && v1Memory) {
    CHECK(layout->kind == CgroupLayoutKind::Hybrid);
    REQUIRE(layout->unified);
    CHECK(layout->unified->mountPoint == "/sys/fs/cgroup/unified");
  }
}

TEST_CASE("this process's /proc/PID/cgroup parses and names a control group", "[cgroup][live]") {
  auto entries = readProcCgroup(SysRoots{}, ::getpid());
  REQUIRE(entries.ok());
  REQUIRE_FALSE(entries->empty());
  auto controlGroup = controlGroupOf(*entries);
  REQUIRE(controlGroup);
  CHECK(controlGroup->front() == '/');
}
