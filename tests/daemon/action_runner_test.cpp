// The ActionRunner alone, through a context a test controls: when "after" is measured, what a
// failure reports, and what abandoning an action leaves behind.
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <functional>

#include <catch2/catch.hpp>

#include "daemon/action_runner.h"
#include "lib/config.h"
#include "tests/support/fake_gopls_debug.h"
#include "tests/support/fake_scheduler.h"
#include "tests/support/fake_systemd_client.h"
#include "tests/unit/temp_dir.h"

namespace wslgo::test {
namespace {

using std::chrono::seconds;

constexpr const char* kRoot = "/home/me/src/app";
constexpr const char* kUnit = "wslgo-gopls@-home-me-src-app.service";

Config defaultConfig() {
  auto config =
      loadConfig({ConfigLayer{std::string(WSLGO_SOURCE_DIR) + "/config/default.json", true}},
                 uint64_t{16} << 30, "/home/me");
  REQUIRE(config);
  return *config;
}

class TestContext final : public ActionContext {
 public:
  TestContext(FakeGoplsFleet& fleet)
      : debug_(fleet.factory()(GoplsEndpoints{.socket = {},
                                              .debugAddress = "127.0.0.1:6060",
                                              .mainPid = 0,
                                              .noDebugServerWhy = {}})) {}

  const Config& config() const override { return config_; }
  GoplsDebug* debugClient(const std::string& root) override {
    return present && root == kRoot ? debug_.get() : nullptr;
  }
  std::optional<uint64_t> effectFigure(const std::string& root, bool fresh) override {
    if (!present || root != kRoot) return std::nullopt;
    if (fresh) ++freshReads;
    return memory;
  }
  std::optional<ReclaimTarget> reclaimTarget(const std::string&) override { return std::nullopt; }
  std::string goplsFileCache(const std::string&) override { return {}; }
  std::string goModCache(const std::string&) override { return {}; }
  Result<void> refreshUnitEnvironment(const std::string& root) override {
    if (onRefreshEnvironment) onRefreshEnvironment();
    environmentWrites.push_back(root);
    if (environmentFails) return errnoError(ENOSPC, "/state/units/app.env", "cannot write");
    return {};
  }
  void restartImminent(const std::string&, const std::string& reason) override {
    imminent.push_back(reason);
    if (onRestartImminent) onRestartImminent();
  }
  void unitRestarted(const std::string&) override { ++restarts; }
  void actionFinished(const ActionReport& report) override { reports.push_back(report); }

  Config config_ = defaultConfig();
  bool present = true;
  uint64_t memory = 1000;
  size_t freshReads = 0;
  size_t restarts = 0;
  std::vector<ActionReport> reports;
  std::vector<std::string> imminent;  // the reasons restartImminent was given
  std::function<void()> onRestartImminent;
  std::vector<std::string> environmentWrites;  // the roots refreshUnitEnvironment was given
  bool environmentFails = false;
  std::function<void()> onRefreshEnvironment;

