// The Manager on synthetic time with in-process fakes: the ladder, Busy, removal during an
// action, dry run, weak GCs, failed profiles, vanished units, crash loops.
#include <filesystem>
#include <map>

#include <nlohmann/json.hpp>

#include <catch2/catch.hpp>

#include "tests/daemon/guard_world.h"

namespace wslgo::test {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

// The times at which each action's ActionTaken arrived, by the fake clock.
struct Timeline {
  std::vector<std::string> lines;
  std::vector<Usec> at;
};

// Advances in small steps, noting when each ActionTaken arrives.
void runFor(GuardWorld& world, Usec span, Timeline& timeline) {
  const Usec end = world.scheduler.now() + span;
  while (world.scheduler.now() < end) {
    world.scheduler.advance(std::chrono::milliseconds(250));
    auto lines = world.observer.actionLines();
    while (timeline.lines.size() < lines.size()) {
      timeline.lines.push_back(lines[timeline.lines.size()]);
      timeline.at.push_back(world.scheduler.now());
    }
  }
}

size_t profilesSaved(const GuardWorld& world) {
  const auto dir = world.path() / "state/wslgo-guard/profiles";
  if (!std::filesystem::exists(dir)) return 0;
  size_t count = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file()) ++count;
  }
  return count;
}

}  // namespace

TEST_CASE("a workspace over its high line climbs GC, trim and restart, each after the settle time",
          "[manager]") {
  GuardWorld world;
  world.start();
  const std::string root = world.addWorkspace("app");
  FakeGopls& gopls = world.goplsOf(root);
  // The GC frees 12 % (above min_freed), but the workspace stays above its high line.
  world.setMemory(root, 1800 * kMiB);
  gopls.onGc = [&] { world.setMemory(root, 1584 * kMiB); };

  Timeline timeline;
  runFor(world, minutes(3), timeline);

  REQUIRE(timeline.lines.size() >= 3);
  CHECK(timeline.lines[0] == "gc done");
  CHECK(timeline.lines[1] == "trim done");
  CHECK(timeline.lines[2] == "restart done");
  // The engine waits the settle time (30 s) after each rung before climbing to the next: it
  // counts from when the rung started (the GC's answer and the runner's settle delay lie within).
  REQUIRE(gopls.lastGcAt);
  CHECK(timeline.at[1] - *gopls.lastGcAt >= seconds(30));
  CHECK(timeline.at[2] - timeline.at[1] >= seconds(30));
  // The GC was judged only after the settle delay the runner gives freed pages.
  CHECK(world.observer.actions[0].before == 1800 * kMiB);
  CHECK(world.observer.actions[0].after < world.observer.actions[0].before);
  // The restart saved a profile first, restarted the unit once, and the new gopls is small.
  CHECK(profilesSaved(world) == 1);
  CHECK(world.systemd.count("restart", world.unitOf(root)) == 1);
  CHECK(world.observer.actions[2].after == 256 * kMiB);
  CHECK(world.manager().workspaceView(root)->lastAction == "restart");
  // Back below the lines: no further action for the rest of the run.
  runFor(world, minutes(5), timeline);
  CHECK(timeline.lines.size() == 3);
  CHECK(world.manager().workspaceView(root)->state == "running");
}

TEST_CASE("a new episode within the GC cooldown waits for the cooldown before the next GC",
          "[manager]") {
  GuardWorld world;
  world.start();
  const std::string root = world.addWorkspace("app");
  FakeGopls& gopls = world.goplsOf(root);
  world.setMemory(root, 1200 * kMiB);  // above warning only
  gopls.onGc = [&] { world.setMemory(root, 500 * kMiB); };

  Timeline timeline;
  runFor(world, seconds(20), timeline);
  REQUIRE(timeline.lines == std::vector<std::string>{"gc done"});
  const Usec firstGc = timeline.at[0];

  // Up again 20 s after the first GC: the level comes back, the GC must wait out its minute.
  world.setMemory(root, 1200 * kMiB);
  runFor(world, minutes(2), timeline);
  REQUIRE(timeline.lines.size() >= 2);
  CHECK(timeline.lines[1] == "gc done");
  CHECK(timeline.at[1] - firstGc >= minutes(1));
}

