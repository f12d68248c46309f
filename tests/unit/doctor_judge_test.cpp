#include <algorithm>
#include <map>
#include <optional>
#include <string>

#include <catch2/catch.hpp>

#include "lib/doctor_facts.h"
#include "lib/doctor_judge.h"
#include "tests/unit/fixtures.h"

namespace wslgo {
namespace {

constexpr int64_t kRtc = 1764500000;  // the since_epoch of the fixture trees

DoctorRoots doctorRoots(const std::string& tree) {
  const std::string base = test::fixturePath("doctor/" + tree);
  return {.sys = {.proc = base + "/proc", .sys = base + "/sys"}, .etc = base + "/etc"};
}

struct Scenario {
  std::string tree = {};
  std::map<std::string, std::string> environment = {};
  bool userManager = true;
  std::optional<std::string> goplsVersionFixture = "v0.23.0.txt";
  int64_t now = kRtc;
  std::optional<std::string> statusFixture = {};  // nullopt: the guard is not reachable
  std::optional<std::string> etc = {};            // another etc dir under doctor/
};

DoctorFacts factsOf(const Scenario& s) {
  DoctorRoots roots = doctorRoots(s.tree);
  if (s.etc) roots.etc = test::fixturePath("doctor/" + *s.etc);
  DoctorProbe probe;
  probe.userManagerReachable = s.userManager;
  if (s.goplsVersionFixture) {
    probe.gopls = FoundGopls{
        .path = "/home/me/go/bin/gopls",
        .versionOutput = test::readFixture("doctor/gopls-version/" + *s.goplsVersionFixture)};
  }
  probe.realtimeSeconds = s.now;
  if (s.statusFixture) {
    probe.guardStatus = test::readFixture("doctor/status/" + *s.statusFixture);
  } else {
    probe.guardStatus =
        Error{.code = 0, .path = {}, .message = "org.wslgo.Guard1 is not on the user bus"};
  }
  return gatherDoctorFacts(roots, s.environment, std::move(probe));
}

const DoctorCheck& checkNamed(const std::vector<DoctorCheck>& checks, std::string_view name,
                              std::string_view workspace = {}) {
  auto found = std::find_if(checks.begin(), checks.end(), [&](const DoctorCheck& c) {
    return c.name == name && c.workspace == workspace;
  });
  INFO("check " << name << " " << workspace);
  REQUIRE(found != checks.end());
  return *found;
}

bool hasCheck(const std::vector<DoctorCheck>& checks, std::string_view name) {
  return std::any_of(checks.begin(), checks.end(),
                     [&](const DoctorCheck& c) { return c.name == name; });
}

// No check about memory may send the user to /etc/wsl.conf: the VM's limit is in .wslconfig.
void requireNoMemoryFixInWslConf(const std::vector<DoctorCheck>& checks) {
  for (std::string_view name : {"memory", "memory-reclaim", "swap"}) {
    if (!hasCheck(checks, name)) continue;
    const DoctorCheck& check = checkNamed(checks, name);
    CHECK_THAT(check.fix, !Catch::Contains("wsl.conf"));
    CHECK_THAT(check.message, !Catch::Contains("/etc/wsl.conf"));
  }
}

}  // namespace

TEST_CASE(
    "doctor: WSL 2 without systemd fails the user manager check and says to add it to wsl.conf",
    "[doctor]") {
  auto checks = judge(factsOf({.tree = "wsl2-no-systemd",
                               .environment = {{"WSL_DISTRO_NAME", "Debian"}},
                               .userManager = false}));
  const DoctorCheck& wsl = checkNamed(checks, "wsl");
  CHECK(wsl.verdict == Verdict::Pass);
  CHECK_THAT(wsl.message, Catch::Contains("WSL 2") && Catch::Contains("Debian"));
  const DoctorCheck& manager = checkNamed(checks, "user-manager");
  CHECK(manager.verdict == Verdict::Fail);
  CHECK_THAT(manager.message, Catch::Contains("has no systemd=true under [boot]"));
  CHECK_THAT(manager.fix, Catch::Contains("systemd=true") && Catch::Contains("/etc/wsl.conf") &&
                              Catch::Contains("wsl --shutdown"));
  CHECK(anyFailed(checks));
}

TEST_CASE("doctor: WSL 2 whose wsl.conf already enables systemd is told to restart the VM",
          "[doctor]") {
  auto checks =
      judge(factsOf({.tree = "wsl2-no-systemd", .userManager = false, .etc = "etc-systemd"}));
  const DoctorCheck& manager = checkNamed(checks, "user-manager");
  CHECK(manager.verdict == Verdict::Fail);
  CHECK_THAT(manager.message, Catch::Contains("already has systemd=true"));
  CHECK_THAT(manager.fix, Catch::Contains("wsl --shutdown"));
  CHECK_THAT(manager.fix, !Catch::Contains("add"));
}

TEST_CASE("doctor: a small WSL VM without swap is sent to .wslconfig, never to /etc/wsl.conf",
          "[doctor]") {
  auto checks = judge(factsOf({.tree = "wsl2-no-systemd"}));
  const DoctorCheck& memory = checkNamed(checks, "memory");
  CHECK(memory.verdict == Verdict::Warn);
  CHECK_THAT(memory.message, Catch::Contains("MemTotal 3.80 GiB"));
  CHECK_THAT(memory.fix, Catch::Contains("memory=") && Catch::Contains("[wsl2]") &&
                             Catch::Contains("%UserProfile%\\.wslconfig"));
  const DoctorCheck& swap = checkNamed(checks, "swap");
  CHECK(swap.verdict == Verdict::Warn);
  CHECK_THAT(swap.fix, Catch::Contains("swap=") && Catch::Contains(".wslconfig"));
  const DoctorCheck& reclaim = checkNamed(checks, "memory-reclaim");
  CHECK(reclaim.verdict == Verdict::Warn);
  CHECK_THAT(reclaim.fix,
             Catch::Contains("autoMemoryReclaim=gradual") && Catch::Contains("[experimental]"));
  requireNoMemoryFixInWslConf(checks);
}

TEST_CASE("doctor: a readable .wslconfig is quoted, and one with autoMemoryReclaim passes",
          "[doctor]") {
  auto small = judge(
      factsOf({.tree = "wsl2-no-systemd",
               .environment = {{"USERPROFILE", test::fixturePath("doctor/userprofile-small")}}}));
  CHECK_THAT(checkNamed(small, "memory").message, Catch::Contains("says memory=4GB"));
  CHECK_THAT(checkNamed(small, "swap").message, Catch::Contains("says swap=0"));
  CHECK(checkNamed(small, "memory-reclaim").verdict == Verdict::Warn);
  requireNoMemoryFixInWslConf(small);
  auto tuned = judge(
      factsOf({.tree = "wsl2-no-systemd",
               .environment = {{"USERPROFILE", test::fixturePath("doctor/userprofile-tuned")}}}));
  CHECK(checkNamed(tuned, "memory-reclaim").verdict == Verdict::Pass);
}

TEST_CASE("doctor: a VM given memory=8GB passes although the kernel keeps some of it", "[doctor]") {
  DoctorFacts facts = factsOf({.tree = "wsl2-no-systemd"});
  facts.meminfo->memTotal = uint64_t{8024} << 20;  // what a memory=8GB WSL 2 VM reports
  const auto checks = judge(facts);
  CHECK(checkNamed(checks, "memory").verdict == Verdict::Pass);
}

TEST_CASE("doctor: .wslconfig is read only where $USERPROFILE is a Linux path", "[doctor]") {
  DoctorFacts windowsPath =
      factsOf({.tree = "wsl2-no-systemd", .environment = {{"USERPROFILE", "C:\\Users\\me"}}});
  CHECK_FALSE(windowsPath.wslConfig);
  CHECK(windowsPath.wslConfigPath.empty());
  DoctorFacts linuxPath =
      factsOf({.tree = "wsl2-no-systemd",
               .environment = {{"USERPROFILE", test::fixturePath("doctor/userprofile-small")}}});
  REQUIRE(linuxPath.wslConfig);
  CHECK(iniValue(*linuxPath.wslConfig, "wsl2", "memory") == "4GB");
  CHECK(linuxPath.wsl.interop);
  CHECK(linuxPath.wslKind == WslKind::Wsl2);
}

TEST_CASE("doctor: WSL 1 fails with the conversion to WSL 2 as the fix", "[doctor]") {
  auto checks = judge(factsOf(
      {.tree = "wsl1", .environment = {{"WSL_DISTRO_NAME", "Ubuntu"}}, .userManager = false}));
  const DoctorCheck& wsl = checkNamed(checks, "wsl");
  CHECK(wsl.verdict == Verdict::Fail);
  CHECK_THAT(wsl.message, Catch::Contains("WSL 1") && Catch::Contains("4.4.0-19041-Microsoft"));
  CHECK_THAT(wsl.fix, Catch::Contains("wsl --set-version Ubuntu 2"));
  CHECK_FALSE(hasCheck(checks, "memory-reclaim"));
  CHECK(checkNamed(checks, "cgroups").verdict == Verdict::Warn);
  CHECK(checkNamed(checks, "memory").verdict == Verdict::Pass);
}

TEST_CASE("doctor: plain Linux with hybrid cgroups passes the system checks but warns on cgroups",
          "[doctor]") {
  auto checks = judge(factsOf({.tree = "linux-hybrid", .statusFixture = "healthy-v2.json"}));
  CHECK(checkNamed(checks, "wsl").verdict == Verdict::Pass);
  CHECK_THAT(checkNamed(checks, "wsl").message, Catch::Contains("not WSL"));
  CHECK(checkNamed(checks, "user-manager").verdict == Verdict::Pass);
  CHECK(checkNamed(checks, "memory").verdict == Verdict::Pass);
  CHECK(checkNamed(checks, "swap").verdict == Verdict::Pass);
  CHECK(checkNamed(checks, "clock").verdict == Verdict::Pass);
  CHECK(checkNamed(checks, "gopls").verdict == Verdict::Pass);
  const DoctorCheck& cgroups = checkNamed(checks, "cgroups");
  CHECK(cgroups.verdict == Verdict::Warn);
  CHECK_THAT(cgroups.message, Catch::Contains("hybrid"));
  CHECK_THAT(cgroups.fix, Catch::Contains("systemd.unified_cgroup_hierarchy=1"));
  CHECK_FALSE(hasCheck(checks, "memory-reclaim"));
  CHECK_FALSE(anyFailed(checks));
}

TEST_CASE("doctor: pure cgroup v2 passes the cgroup check", "[doctor]") {
  auto checks = judge(factsOf({.tree = "wsl2-no-systemd"}));
  CHECK(checkNamed(checks, "cgroups").verdict == Verdict::Pass);
}

TEST_CASE("doctor: zero swap on plain Linux points at a swapfile", "[doctor]") {
  // The WSL tree's meminfo without WSL's signs stands for a Linux host without swap.
  DoctorFacts facts = factsOf({.tree = "wsl2-no-systemd"});
  facts.wslKind = WslKind::NotWsl;
  const auto checks = judge(facts);
  const DoctorCheck& swap = checkNamed(checks, "swap");
  CHECK(swap.verdict == Verdict::Warn);
  CHECK_THAT(swap.fix, Catch::Contains("swapfile") && !Catch::Contains(".wslconfig"));
}

TEST_CASE("doctor: a system clock two minutes off the RTC warns with hwclock -s", "[doctor]") {
  auto behind = judge(factsOf({.tree = "wsl2-no-systemd", .now = kRtc - 120}));
  const DoctorCheck& clock = checkNamed(behind, "clock");
  CHECK(clock.verdict == Verdict::Warn);
  CHECK_THAT(clock.message, Catch::Contains("2m behind"));
  CHECK(clock.fix == "sudo hwclock -s");
  auto close = judge(factsOf({.tree = "wsl2-no-systemd", .now = kRtc + 3}));
  CHECK(checkNamed(close, "clock").verdict == Verdict::Pass);
  auto noRtc = judge(factsOf({.tree = "wsl1", .now = kRtc + 1000}));
  const DoctorCheck& unchecked = checkNamed(noRtc, "clock");
  CHECK(unchecked.verdict == Verdict::Skip);
  CHECK_THAT(unchecked.message, Catch::StartsWith("not checked"));
}

TEST_CASE("doctor: Debian's gopls master and a release before v0.12 warn with the upgrade",
          "[doctor]") {
  for (const char* fixture : {"debian-master.txt", "v0.11.0.txt"}) {
    auto checks = judge(factsOf({.tree = "linux-hybrid", .goplsVersionFixture = fixture}));
    const DoctorCheck& gopls = checkNamed(checks, "gopls");
    INFO(fixture);
    CHECK(gopls.verdict == Verdict::Warn);
    CHECK_THAT(gopls.message,
               Catch::Contains("several times the memory") && Catch::Contains("-memory-threshold"));
    CHECK_THAT(gopls.fix, Catch::Contains("go install golang.org/x/tools/gopls@latest"));
  }
  auto missing = judge(factsOf({.tree = "linux-hybrid", .goplsVersionFixture = std::nullopt}));
  CHECK(checkNamed(missing, "gopls").verdict == Verdict::Warn);
  CHECK_THAT(checkNamed(missing, "gopls").message,
             Catch::Contains("no gopls in $GOPLS, ~/go/bin or on PATH"));
}

TEST_CASE("doctor: gopls version output names its version on the first line", "[doctor]") {
  CHECK(parseGoplsVersionOutput(test::readFixture("doctor/gopls-version/debian-master.txt")) ==
        "master");
  CHECK(parseGoplsVersionOutput(test::readFixture("doctor/gopls-version/v0.23.0.txt")) ==
        "v0.23.0");
  CHECK(parseGoplsVersionOutput("").empty());
}

TEST_CASE("doctor: an unreachable guard is a warning with the start command, and doctor goes on",
          "[doctor]") {
  auto checks = judge(factsOf({.tree = "linux-hybrid"}));
  const DoctorCheck& guard = checkNamed(checks, "guard");
  CHECK(guard.verdict == Verdict::Warn);
  CHECK_THAT(guard.message,
             Catch::Contains("not running") && Catch::Contains("not on the user bus"));
  CHECK(guard.fix == "systemctl --user enable --now wslgo-guard");
  CHECK(hasCheck(checks, "clock"));
  CHECK_FALSE(anyFailed(checks));
}

TEST_CASE("doctor: a workspace on /mnt/c with gopls master on a hybrid host gets every warning",
          "[doctor]") {
  auto checks =
      judge(factsOf({.tree = "wsl2-no-systemd", .statusFixture = "mnt-c-hybrid-master.json"}));
  const std::string root = "/mnt/c/Users/me/src/app";
  const DoctorCheck& location = checkNamed(checks, "location", root);
  CHECK(location.verdict == Verdict::Warn);
  CHECK_THAT(location.message, Catch::Contains("9p at /mnt/c"));
  CHECK_THAT(location.fix, Catch::Contains("~/src/app"));
  const DoctorCheck& controls = checkNamed(checks, "controls", root);
  CHECK(controls.verdict == Verdict::Warn);
  CHECK_THAT(controls.message, Catch::Contains("process-rss") &&
                                   Catch::Contains("trim: nothing to trim") &&
                                   Catch::Contains("memory_high 1.00 GiB NOT enforced") &&
                                   Catch::Contains("cpu_weight 50 NOT enforced"));
  CHECK_THAT(controls.message, !Catch::Contains("memory_max"));
  const DoctorCheck& gopls = checkNamed(checks, "gopls", root);
  CHECK(gopls.verdict == Verdict::Warn);
  CHECK_THAT(gopls.message, Catch::Contains("master"));
  CHECK_THAT(gopls.fix, Catch::Contains("systemctl --user restart"));
  const DoctorCheck& gomemlimit = checkNamed(checks, "gomemlimit", root);
  CHECK(gomemlimit.verdict == Verdict::Warn);
  CHECK_THAT(gomemlimit.fix, Catch::Contains("config.json") && !Catch::Contains("wsl.conf"));
  CHECK(checkNamed(checks, "debug-port", root).verdict == Verdict::Pass);
  CHECK(checkNamed(checks, "guard").verdict == Verdict::Pass);
}

TEST_CASE("doctor: a healthy workspace in the Linux filesystem passes every workspace check",
          "[doctor]") {
  auto checks = judge(factsOf({.tree = "wsl2-no-systemd", .statusFixture = "healthy-v2.json"}));
  const std::string root = "/home/me/src/app";
  for (const char* name : {"location", "controls", "gopls", "gomemlimit", "debug-port"}) {
    INFO(name << ": " << checkNamed(checks, name, root).message);
    CHECK(checkNamed(checks, name, root).verdict == Verdict::Pass);
  }
  CHECK_THAT(checkNamed(checks, "debug-port", root).message, Catch::Contains("127.0.0.1:41234"));
  CHECK_THAT(checkNamed(checks, "controls", root).message,
             Catch::Contains("oom_score_adj 500 in effect"));
}

TEST_CASE("doctor: gopls running with another oom_score_adj than configured is a warning",
          "[doctor]") {
  DoctorFacts facts = factsOf({.tree = "wsl2-no-systemd", .statusFixture = "healthy-v2.json"});
  facts.guard->workspaces[0].oomScoreAdjEffective = 0;
  const auto checks = judge(facts);
  const DoctorCheck& controls = checkNamed(checks, "controls", "/home/me/src/app");
  CHECK(controls.verdict == Verdict::Warn);
  CHECK_THAT(controls.message, Catch::Contains("oom_score_adj 500 configured, 0 in effect") &&
                                   Catch::Contains("applies from the unit's next start"));
}

TEST_CASE("doctor: a debug server beyond loopback fails", "[doctor]") {
  DoctorFacts facts = factsOf({.tree = "wsl2-no-systemd", .statusFixture = "healthy-v2.json"});
  facts.guard->workspaces[0].debugAddress = "0.0.0.0:41234";
  auto checks = judge(facts);
  CHECK(checkNamed(checks, "debug-port", "/home/me/src/app").verdict == Verdict::Fail);
  CHECK(anyFailed(checks));
}

TEST_CASE("doctor: a guard with no workspace warns how to add one", "[doctor]") {
  DoctorFacts facts = factsOf({.tree = "linux-hybrid", .statusFixture = "healthy-v2.json"});
  facts.guard->workspaces.clear();
  const auto checks = judge(facts);
  const DoctorCheck& workspaces = checkNamed(checks, "workspaces");
  CHECK(workspaces.verdict == Verdict::Warn);
  CHECK_THAT(workspaces.fix, Catch::Contains("wslgo-guardctl add DIR"));
}

}  // namespace wslgo
