#include "daemon/workspace_resources.h"

#include <catch2/catch.hpp>

#include "tests/unit/fixtures.h"

namespace wslgo::test {
namespace {

constexpr const char* kV2Unit =
    "/user.slice/user-1000.slice/user@1000.service/app.slice/wslgo-gopls@-home-me-src-app.service";
constexpr const char* kHybridUnit =
    "/user.slice/user-1000.slice/user@1000.service/app.slice/wslgo-gopls@x.service";

ResourceEnforcement judgeFixture(const std::string& tree, const char* unit) {
  const SysRoots roots = fixtureRoots(tree);
  auto layout = readCgroupLayout(roots);
  REQUIRE(layout.ok());
  return judgeEnforcement(*layout, unit, roots);
}

}  // namespace

TEST_CASE("the controls follow the workspace's settings, memory limits off meaning infinity",
          "[resources]") {
  WorkspaceSettings settings;
  ResourceControls defaults = resourceControlsFor(settings);
  CHECK_FALSE(defaults.memoryHigh);
  CHECK_FALSE(defaults.memoryMax);
  CHECK(defaults.cpuWeight == 50);
  CHECK(defaults.ioWeight == 50);
  settings.memoryMax = 1 << 30;
  settings.cpuWeight = 7;
  CHECK(resourceControlsFor(settings).memoryMax == 1 << 30);
  CHECK(resourceControlsFor(settings).cpuWeight == 7);
}

TEST_CASE(
    "on pure cgroup v2 with the memory controller the memory limits are enforced and "
    "systemd sees OOM kills",
    "[resources]") {
  const ResourceEnforcement enforcement = judgeFixture("v2", kV2Unit);
  CHECK(enforcement.memoryHigh.enforced);
  CHECK(enforcement.memoryMax.enforced);
  CHECK(enforcement.memoryMax.why.empty());
  CHECK(enforcement.systemdSeesOomKills);
  REQUIRE(enforcement.oomKillCounter);
  CHECK_THAT(*enforcement.oomKillCounter, Catch::EndsWith("/memory.events"));
  // The capture was made without the cpu and io controllers delegated to the unit.
  CHECK_FALSE(enforcement.cpuWeight.enforced);
  CHECK_THAT(enforcement.cpuWeight.why, Catch::Contains("no cpu controller"));
  CHECK_FALSE(enforcement.ioWeight.enforced);
}

TEST_CASE(
    "on a hybrid host a v1 memory cgroup enforces MemoryMax= but not MemoryHigh=, and the "
    "systemd cannot see OOM kills there",
    "[resources]") {
  const ResourceEnforcement enforcement = judgeFixture("hybrid", kHybridUnit);
  CHECK_FALSE(enforcement.memoryHigh.enforced);
  CHECK_THAT(enforcement.memoryHigh.why, Catch::Contains("no cgroup v2 memory controller"));
  CHECK(enforcement.memoryMax.enforced);
  CHECK_FALSE(enforcement.systemdSeesOomKills);
  // The capture has no cpu or blkio cgroup for the unit: what a normal user gets.
  CHECK_FALSE(enforcement.cpuWeight.enforced);
  CHECK_THAT(enforcement.cpuWeight.why, Catch::Contains("a normal user on a hybrid host"));
  CHECK_FALSE(enforcement.ioWeight.enforced);
}

TEST_CASE("a unit without cgroup directories enforces nothing and has no OOM kill counter",
          "[resources]") {
  const ResourceEnforcement enforcement = judgeFixture(
      "hybrid", "/user.slice/user-1000.slice/user@1000.service/app.slice/gone.service");
  CHECK_FALSE(enforcement.memoryMax.enforced);
  CHECK_THAT(enforcement.memoryMax.why, Catch::Contains("no memory controller of its own"));
  CHECK_FALSE(enforcement.oomKillCounter);
}

TEST_CASE("the oom_kill count is read from memory.events and memory.oom_control alike",
          "[resources]") {
  CHECK(parseOomKillCount("low 0\nhigh 3\nmax 9\noom 2\noom_kill 2\noom_group_kill 0\n") == 2u);
  CHECK(parseOomKillCount("oom_kill_disable 0\nunder_oom 0\noom_kill 5\n") == 5u);
  // Kernels before 4.13 have no oom_kill line in memory.oom_control.
  CHECK_FALSE(parseOomKillCount("oom_kill_disable 0\nunder_oom 0\n"));
  CHECK_FALSE(parseOomKillCount("oom_kill many\n"));
}

}  // namespace wslgo::test
