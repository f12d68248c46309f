// The published state as a pure function of a workspace's facts.
#include <catch2/catch.hpp>
#include <limits>
#include <nlohmann/json.hpp>

#include "daemon/workspace_status.h"

namespace wslgo::test {
namespace {

struct Facts {
  WorkspaceRecord record{.path = "/home/me/src/app",
                         .unit = "wslgo-gopls@-home-me-src-app.service",
                         .socket = "/run/user/1000/wslgo-guard/gopls-1.sock",
                         .addedUsec = 0,
                         .options = {}};
  UnitInfo unit{.name = record.unit,
                .objectPath = {},
                .loadState = "loaded",
                .activeState = "active",
                .subState = "running",
                .controlGroup = {},
                .mainPid = 4242,
                .nRestarts = 1,
                .memoryHigh = std::nullopt,
                .memoryMax = std::nullopt,
                .cpuWeight = std::nullopt,
                .ioWeight = std::nullopt,
                .result = "success"};
  WorkspaceSnapshot snapshot;
  WorkspaceSettings settings;
  WorkspaceState policy;
  bool withPolicy = true;
  std::optional<ActionKind> inFlight;
  LastAction lastAction{.name = "gc", .wallUsec = 1'790'000'000'000'000};
  RungAvailability rungs = rungAvailability(RungFacts{.debugServerAnswers = true,
                                                      .reclaimAvailable = false,
                                                      .fileCache = false,
                                                      .goplsVersion = "master"});
  // A normal user on a hybrid host: none of the unit's controls is enforced.
  std::optional<ResourceEnforcement> enforcement = ResourceEnforcement{
      .memoryHigh = {.enforced = false, .why = "the unit has no cgroup v2 memory controller here"},
      .memoryMax = {.enforced = false, .why = "the unit has no memory controller of its own"},
      .cpuWeight = {.enforced = false, .why = "the unit has no cpu controller of its own"},
      .ioWeight = {.enforced = false, .why = "the unit has no io controller of its own"},
      .oomKillCounter = std::nullopt,
      .systemdSeesOomKills = false};
  std::optional<int> oomScoreAdj;
  OomKills oomKills;
  uint32_t editors = 0;

  WorkspaceFacts get() const {
    return WorkspaceFacts{.record = record,
                          .unit = unit,
                          .debugAddress = "127.0.0.1:6060",
                          .snapshot = snapshot,
                          .settings = settings,
                          .policy = withPolicy ? &policy : nullptr,
                          .inFlight = inFlight,
                          .lastAction = lastAction,
                          .gopls = nullptr,
                          .rungs = rungs,
                          .enforcement = enforcement ? &*enforcement : nullptr,
                          .oomScoreAdj = oomScoreAdj,
                          .oomKills = oomKills,
                          .memorySource = MemorySource::CgroupV2,
                          .editors = editors};
  }
};

}  // namespace

TEST_CASE("a workspace's state: restarting beats degraded beats the unit's state beats its level",
          "[status]") {
  Facts facts;
  CHECK(workspaceState(facts.get()) == "running");
  facts.policy.level = Level::High;
  CHECK(workspaceState(facts.get()) == "high");
  facts.policy.overBudget =
      Budget{.metric = Metric::Memory, .level = Level::High, .loaded = 5, .threshold = 4};
  CHECK(workspaceState(facts.get()) == "over-budget");
  facts.policy.overBudget.reset();
  facts.unit.activeState = "activating";
  CHECK(workspaceState(facts.get()) == "starting");
  facts.unit.activeState = "failed";
  CHECK(workspaceState(facts.get()) == "failed");
  facts.policy.crashLoop = true;
  CHECK(workspaceState(facts.get()) == "degraded");
  facts.inFlight = ActionKind::Restart;
  CHECK(workspaceState(facts.get()) == "restarting");
  facts.inFlight = ActionKind::Gc;
  facts.withPolicy = false;
  facts.unit.activeState = "inactive";
  CHECK(workspaceState(facts.get()) == "stopped");
}

TEST_CASE("a workspace's view carries its figures, limits and last action; unknowns are 0",
          "[status]") {
  Facts facts;
  facts.snapshot.memoryCurrent = 300;
  facts.settings.memory.warning = 1000.0;
  facts.settings.memory.critical = 3000.0;
  const WorkspaceView view = workspaceView(facts.get());
  CHECK(view.debugAddress == "127.0.0.1:6060");
  CHECK(view.memoryCurrent == 300);
  CHECK(view.rss == 0);
  CHECK(view.warningLimit == 1000);
  CHECK(view.highLimit == 0);
  CHECK(view.criticalLimit == 3000);
  CHECK(view.restarts == 1);
  CHECK(view.lastAction == "gc");
  CHECK(view.lastActionUsec == 1'790'000'000'000'000);
}

TEST_CASE("a workspace's editors show as Editors and in GetStatus, and a change is announced",
          "[status]") {
  Facts facts;
  const WorkspaceView before = workspaceView(facts.get());
  CHECK(before.editors == 0);
  facts.editors = 3;
  const WorkspaceView after = workspaceView(facts.get());
  CHECK(after.editors == 3);
  CHECK(changedProperties(before, after) == std::vector<std::string>{"Editors"});

  ManagerView manager;
  const std::vector<std::string> files;
  const std::vector<WorkspaceFacts> workspaces{facts.get()};
  const std::vector<OtherGopls> others;
  auto json = nlohmann::json::parse(statusJson(StatusFacts{
      .manager = manager, .configFiles = files, .workspaces = workspaces, .otherGopls = others}));
  CHECK(json["workspaces"][0]["editors"] == 3);
}

TEST_CASE("an editor count past a u's range stops at its largest value", "[status]") {
  EditorReports reports;
  CHECK(reports.total() == 0);
  reports.byReporter = {{":1.1", 4'000'000'000u}, {":1.2", 4'000'000'000u}};
  CHECK(reports.total() == std::numeric_limits<uint32_t>::max());
}

TEST_CASE("GetStatus shows the GOMEMLIMIT in effect and whether MemoryHigh is enforced",
          "[status]") {
  Facts facts;
  facts.settings.memory.high = 3000.0;
  facts.settings.memoryHigh = 2500;
  facts.policy.overBudget =
      Budget{.metric = Metric::Rss, .level = Level::High, .loaded = 3100, .threshold = 3000};
  ManagerView manager;
  const std::vector<std::string> files;
  const std::vector<WorkspaceFacts> workspaces{facts.get()};
  const std::vector<OtherGopls> others;
  auto json = nlohmann::json::parse(statusJson(StatusFacts{
      .manager = manager, .configFiles = files, .workspaces = workspaces, .otherGopls = others}));
  const auto& workspace = json["workspaces"][0];
  CHECK(workspace["gomemlimit"] == 2700);  // 90 % of high, gomemlimit being null
  CHECK(workspace["memory_high"]["value"] == 2500);
  CHECK(workspace["memory_high"]["enforced"] == false);
  CHECK_THAT(workspace["memory_high"]["why"].get<std::string>(),
             Catch::Contains("no cgroup v2 memory controller"));
  CHECK(workspace["over_budget"]["metric"] == "rss");
  CHECK(workspace["over_budget"]["loaded"] == 3100);
  CHECK(workspace["rungs"]["restart"]["available"] == false);
  CHECK(workspace["state"] == "over-budget");
}

TEST_CASE(
    "GetStatus shows each resource control's value, whether the host enforces it and why not, "
    "the effective oom_score_adj and the OOM kills",
    "[status]") {
  Facts facts;
  facts.settings.memoryMax = 4096;
  facts.settings.cpuWeight = 50;
  facts.settings.ioWeight = 20;
  facts.settings.oomScoreAdjust = 500;
  facts.oomScoreAdj = 200;
  facts.oomKills = {.count = 2,
                    .lastWallUsec = 1'790'000'000'000'000,
                    .lastReason = "gopls (PID 4241) was killed by the kernel's OOM killer",
                    .counterSeen = 2,
                    .reportedPid = 4241};
  facts.enforcement->memoryMax = {.enforced = true, .why = ""};
  ManagerView manager;
  const std::vector<std::string> files;
  const std::vector<WorkspaceFacts> workspaces{facts.get()};
  const std::vector<OtherGopls> others;
  auto json = nlohmann::json::parse(statusJson(StatusFacts{
      .manager = manager, .configFiles = files, .workspaces = workspaces, .otherGopls = others}));
  const auto& workspace = json["workspaces"][0];
  CHECK(workspace["memory_max"]["value"] == 4096);
  CHECK(workspace["memory_max"]["enforced"] == true);
  CHECK_FALSE(workspace["memory_max"].contains("why"));
  CHECK(workspace["cpu_weight"]["value"] == 50);
  CHECK(workspace["cpu_weight"]["enforced"] == false);
  CHECK_THAT(workspace["cpu_weight"]["why"].get<std::string>(), Catch::Contains("no cpu"));
  CHECK(workspace["io_weight"]["value"] == 20);
  CHECK_THAT(workspace["io_weight"]["why"].get<std::string>(), Catch::Contains("no io"));
  // A memory limit that is off is neither enforced nor in need of an excuse.
  CHECK(workspace["memory_high"]["value"].is_null());
  CHECK(workspace["memory_high"]["enforced"] == false);
  CHECK_FALSE(workspace["memory_high"].contains("why"));
  CHECK(workspace["oom_score_adj"]["configured"] == 500);
  CHECK(workspace["oom_score_adj"]["effective"] == 200);
  CHECK_THAT(workspace["oom_score_adj"]["why"].get<std::string>(), Catch::Contains("next start"));
  CHECK(workspace["oom_kills"]["count"] == 2);
  CHECK_THAT(workspace["oom_kills"]["last_reason"].get<std::string>(), Catch::Contains("PID 4241"));

  facts.oomScoreAdj.reset();
  facts.enforcement.reset();
  const std::vector<WorkspaceFacts> unknown{facts.get()};
  auto stopped = nlohmann::json::parse(statusJson(StatusFacts{
      .manager = manager, .configFiles = files, .workspaces = unknown, .otherGopls = others}));
  CHECK(stopped["workspaces"][0]["oom_score_adj"]["effective"].is_null());
  CHECK(stopped["workspaces"][0]["memory_max"]["enforced"] == false);
}

TEST_CASE(
    "GetStatus JSON says which figures are unknown and leaves the guard's gopls out of "
    "other_gopls",
    "[status]") {
  Facts facts;
  facts.snapshot.memoryCurrent = 300;
  ManagerView manager;
  manager.memTotal = 1000;
  manager.memAvailable = 800;
  const std::vector<std::string> files{"/usr/share/wslgo-guard/default.json"};
  const std::vector<WorkspaceFacts> workspaces{facts.get()};
  const std::vector<OtherGopls> others{
      {.pid = 4242, .parent = 1, .role = "daemon", .directory = "/", .rss = 1},
      {.pid = 4250, .parent = 4242, .role = "tool", .directory = "/", .rss = 102},  // telemetry
      {.pid = 77, .parent = 1, .role = "forwarder", .directory = "/home/me", .rss = std::nullopt}};
  auto json = nlohmann::json::parse(statusJson(StatusFacts{
      .manager = manager, .configFiles = files, .workspaces = workspaces, .otherGopls = others}));
  REQUIRE(json["workspaces"].size() == 1);
  CHECK(json["workspaces"][0]["memory_current"] == 300);
  CHECK(json["workspaces"][0]["rss"].is_null());
  CHECK(json["workspaces"][0]["memory_source"] == "cgroup-v2");
  CHECK(json["workspaces"][0]["editor_flags"] ==
        "-remote=unix;/run/user/1000/wslgo-guard/gopls-1.sock");
  REQUIRE(json["other_gopls"].size() == 1);
  CHECK(json["other_gopls"][0]["pid"] == 77);
  CHECK_FALSE(json["other_gopls"][0].contains("rss"));
  CHECK(statusLine(manager, 1) == "ok: 1 workspace, MemAvailable 80.0%");
  // Debian's gopls on a hybrid host: trim cannot work, and says why.
  CHECK(json["workspaces"][0]["rungs"]["gc"]["available"] == true);
  CHECK(json["workspaces"][0]["rungs"]["trim"]["available"] == false);
  CHECK_THAT(json["workspaces"][0]["rungs"]["trim"]["why"].get<std::string>(),
             Catch::Contains("gopls master keeps no file cache"));
  CHECK(json["workspaces"][0]["over_budget"].is_null());
  CHECK(json["workspaces"][0]["gomemlimit"].is_null());
  CHECK(json["workspaces"][0]["memory_high"]["enforced"] == false);
  // Debian's gopls on a hybrid host: trim cannot work, and says why.
  CHECK(json["workspaces"][0]["rungs"]["gc"]["available"] == true);
  CHECK(json["workspaces"][0]["rungs"]["trim"]["available"] == false);
  CHECK_THAT(json["workspaces"][0]["rungs"]["trim"]["why"].get<std::string>(),
             Catch::Contains("gopls master keeps no file cache"));
  CHECK(json["workspaces"][0]["over_budget"].is_null());
  CHECK(json["workspaces"][0]["gomemlimit"].is_null());
  CHECK(json["workspaces"][0]["memory_high"]["enforced"] == false);
}

}  // namespace wslgo::test