 private:
  std::unique_ptr<GoplsDebug> debug_;
};

struct RunnerRig {
  TempDir dir{"runner"};
  FakeScheduler scheduler;
  FakeSystemdClient systemd{scheduler, "/app.slice"};
  FakeGoplsFleet fleet{scheduler};
  TestContext context{fleet};
  ActionRunner runner{context, scheduler, systemd,
                      ActionPaths{.profileRoot = dir / "profiles",
                                  .caches = GoCacheEnv{.goplsCache = dir / "gopls-cache",
                                                       .xdgCacheHome = {},
                                                       .goModCache = dir / "modcache",
                                                       .goPath = {},
                                                       .home = dir / "home"}}};
  FakeGopls& gopls() { return fleet.at("127.0.0.1:6060"); }
};

}  // namespace

TEST_CASE("a GC is judged once Go stopped returning pages, with the heap before and after",
          "[action_runner]") {
  RunnerRig rig;
  rig.gopls().heapInUse = 800;
  rig.gopls().gcTakes = std::chrono::milliseconds(100);
  rig.gopls().onGc = [&] {
    rig.gopls().heapInUse = 400;  // the heap falls at once
    rig.context.memory = 950;     // the pages come back over the next seconds
  };
  std::optional<Result<ActionReport>> done;
  rig.runner.run(kRoot, kUnit, ActionKind::Gc, "test", [&](auto report) { done = report; });
  CHECK(rig.runner.inFlight(kRoot) == ActionKind::Gc);

  for (uint64_t memory : {850, 750, 700}) {
    rig.scheduler.advance(ActionRunner::kReleasePoll);
    CHECK_FALSE(done);  // still falling: still watching
    rig.context.memory = memory;
  }
  rig.scheduler.advance(ActionRunner::kReleasePoll + ActionRunner::kReleaseQuiet);
  REQUIRE(done);
  REQUIRE(*done);
  CHECK((*done)->before == 1000);
  CHECK((*done)->after == 700);
  CHECK((*done)->heapBefore == 800u);
  CHECK((*done)->heapAfter == 400u);
  CHECK(rig.context.reports.size() == 1);
  CHECK_FALSE(rig.runner.inFlight(kRoot));
}

TEST_CASE("a GC whose memory keeps falling is judged at the settle time at the latest",
          "[action_runner]") {
  RunnerRig rig;
  std::optional<Result<ActionReport>> done;
  rig.runner.run(kRoot, kUnit, ActionKind::Gc, "test", [&](auto report) { done = report; });
  const Usec started = rig.scheduler.now();
  while (!done && rig.scheduler.now() - started < std::chrono::minutes(2)) {
    rig.context.memory -= 10;  // 1 % a second, for ever
    rig.scheduler.advance(std::chrono::milliseconds(500));
  }
  REQUIRE(done);
  const Usec took = rig.scheduler.now() - started;
  CHECK(took >= rig.context.config().actions.settle);
  CHECK(took <= rig.context.config().actions.settle + std::chrono::seconds(2));
}

TEST_CASE("a GC on a gopls that gives no heap figures is still judged on memory",
          "[action_runner]") {
  RunnerRig rig;
  rig.gopls().heapFails = true;
  rig.gopls().onGc = [&] { rig.context.memory = 500; };
  std::optional<Result<ActionReport>> done;
  rig.runner.run(kRoot, kUnit, ActionKind::Gc, "test", [&](auto report) { done = report; });
  rig.scheduler.advance(std::chrono::seconds(10));
  REQUIRE(done);
  REQUIRE(*done);
  CHECK((*done)->after == 500);
  CHECK_FALSE((*done)->heapBefore);
  CHECK_FALSE((*done)->heapAfter);
  CHECK(rig.gopls().gcCalls == 1);
}

TEST_CASE("a trim with neither memory.reclaim nor a cache says what it found missing",
          "[action_runner]") {
  RunnerRig rig;
  std::optional<Result<ActionReport>> done;
  rig.runner.run(kRoot, kUnit, ActionKind::Trim, "test", [&](auto report) { done = report; });
  REQUIRE(done);
  REQUIRE_FALSE(*done);
  CHECK_THAT(done->error().describe(), Catch::Contains("nothing to trim"));
  REQUIRE(rig.context.reports.size() == 1);
  CHECK_FALSE(rig.context.reports[0].result);
}

TEST_CASE("a trim drops the page cache of gopls' cache and reports what it did",
          "[action_runner]") {
  RunnerRig rig;
  std::filesystem::create_directories(rig.dir / "gopls-cache/gopls/ab");
  std::ofstream(rig.dir / "gopls-cache/gopls/ab/entry") << std::string(8192, 'x');
  std::optional<Result<ActionReport>> done;
  rig.runner.run(kRoot, kUnit, ActionKind::Trim, "test", [&](auto report) { done = report; });
  REQUIRE(done);
  REQUIRE(*done);
  CHECK_THAT((*done)->result.value(), Catch::Contains("dropped the page cache of 1 files"));
  // Within budget: nothing deleted.
  CHECK(std::filesystem::exists(rig.dir / "gopls-cache/gopls/ab/entry"));
}

TEST_CASE("an abandoned action answers ECANCELED at once and reports nothing later",
          "[action_runner]") {
  RunnerRig rig;
  rig.gopls().gcTakes = seconds(5);
  std::optional<Result<ActionReport>> done;
  rig.runner.run(kRoot, kUnit, ActionKind::Gc, "test", [&](auto report) { done = report; });
  rig.runner.abandon(kRoot);
  REQUIRE(done);
  REQUIRE_FALSE(*done);
  CHECK(done->error().code == ECANCELED);
  CHECK_FALSE(rig.runner.inFlight(kRoot));
  rig.scheduler.advance(seconds(10));
  CHECK(rig.context.reports.empty());
  CHECK(rig.context.freshReads == 0);
}

TEST_CASE("a restart saves the profile first, restarts the unit and forgets the old heap",
          "[action_runner]") {
  RunnerRig rig;
  std::optional<Result<ActionReport>> done;
  rig.runner.run(kRoot, kUnit, ActionKind::Restart, "test", [&](auto report) { done = report; });
  rig.scheduler.advance(seconds(3));
  REQUIRE(done);
  REQUIRE(*done);
  const std::string profile = (*done)->result.value();
  CHECK_THAT(profile, Catch::StartsWith(rig.dir / "profiles/"));
  CHECK(std::filesystem::file_size(profile) == 4);
  CHECK(rig.systemd.calls() == std::vector<std::string>{std::string("restart ") + kUnit});
  CHECK(rig.context.restarts == 1);
}

TEST_CASE("a restart is announced after the profile and before the restart job, with its reason",
          "[action_runner]") {
  RunnerRig rig;
  size_t profilesThen = 0;
  std::vector<std::string> callsThen{"not announced"};
  rig.context.onRestartImminent = [&] {
    profilesThen = rig.gopls().profileCalls;
    callsThen = rig.systemd.calls();
  };
  std::optional<Result<ActionReport>> done;
  rig.runner.run(kRoot, kUnit, ActionKind::Restart, "memory 2.1G is above critical 2G",
                 [&](auto report) { done = report; });
  rig.scheduler.advance(seconds(3));
  REQUIRE(done);
  REQUIRE(*done);
  CHECK(rig.context.imminent == std::vector<std::string>{"memory 2.1G is above critical 2G"});
  CHECK(profilesThen == 1);
  CHECK(callsThen.empty());
  CHECK(rig.systemd.calls() == std::vector<std::string>{std::string("restart ") + kUnit});
  CHECK((*done)->reason == rig.context.imminent[0]);
}

TEST_CASE("a restart rewrites the unit's environment file before the restart job",
          "[action_runner]") {
  // What the user set last (a reloaded gomemlimit, say) must reach the gopls the restart starts.
  RunnerRig rig;
  std::vector<std::string> callsThen{"not rewritten"};
  rig.context.onRefreshEnvironment = [&] { callsThen = rig.systemd.calls(); };
  std::optional<Result<ActionReport>> done;
  rig.runner.run(kRoot, kUnit, ActionKind::Restart, "test", [&](auto report) { done = report; });
  rig.scheduler.advance(seconds(3));
  REQUIRE(done);
  REQUIRE(*done);
  CHECK(rig.context.environmentWrites == std::vector<std::string>{kRoot});
  CHECK(callsThen.empty());
  CHECK(rig.systemd.calls() == std::vector<std::string>{std::string("restart ") + kUnit});
}

TEST_CASE("a restart goes ahead when the environment file cannot be rewritten", "[action_runner]") {
  // Memory is what matters then: the old settings are better than a gopls left to grow.
  RunnerRig rig;
  rig.context.environmentFails = true;
  std::optional<Result<ActionReport>> done;
  rig.runner.run(kRoot, kUnit, ActionKind::Restart, "test", [&](auto report) { done = report; });
  rig.scheduler.advance(seconds(3));
  REQUIRE(done);
  CHECK(done->ok());
  CHECK(rig.systemd.calls() == std::vector<std::string>{std::string("restart ") + kUnit});
}

TEST_CASE("a GC or a trim announces no restart", "[action_runner]") {
  RunnerRig rig;
  rig.runner.run(kRoot, kUnit, ActionKind::Gc, "test", nullptr);
  rig.scheduler.advance(seconds(40));
  rig.runner.run(kRoot, kUnit, ActionKind::Trim, "test", nullptr);
  rig.scheduler.advance(seconds(3));
  CHECK(rig.context.reports.size() == 2);
  CHECK(rig.context.imminent.empty());
}

TEST_CASE("a restart without save_profile captures nothing", "[action_runner]") {
  RunnerRig rig;
  rig.context.config_.actions.restart.saveProfile = false;
  std::optional<Result<ActionReport>> done;
  rig.runner.run(kRoot, kUnit, ActionKind::Restart, "test", [&](auto report) { done = report; });
  rig.scheduler.advance(seconds(3));
  REQUIRE(done);
  REQUIRE(*done);
  CHECK((*done)->result.value().empty());
  CHECK(rig.gopls().profileCalls == 0);
}

TEST_CASE("a workspace unknown to the context is refused before anything runs", "[action_runner]") {
  RunnerRig rig;
  rig.context.present = false;
  std::optional<Result<ActionReport>> done;
  rig.runner.run(kRoot, kUnit, ActionKind::Gc, "test", [&](auto report) { done = report; });
  REQUIRE(done);
  REQUIRE_FALSE(*done);
  CHECK(done->error().code == ESRCH);
  CHECK(rig.gopls().gcCalls == 0);
}

}  // namespace wslgo::test