TEST_CASE("a GC that frees less than min_freed lets trim follow without the settle time",
          "[manager]") {
  GuardWorld world;
  world.start();
  const std::string root = world.addWorkspace("app");
  FakeGopls& gopls = world.goplsOf(root);
  world.setMemory(root, 1800 * kMiB);
  gopls.onGc = [&] { world.setMemory(root, 1750 * kMiB); };  // 3 %: below min_freed 10 %

  Timeline timeline;
  runFor(world, seconds(25), timeline);
  REQUIRE(timeline.lines.size() >= 2);
  CHECK(timeline.lines[0] == "gc done");
  CHECK(timeline.lines[1] == "trim done");
  CHECK(timeline.at[1] - timeline.at[0] < seconds(30));
}

TEST_CASE("a second action while one runs is refused with EBUSY, and the first completes",
          "[manager]") {
  GuardWorld world;
  world.start();
  const std::string root = world.addWorkspace("app");
  world.goplsOf(root).gcTakes = seconds(5);

  std::optional<Result<std::pair<uint64_t, uint64_t>>> first;
  world.manager().collectGarbage(root, [&](auto result) { first = std::move(result); });
  std::optional<Result<uint64_t>> second;
  world.manager().trimCache(root, [&](Result<uint64_t> result) { second = std::move(result); });
  REQUIRE(second);
  REQUIRE_FALSE(*second);
  CHECK(second->error().code == EBUSY);
  CHECK_THAT(second->error().describe(), Catch::Contains("gc in progress"));
  CHECK_FALSE(first);

  world.scheduler.advance(seconds(10));
  REQUIRE(first);
  CHECK(*first);
  CHECK(world.observer.actionLines() == std::vector<std::string>{"gc done"});
}

TEST_CASE("RemoveWorkspace during an action wins: the action is abandoned and the unit stopped",
          "[manager]") {
  GuardWorld world;
  world.start();
  const std::string root = world.addWorkspace("app");
  const std::string unit = world.unitOf(root);
  world.goplsOf(root).gcTakes = seconds(5);

  std::optional<Result<std::pair<uint64_t, uint64_t>>> gc;
  world.manager().collectGarbage(root, [&](auto result) { gc = std::move(result); });
  world.scheduler.advance(seconds(1));
  REQUIRE_FALSE(gc);

  REQUIRE(world.manager().removeWorkspace(root));
  REQUIRE(gc);
  REQUIRE_FALSE(*gc);
  CHECK(gc->error().code == ECANCELED);
  CHECK(world.systemd.count("stop", unit) == 1);
  CHECK_FALSE(world.systemd.watched(unit));
  CHECK(world.observer.removed == std::vector<std::string>{root});
  CHECK(world.manager().workspaceRoots().empty());

  // Nothing of the abandoned GC surfaces later.
  world.scheduler.advance(minutes(1));
  CHECK(world.observer.actions.empty());
}

TEST_CASE("in dry run the ladder reports what it would do and runs nothing", "[manager]") {
  GuardWorld world;
  world.start();
  world.manager().setDryRun(true);
  const std::string root = world.addWorkspace("app");
  world.setMemory(root, 1200 * kMiB);

  Timeline timeline;
  runFor(world, seconds(20), timeline);
  REQUIRE_FALSE(timeline.lines.empty());
  CHECK(timeline.lines[0] == "gc dry-run");
  CHECK(world.goplsOf(root).gcCalls == 0);
  CHECK(world.manager().workspaceView(root)->lastAction == "would gc");
  CHECK(world.manager().managerView().dryRun);
}

TEST_CASE("a restart whose profile capture fails still restarts the unit", "[manager]") {
  GuardWorld world;
  world.start();
  const std::string root = world.addWorkspace("app");
  world.goplsOf(root).profileFails = true;

  std::optional<Result<void>> restarted;
  world.manager().restart(root, "test", [&](Result<void> result) { restarted = result; });
  world.scheduler.advance(seconds(5));
  REQUIRE(restarted);
  CHECK(*restarted);
  CHECK(world.systemd.count("restart", world.unitOf(root)) == 1);
  CHECK(world.observer.actionLines() == std::vector<std::string>{"restart done"});
  CHECK(profilesSaved(world) == 0);
}

