#include "lib/mountinfo.h"

#include <catch2/catch.hpp>

#include "tests/unit/fixtures.h"

using namespace wslgo;

TEST_CASE("mountinfo of the hybrid capture yields every mount with its fields", "[mountinfo]") {
  auto mounts = readMountinfo(test::fixtureRoots("hybrid"));
  REQUIRE(mounts.ok());
  REQUIRE(mounts->size() == 19);

  const MountEntry& memory = (*mounts)[12];
  CHECK(memory.id == 34);
  CHECK(memory.parentId == 30);
  CHECK(memory.major == 0);
  CHECK(memory.minor == 31);
  CHECK(memory.root == "/");
  CHECK(memory.mountPoint == "/sys/fs/cgroup/memory");
  CHECK(memory.mountOptions == "rw,relatime");
  CHECK(memory.optionalFields.empty());
  CHECK(memory.fsType == "cgroup");
  CHECK(memory.source == "cgroup");
  CHECK(memory.superOptions == "rw,memory");

  const MountEntry& root = (*mounts)[5];
  CHECK(root.mountPoint == "/");
  CHECK(root.major == 254);
  CHECK(root.source == "/dev/vda");
}

TEST_CASE("mountinfo keeps optional fields and decodes escaped paths", "[mountinfo]") {
  auto mounts = readMountinfo(test::fixtureRoots("v2"));
  REQUIRE(mounts.ok());
  REQUIRE(mounts->size() == 11);

  const MountEntry& cgroup = (*mounts)[8];
  CHECK(cgroup.mountPoint == "/sys/fs/cgroup");
  CHECK(cgroup.optionalFields == std::vector<std::string>{"shared:9"});
  CHECK(cgroup.fsType == "cgroup2");
  CHECK(cgroup.superOptions == "rw,nsdelegate,memory_recursiveprot");

  CHECK((*mounts)[9].source == "C:\\");
  CHECK((*mounts)[10].mountPoint == "/mnt/wsl/My Projects");
  CHECK((*mounts)[10].source == "D:\\My Projects");
}

TEST_CASE("mountinfo lines with several optional fields still find the filesystem type",
          "[mountinfo]") {
  auto mounts = parseMountinfo(
      "35 24 0:30 /sub /mnt/a rw shared:9 master:1 propagate_from:2 unbindable - tmpfs tmp rw\n");
  REQUIRE(mounts.ok());
  REQUIRE(mounts->size() == 1);
  CHECK(mounts->front().optionalFields.size() == 4);
  CHECK(mounts->front().root == "/sub");
  CHECK(mounts->front().fsType == "tmpfs");
  CHECK(mounts->front().source == "tmp");
}

TEST_CASE("mount path escapes decode tab, newline and backslash", "[mountinfo]") {
  CHECK(unescapeMountPath("a\\011b\\012c\\134d\\040e") == "a\tb\nc\\d e");
  // Not an escape the kernel writes: kept as it is rather than guessed at.
  CHECK(unescapeMountPath("a\\9b\\04") == "a\\9b\\04");
  CHECK(unescapeMountPath("") == "");
}

TEST_CASE("mountinfo without a final newline parses its last line", "[mountinfo]") {
  auto mounts = parseMountinfo("1 0 0:1 / / rw - ext4 /dev/x rw");
  REQUIRE(mounts.ok());
  CHECK(mounts->size() == 1);
}

TEST_CASE("mountinfo with a malformed line is an error naming the line", "[mountinfo]") {
  const std::string good = "1 0 0:1 / / rw - ext4 /dev/x rw\n";
  SECTION("no separator") {
    auto mounts = parseMountinfo(good + "2 1 0:2 / /a rw shared:1 ext4 /dev/y rw extra\n");
    REQUIRE_FALSE(mounts.ok());
    CHECK(mounts.error().code == EINVAL);
    CHECK_THAT(mounts.error().message, Catch::Contains("line 2"));
  }
  SECTION("truncated after the separator") {
    auto mounts = parseMountinfo(good + "2 1 0:2 / /a rw a b c - ext4\n");
    REQUIRE_FALSE(mounts.ok());
    CHECK_THAT(mounts.error().message, Catch::Contains("line 2"));
  }
  SECTION("too few fields") {
    auto mounts = parseMountinfo("2 1 0:2 / /a\n");
    REQUIRE_FALSE(mounts.ok());
    CHECK_THAT(mounts.error().message, Catch::Contains("line 1"));
  }
  SECTION("ids that are not numbers") {
    CHECK_FALSE(parseMountinfo("x 1 0:2 / /a rw - ext4 /dev/y rw\n").ok());
    CHECK_FALSE(parseMountinfo("99999999999 1 0:2 / /a rw - ext4 /dev/y rw\n").ok());
  }
  SECTION("a device without a colon") {
    CHECK_FALSE(parseMountinfo("2 1 02 / /a rw - ext4 /dev/y rw\n").ok());
  }
}

TEST_CASE("reading mountinfo from a root without it names the file", "[mountinfo]") {
  SysRoots roots{test::fixturePath("no-such-tree/proc"), test::fixturePath("no-such-tree/sys")};
  auto mounts = readMountinfo(roots);
  REQUIRE_FALSE(mounts.ok());
  CHECK(mounts.error().code == ENOENT);
  CHECK(mounts.error().path == roots.proc + "/self/mountinfo");
}

TEST_CASE("mountinfo of this machine parses", "[mountinfo][live]") {
  auto mounts = readMountinfo(SysRoots{});
  REQUIRE(mounts.ok());
  bool hasRoot = false;
  for (const MountEntry& mount : *mounts) hasRoot = hasRoot || mount.mountPoint == "/";
  CHECK(hasRoot);
}