TEST_CASE("a unit that vanishes during a restart fails the action, naming the unit", "[manager]") {
  GuardWorld world;
  world.start();
  const std::string root = world.addWorkspace("app");
  const std::string unit = world.unitOf(root);

  std::optional<Result<void>> restarted;
  world.manager().restart(root, "test", [&](Result<void> result) { restarted = result; });
  // The profile is being captured; the unit disappears before the restart job is sent.
  world.systemd.vanish(unit);
  world.scheduler.advance(seconds(5));
  REQUIRE(restarted);
  REQUIRE_FALSE(*restarted);
  CHECK_THAT(restarted->error().describe(), Catch::Contains(unit + " not found"));
  REQUIRE(world.observer.actions.size() == 1);
  CHECK_THAT(world.observer.actions[0].result, Catch::StartsWith("failed: "));

  // The guard keeps going: the action is over and a new one may start.
  world.scheduler.advance(seconds(10));
  std::optional<Result<uint64_t>> trimmed;
  world.manager().trimCache(root, [&](Result<uint64_t> result) { trimmed = std::move(result); });
  REQUIRE(trimmed);
  CHECK(*trimmed);
}

TEST_CASE("a GC whose gopls stops answering mid-action is reported failed", "[manager]") {
  GuardWorld world;
  world.start();
  const std::string root = world.addWorkspace("app");
  FakeGopls& gopls = world.goplsOf(root);
  gopls.gcTakes = seconds(3);

  std::optional<Result<std::pair<uint64_t, uint64_t>>> gc;
  world.manager().collectGarbage(root, [&](auto result) { gc = std::move(result); });
  gopls.answers = false;
  world.systemd.vanish(world.unitOf(root));
  world.scheduler.advance(seconds(5));
  REQUIRE(gc);
  REQUIRE_FALSE(*gc);
  CHECK(gc->error().code == ECONNREFUSED);
  CHECK(world.observer.actionLines() ==
        std::vector<std::string>{"gc failed: " + gc->error().describe()});
}

TEST_CASE("a crash-looping unit reads degraded, and running again once the crashes age out",
          "[manager]") {
  GuardWorld world;
  world.start();
  const std::string root = world.addWorkspace("app");
  const std::string unit = world.unitOf(root);

  for (int i = 0; i < 3; ++i) {
    world.systemd.crash(unit);
    world.scheduler.advance(seconds(20));
  }
  CHECK(world.manager().workspaceView(root)->state == "degraded");
  CHECK(world.manager().workspaceView(root)->restarts == 3);

  // restart.window is 30 min: once the last crash is older, the loop is over.
  world.scheduler.advance(minutes(31));
  CHECK(world.manager().workspaceView(root)->state == "running");
}

TEST_CASE("a level crossing names the metric, its value and the threshold", "[manager]") {
  GuardWorld world;
  world.start();
  const std::string root = world.addWorkspace("app");
  world.setMemory(root, 1200 * kMiB);
  world.scheduler.advance(seconds(5));
  REQUIRE_FALSE(world.observer.crossed.empty());
  const auto& crossed = world.observer.crossed.front();
  CHECK(crossed.root == root);
  CHECK(crossed.level == Level::Warning);
  CHECK(crossed.crossing.metric == Metric::Memory);
  CHECK(crossed.crossing.value == 1200 * kMiB);
  CHECK(crossed.crossing.threshold == 1024 * kMiB);
}

TEST_CASE("a gopls just started is left alone until its debug server answered", "[manager]") {
  GuardWorld world;
  world.start();
  const std::string root = world.addWorkspace("app");
  FakeGopls& gopls = world.goplsOf(root);
  gopls.answers = false;  // no heap figures: the start-up grace holds
  world.systemd.crash(world.unitOf(root));
  world.setMemory(root, 2500 * kMiB);
  world.scheduler.advance(seconds(8));
  CHECK(world.observer.actions.empty());
  // Past the grace the guard acts even without heap figures (a restart still works).
  Timeline timeline;
  runFor(world, seconds(10), timeline);
  CHECK_FALSE(timeline.lines.empty());
}

TEST_CASE("wake-ups are armed on the unit's cgroup and re-armed with the new lines on reload",
          "[manager]") {
  GuardWorld world;
  world.start();
  const std::string root = world.addWorkspace("app");
  world.scheduler.advance(seconds(2));
  REQUIRE(world.wakeups.workspaces.count(root) == 1);
  const WorkspaceWakeupPlan& plan = world.wakeups.workspaces[root];
  REQUIRE(plan.dirs.unified);
  CHECK(*plan.dirs.unified == world.cgroupDir(world.unitOf(root)));
  CHECK(plan.usageLines ==
        std::vector<uint64_t>{static_cast<uint64_t>(1024 * kMiB * kNearThreshold), 1024 * kMiB,
                              1536 * kMiB, 2048 * kMiB});
  CHECK(world.wakeups.systemArmings == 1);

  std::ofstream(world.path() / "config/config.json")
      << R"({"workspaces": {"default": {"memory": {"warning": "3G", "high": null,
            "critical": null}}}})";
  REQUIRE(world.manager().reload());
  world.scheduler.advance(seconds(2));
  CHECK(world.wakeups.systemArmings == 2);
  CHECK(world.wakeups.workspaces[root].usageLines ==
        std::vector<uint64_t>{static_cast<uint64_t>(3072 * kMiB * kNearThreshold), 3072 * kMiB});

  // A wake-up makes the guard look at once instead of at the next tick.
  world.setMemory(root, 3500 * kMiB);
  world.wakeups.workspaceWake[root]("test");
  world.scheduler.runDue();
  CHECK(world.manager().workspaceView(root)->memoryCurrent == 3500 * kMiB);
}

TEST_CASE("an invalid configuration on reload keeps the old one and says why", "[manager]") {
  GuardWorld world;
  world.start();
  std::ofstream(world.path() / "config/config.json") << R"({"guard": {"sample_interval": "3Q"}})";
  auto reloaded = world.manager().reload();
  REQUIRE_FALSE(reloaded);
  CHECK_THAT(reloaded.error().describe(), Catch::Contains("/guard/sample_interval"));
  REQUIRE(world.observer.reloads.size() == 1);
  CHECK_FALSE(world.observer.reloads[0].first);
  CHECK(world.manager().managerView().sampleIntervalUsec == 2000000);
}

TEST_CASE("workspaces survive a guard restart: the registry is re-adopted, running units kept",
          "[manager]") {
  GuardWorld world;
  world.start();
  const std::string root = world.addWorkspace("app");
  const std::string unit = world.unitOf(root);
  const uint32_t pid = world.systemd.unit(unit)->mainPid;
  world.destroyManager();

  world.start();
  REQUIRE(world.manager().workspaceRoots() == std::vector<std::string>{root});
  world.scheduler.runDue();
  CHECK(world.systemd.count("start", unit) == 1);  // adopted, not started again
  CHECK(world.manager().workspaceView(root)->mainPid == pid);
}

TEST_CASE("GetHistory returns samples stamped with the wall clock, from the given time on",
          "[manager]") {
  GuardWorld world;
  world.start();
  const std::string root = world.addWorkspace("app");
  const uint64_t from = world.scheduler.wallNowUsec();
  world.scheduler.advance(seconds(10));
  auto history = world.manager().history(root, from);
  REQUIRE(history);
  REQUIRE(history->size() >= 4);
  CHECK(history->front().usec >= from);
  CHECK(history->back().memoryCurrent == 256 * kMiB);
  CHECK(history->back().rss == 256 * kMiB);
  CHECK_FALSE(world.manager().history("/nowhere", 0));
}

}  // namespace wslgo::test

namespace wslgo::test {

TEST_CASE("GetStatus names each workspace's gopls, what it offers and where its file cache is",
          "[manager]") {
  GuardWorld world;
  world.start();
  const std::string current = world.addWorkspace("current");
  const std::string old = world.module("old");
  // Debian's gopls: no /gc page, no gopls.mem_stats, a version that is no release.
  world.goplsToBeAt(old).features =
      GoplsDebugFeatures{.gcRoute = kPprofGcRoute,
                         .heapStatsRoute = kHeapStatsRoute,
                         .build = {.version = "master", .goVersion = "go1.19.5"},
                         .gcPage = false,
                         .memStats = false};
  REQUIRE(world.add(old));
  world.scheduler.advance(std::chrono::seconds(4));

  auto status = nlohmann::json::parse(world.manager().statusJson());
  std::map<std::string, nlohmann::json> gopls;
  for (const auto& workspace : status["workspaces"]) {
    gopls[workspace["path"].get<std::string>()] = workspace["gopls"];
  }
  REQUIRE(gopls[current].is_object());
  CHECK(gopls[current]["version"] == "v0.23.0");
  CHECK(gopls[current]["go_version"] == "go1.26.8");
  CHECK(gopls[current]["gc_route"] == "/gc");
  CHECK(gopls[current]["gc_page"] == true);
  CHECK(gopls[current]["mem_stats"] == true);
  CHECK(gopls[current]["file_cache"] == (world.path() / "home/.cache/gopls").string());
  REQUIRE(gopls[old].is_object());
  CHECK(gopls[old]["version"] == "master");
  CHECK(gopls[old]["gc_route"] == "/debug/pprof/heap?gc=1");
  CHECK(gopls[old]["mem_stats"] == false);
  CHECK(gopls[old]["file_cache"].is_null());
}

TEST_CASE("a restarted gopls is probed again: an upgrade shows at once", "[manager]") {
  GuardWorld world;
  world.start();
  const std::string root = world.addWorkspace("app");
  FakeGopls& gopls = world.goplsOf(root);
  world.scheduler.advance(std::chrono::seconds(2));
  const size_t probes = gopls.detections;
  REQUIRE(probes >= 1);
  gopls.features.build.version = "v0.24.0";
  world.systemd.crash(world.unitOf(root));
  world.scheduler.advance(std::chrono::seconds(4));
  CHECK(gopls.detections == probes + 1);
  auto status = nlohmann::json::parse(world.manager().statusJson());
  CHECK(status["workspaces"][0]["gopls"]["version"] == "v0.24.0");
}

TEST_CASE("a workspace's own GOPLSCACHE is where its file cache is said to be", "[manager]") {
  GuardWorld world(R"({"workspaces": {"default": {"env": {"GOPLSCACHE": "/var/cache/gopls-x"}}}})");
  world.start();
  world.addWorkspace("app");
  world.scheduler.advance(std::chrono::seconds(2));
  auto status = nlohmann::json::parse(world.manager().statusJson());
  CHECK(status["workspaces"][0]["gopls"]["file_cache"] == "/var/cache/gopls-x/gopls");
}

TEST_CASE("gopls' own environment says where its file cache is, over the guard's idea of it",
          "[manager]") {
  GuardWorld world;
  // Set where the guard cannot see it: a drop-in, the user manager's environment.
  world.processEnviron = std::string("HOME=/home/dev\0XDG_CACHE_HOME=/srv/own\0", 39);
  world.start();
  world.addWorkspace("app");
  world.scheduler.advance(std::chrono::seconds(2));
  auto status = nlohmann::json::parse(world.manager().statusJson());
  CHECK(status["workspaces"][0]["gopls"]["file_cache"] == "/srv/own/gopls");
}

}  // namespace wslgo::test

namespace wslgo::test {

TEST_CASE("with Debian's gopls and no memory.reclaim the ladder skips trim and says why",
          "[manager]") {
  GuardWorld world;
  world.start();
  const std::string root = world.module("app");
  FakeGopls& gopls = world.goplsToBeAt(root);
  gopls.features = GoplsDebugFeatures{.gcRoute = kPprofGcRoute,
                                      .heapStatsRoute = kHeapStatsRoute,
                                      .build = {.version = "master", .goVersion = "go1.19.5"},
                                      .gcPage = false,
                                      .memStats = false};
  REQUIRE(world.add(root));
  world.scheduler.advance(std::chrono::seconds(2));
  world.setMemory(root, 1800 * kMiB);
  gopls.onGc = [&] { world.setMemory(root, 1790 * kMiB); };  // frees next to nothing

  Timeline timeline;
  runFor(world, std::chrono::seconds(40), timeline);
  REQUIRE(timeline.lines.size() >= 2);
  CHECK(timeline.lines[0] == "gc done");
  CHECK(timeline.lines[1] == "restart done");
  auto status = nlohmann::json::parse(world.manager().statusJson());
  // After the restart the new gopls is probed again; trim stays out for it too.
  CHECK(status["workspaces"][0]["rungs"]["trim"]["available"] == false);
  CHECK_THAT(status["workspaces"][0]["rungs"]["trim"]["why"].get<std::string>(),
             Catch::Contains("keeps no file cache"));
}

TEST_CASE(
    "a workspace that reloads over its line after a restart is reported over budget once "
    "and never restarted again",
    "[manager]") {
  GuardWorld world;
  world.start();
  const std::string root = world.addWorkspace("app");
  world.setMemory(root, 2200 * kMiB);  // critical: straight to a restart
  Timeline timeline;
  runFor(world, std::chrono::seconds(20), timeline);
  REQUIRE_FALSE(timeline.lines.empty());
  CHECK(timeline.lines[0] == "restart done");
  // The new gopls loads the same workspace back to 2.1 GiB within a minute.
  runFor(world, std::chrono::seconds(30), timeline);
  world.setMemory(root, 2150 * kMiB);
  runFor(world, std::chrono::minutes(30), timeline);

  REQUIRE(world.observer.overBudgets.size() == 1);
  const Budget& budget = world.observer.overBudgets[0].second;
  CHECK(budget.level == Level::Critical);
  CHECK(budget.loaded == 2150 * kMiB);
  CHECK(budget.threshold == 2048 * kMiB);
  CHECK(std::count(timeline.lines.begin(), timeline.lines.end(), "restart done") == 1);
  // GC is still tried (this one frees nothing, so it is not repeated within the episode).
  CHECK(std::count(timeline.lines.begin(), timeline.lines.end(), "gc done") >= 1);
  CHECK(std::count(timeline.lines.begin(), timeline.lines.end(), "trim done") == 0);
  CHECK(world.manager().workspaceView(root)->state == "over-budget");
  auto status = nlohmann::json::parse(world.manager().statusJson());
  CHECK(status["workspaces"][0]["over_budget"]["loaded"] == 2150 * kMiB);
  CHECK(status["workspaces"][0]["rungs"]["restart"]["available"] == false);

  // An operator's restart lifts it: they asked knowingly.
  std::optional<Result<void>> restarted;
  world.manager().restart(root, "test", [&](Result<void> result) { restarted = result; });
  world.scheduler.advance(std::chrono::seconds(5));
  REQUIRE(restarted);
  CHECK(*restarted);
  CHECK(world.manager().policyState().workspaces.at(root).overBudget == std::nullopt);
}

TEST_CASE("MemoryHigh is applied at start and on reload, infinity once the setting is removed",
          "[manager]") {
  GuardWorld world(R"({"workspaces": {"default": {"memory_high": "1G"}}})");
  world.start();
  const std::string root = world.addWorkspace("app");
  const std::string unit = world.unitOf(root);
  CHECK(world.systemd.unit(unit)->memoryHigh == 1024 * kMiB);
  std::ofstream(world.path() / "config/config.json") << R"({})";
  REQUIRE(world.manager().reload());
  CHECK_FALSE(world.systemd.unit(unit)->memoryHigh.has_value());
  // The fixture tree is pure cgroup v2 with memory.high: enforced.
  world.setMemory(root, 300 * kMiB);
  std::ofstream(world.path() / "config/config.json")
      << R"({"workspaces": {"default": {"memory_high": "2G"}}})";
  REQUIRE(world.manager().reload());
  CHECK(world.systemd.unit(unit)->memoryHigh == 2048 * kMiB);
}

TEST_CASE("resource controls reach the unit at start, at adoption and on reload", "[manager]") {
  GuardWorld world(
      R"({"workspaces": {"default": {"memory_max": "3G", "cpu_weight": 20, "io_weight": 30}}})");
  world.start();
  const std::string root = world.addWorkspace("app");
  const std::string unit = world.unitOf(root);
  const UnitInfo* info = world.systemd.unit(unit);
  CHECK(info->memoryMax == 3072 * kMiB);
  CHECK(info->cpuWeight == 20u);
  CHECK(info->ioWeight == 30u);
  CHECK_FALSE(info->memoryHigh.has_value());

  // The guard is away while the configuration changes; adopting the running unit applies it
  // without restarting gopls.
  const uint32_t pid = info->mainPid;
  const size_t setBefore = world.systemd.controlsSet(unit);
  world.destroyManager();
  std::ofstream(world.path() / "config/config.json")
      << R"({"workspaces": {"default": {"memory_max": "4G", "cpu_weight": 200}}})";
  world.start();
  world.scheduler.runDue();
  CHECK(world.systemd.controlsSet(unit) == setBefore + 1);
  CHECK(info->memoryMax == 4096 * kMiB);
  CHECK(info->cpuWeight == 200u);
  CHECK(info->ioWeight == 50u);  // the shipped default again
  CHECK(info->mainPid == pid);
  CHECK(world.systemd.count("restart", unit) == 0);

  // A reload without memory_max sets it back to infinity.
  std::ofstream(world.path() / "config/config.json") << R"({})";
  REQUIRE(world.manager().reload());
  CHECK_FALSE(info->memoryMax.has_value());
  CHECK(info->cpuWeight == 50u);
}

TEST_CASE("resource controls that cannot be applied are logged and the unit still starts",
          "[manager]") {
  GuardWorld world;
  world.start();
  world.systemd.failNext(FakeSystemdClient::Call::SetResourceControls,
                         errnoError(EPERM, "wslgo-gopls@x.service", "Access denied"));
  const std::string root = world.addWorkspace("app");
  CHECK(world.systemd.unit(world.unitOf(root))->activeState == "active");
  CHECK(world.manager().workspaceView(root)->state == "running");
}

TEST_CASE("GetStatus says per control whether the unit's cgroup enforces it, and why not",
          "[manager]") {
  GuardWorld world(R"({"workspaces": {"default": {"memory_max": "3G"}}})");
  world.start();
  const std::string root = world.addWorkspace("app");
  world.scheduler.advance(seconds(2));
  auto status = nlohmann::json::parse(world.manager().statusJson());
  const auto& workspace = status["workspaces"][0];
  // The world's units have memory.max but no cpu.weight or io.weight.
  CHECK(workspace["memory_max"]["value"] == 3072 * kMiB);
  CHECK(workspace["memory_max"]["enforced"] == true);
  CHECK(workspace["cpu_weight"]["value"] == 50);
  CHECK(workspace["cpu_weight"]["enforced"] == false);
  CHECK_THAT(workspace["cpu_weight"]["why"].get<std::string>(),
             Catch::Contains("no cpu controller"));
  CHECK(workspace["io_weight"]["enforced"] == false);
}

TEST_CASE(
    "oom_score_adjust reaches gopls through the unit's environment file and GetStatus shows "
    "the effective value",
    "[manager]") {
  GuardWorld world(R"({"workspaces": {"default": {"oom_score_adjust": 700}}})");
  world.start();
  const std::string root = world.addWorkspace("app");
  world.scheduler.advance(seconds(2));
  auto status = nlohmann::json::parse(world.manager().statusJson());
  CHECK(status["workspaces"][0]["oom_score_adj"]["configured"] == 700);
  CHECK(status["workspaces"][0]["oom_score_adj"]["effective"] == 700);
  CHECK_FALSE(status["workspaces"][0]["oom_score_adj"].contains("why"));

  // A reload changes the file at once but the running gopls only from its next start.
  std::ofstream(world.path() / "config/config.json")
      << R"({"workspaces": {"default": {"oom_score_adjust": 100}}})";
  REQUIRE(world.manager().reload());
  world.scheduler.advance(seconds(2));
  status = nlohmann::json::parse(world.manager().statusJson());
  CHECK(status["workspaces"][0]["oom_score_adj"]["configured"] == 100);
  CHECK(status["workspaces"][0]["oom_score_adj"]["effective"] == 700);
  CHECK_THAT(status["workspaces"][0]["oom_score_adj"]["why"].get<std::string>(),
             Catch::Contains("next start"));
}

TEST_CASE(
    "a gopls the kernel's OOM killer took is reported once as its own event and counted "
    "like a restart",
    "[manager]") {
  GuardWorld world(R"({"workspaces": {"default": {"memory_max": "3G"}}})");
  world.start();
  const std::string root = world.addWorkspace("app");
  const std::string unit = world.unitOf(root);
  const uint32_t victim = world.systemd.unit(unit)->mainPid;
  world.scheduler.advance(seconds(2));
  REQUIRE(world.observer.oomKills.empty());

  world.systemd.oomKill(unit);
  world.scheduler.advance(seconds(2));
  REQUIRE(world.observer.oomKills.size() == 1);
  CHECK(world.observer.oomKills[0].first == root);
  CHECK_THAT(world.observer.oomKills[0].second,
             Catch::Contains("PID " + std::to_string(victim)) &&
                 Catch::Contains("memory_max is 3221225472 bytes"));
  CHECK(world.manager().workspaceView(root)->restarts == 1);
  auto status = nlohmann::json::parse(world.manager().statusJson());
  CHECK(status["workspaces"][0]["oom_kills"]["count"] == 1);
  CHECK(status["workspaces"][0]["restarts"] == 1);

  // systemd keeps saying oom-kill while the new gopls runs: that is no new kill.
  world.scheduler.advance(seconds(10));
  CHECK(world.observer.oomKills.size() == 1);
  // A plain crash is no OOM kill.
  world.systemd.crash(unit);
  world.scheduler.advance(seconds(2));
  CHECK(world.observer.oomKills.size() == 1);
  world.systemd.oomKill(unit);
  world.scheduler.advance(seconds(2));
  CHECK(world.observer.oomKills.size() == 2);
  status = nlohmann::json::parse(world.manager().statusJson());
  CHECK(status["workspaces"][0]["oom_kills"]["count"] == 2);
  CHECK(status["workspaces"][0]["restarts"] == 3);
}

}  // namespace wslgo::test

namespace wslgo::test {

TEST_CASE("heap figures read from a port another process holds are dropped, not kept stale",
          "[manager]") {
  GuardWorld world;
  world.start();
  const std::string root = world.addWorkspace("app");
  FakeGopls& gopls = world.goplsOf(root);
  gopls.heapInUse = 300 * kMiB;
  world.scheduler.advance(std::chrono::seconds(40));
  auto heapInUse = [&] {
    return nlohmann::json::parse(world.manager().statusJson())["workspaces"][0]["heap_in_use"];
  };
  REQUIRE(heapInUse() == 300 * kMiB);

  gopls.squatted = true;
  world.scheduler.advance(std::chrono::seconds(40));
  CHECK(heapInUse().is_null());
  CHECK(world.manager().workspaceView(root)->heapInUse == 0);
}

TEST_CASE("with gopls.debug_server off, gopls gets no debug address and GC depends on mem_stats",
          "[manager]") {
  std::string config = kTestConfig;
  config.insert(config.find('{') + 1, R"("gopls": {"debug_server": false},)");
  for (bool memStats : {true, false}) {
    INFO("gopls.mem_stats offered: " << memStats);
    GuardWorld world(config);
    world.fleet.at(kNoDebugServer).features.memStats = memStats;
    world.start();
    const std::string root = world.addWorkspace("app");
    world.scheduler.advance(std::chrono::seconds(40));
    CHECK(world.manager().workspaceView(root)->debugAddress.empty());
    auto status = nlohmann::json::parse(world.manager().statusJson());
    const auto& workspace = status["workspaces"][0];
    CHECK(workspace["debug_address"] == "");
    CHECK(workspace["heap_in_use"].is_null());
    CHECK(workspace["rungs"]["gc"]["available"] == memStats);
    if (!memStats) {
      CHECK_THAT(workspace["rungs"]["gc"]["why"].get<std::string>(),
                 Catch::Contains("gopls.debug_server is false"));
    }
  }
}

}  // namespace wslgo::test
