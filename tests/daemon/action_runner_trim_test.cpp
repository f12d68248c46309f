// The trim rung through the ActionRunner: its cache walks go a slice at a time on the loop, one
// walk per workspace and per cache, and stop cleanly when the workspace or the runner goes.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <string>

#include <catch2/catch.hpp>

#include "daemon/action_runner.h"
#include "lib/config.h"
#include "tests/support/fake_scheduler.h"
#include "tests/support/fake_systemd_client.h"
#include "tests/unit/temp_dir.h"

namespace fs = std::filesystem;

namespace wslgo::test {
namespace {

constexpr const char* kApp = "/home/me/src/app";
constexpr const char* kTool = "/home/me/src/tool";

Config budgetZeroConfig() {
  auto config =
      loadConfig({ConfigLayer{std::string(WSLGO_SOURCE_DIR) + "/config/default.json", true}},
                 uint64_t{16} << 30, "/home/me");
  REQUIRE(config);
  config->actions.trim.cacheBudget = 0;
  return *config;
}

// Workspaces whose gopls keeps its file cache where the test says, with no debug server and no
// memory.reclaim: the trim is the cache walks alone.
class TrimContext final : public ActionContext {
 public:
  const Config& config() const override { return config_; }
  GoplsDebug* debugClient(const std::string&) override { return nullptr; }
  std::optional<uint64_t> effectFigure(const std::string& root, bool) override {
    if (workspaces.count(root) == 0) return std::nullopt;
    return uint64_t{1000};
  }
  std::optional<ReclaimTarget> reclaimTarget(const std::string&) override { return std::nullopt; }
  std::string goplsFileCache(const std::string&) override { return fileCache; }
  std::string goModCache(const std::string&) override { return modCache; }
  Result<void> refreshUnitEnvironment(const std::string&) override { return {}; }
  void restartImminent(const std::string&, const std::string&) override {}
  void unitRestarted(const std::string&) override {}
  void actionFinished(const ActionReport& report) override { reports.push_back(report); }

  Config config_ = budgetZeroConfig();
  std::set<std::string> workspaces{kApp, kTool};
  std::string fileCache;
  std::string modCache;  // "" : the runner falls back to its ActionPaths
  std::vector<ActionReport> reports;
};

struct TrimRig {
  TempDir dir{"trim-runner"};
  FakeScheduler scheduler;
  FakeSystemdClient systemd{scheduler, "/app.slice"};
  TrimContext context;
  std::unique_ptr<ActionRunner> runner = std::make_unique<ActionRunner>(
      context, scheduler, systemd,
      ActionPaths{.profileRoot = dir / "profiles",
                  .caches = GoCacheEnv{.goplsCache = {},
                                       .xdgCacheHome = {},
                                       .goModCache = dir / "modcache",
                                       .goPath = {},
                                       .home = dir / "home"},
                  // Frozen: slices end at kTrimSliceEntries, whatever the machine's speed.
                  .trimSliceClock = [] { return Usec(0); }});

  // gopls' cache with `count` entries of one byte in its own layout, oldest first.
  fs::path fillCache(unsigned count) {
    const fs::path cache = dir.path() / "cache/gopls";
    for (unsigned i = 0; i < count; ++i) {
      char key[65];
      std::snprintf(key, sizeof key, "%02x%062x", i % 256, i);
      const fs::path file = cache / "0a1b2c3d" / std::string(key, 2) / (std::string(key) + "-cas");
      fs::create_directories(file.parent_path());
      std::ofstream(file) << 'x';
    }
    context.fileCache = cache.string();
    return cache;
  }

  size_t filesIn(const fs::path& cache) const {
    size_t count = 0;
    for (const auto& entry : fs::recursive_directory_iterator(cache)) {
      if (entry.is_regular_file()) ++count;
    }
    return count;
  }

  // Runs the loop a slice at a time until `done` is set; the slices after the first.
  template <class Done>
  size_t slicesUntil(const Done& done, size_t atMost = 1000) {
    size_t slices = 0;
    while (!done() && slices < atMost) {
      scheduler.advance(ActionRunner::kTrimSliceGap);
      ++slices;
    }
    return slices;
  }
};

}  // namespace

TEST_CASE("25,000 cache entries with a budget of 0 are all pruned over several slices",
          "[action_runner][trim]") {
  TrimRig rig;
  const fs::path cache = rig.fillCache(25000);
  std::optional<Result<ActionReport>> done;
  rig.runner->run(kApp, "app.service", ActionKind::Trim, "test",
                  [&](auto report) { done = report; });
  CHECK_FALSE(done);
  CHECK(rig.runner->inFlight(kApp) == ActionKind::Trim);

  const size_t slices = rig.slicesUntil([&] { return done.has_value(); });
  REQUIRE(done);
  REQUIRE(*done);
  CHECK(slices > 1);
  CHECK_THAT((*done)->result.value(), Catch::Contains("pruned 25000 files"));
  CHECK(rig.filesIn(cache) == 0);
  CHECK(rig.context.reports.size() == 1);
  CHECK_FALSE(rig.runner->inFlight(kApp));
}

TEST_CASE("a trim asked while one walks for the workspace is refused, and one walk goes on",
          "[action_runner][trim]") {
  TrimRig rig;
  rig.fillCache(25000);
  std::optional<Result<ActionReport>> first;
  std::optional<Result<ActionReport>> second;
  rig.runner->run(kApp, "app.service", ActionKind::Trim, "test",
                  [&](auto report) { first = report; });
  rig.scheduler.advance(ActionRunner::kTrimSliceGap);
  rig.runner->run(kApp, "app.service", ActionKind::Trim, "again",
                  [&](auto report) { second = report; });
  REQUIRE(second);
  REQUIRE_FALSE(*second);
  CHECK(second->error().code == EBUSY);

  rig.slicesUntil([&] { return first.has_value(); });
  REQUIRE(first);
  REQUIRE(*first);
  CHECK_THAT((*first)->result.value(), Catch::Contains("pruned 25000 files"));
  CHECK(rig.context.reports.size() == 1);
}

TEST_CASE("a workspace removed mid-walk stops its trim where it is and hears nothing later",
          "[action_runner][trim]") {
  TrimRig rig;
  const fs::path cache = rig.fillCache(25000);
  std::optional<Result<ActionReport>> done;
  rig.runner->run(kApp, "app.service", ActionKind::Trim, "test",
                  [&](auto report) { done = report; });
  rig.scheduler.advance(ActionRunner::kTrimSliceGap);
  REQUIRE_FALSE(done);

  rig.runner->abandon(kApp);
  rig.context.workspaces.erase(kApp);
  REQUIRE(done);
  REQUIRE_FALSE(*done);
  CHECK(done->error().code == ECANCELED);
  const size_t left = rig.filesIn(cache);
  rig.scheduler.advance(std::chrono::seconds(10));
  CHECK(rig.filesIn(cache) == left);  // no slice ran after the removal
  CHECK(rig.context.reports.empty());
  CHECK(rig.scheduler.pendingTimers() == 0);
}

TEST_CASE("the guard stopping mid-walk leaves no slice behind", "[action_runner][trim]") {
  TrimRig rig;
  const fs::path cache = rig.fillCache(25000);
  bool called = false;
  rig.runner->run(kApp, "app.service", ActionKind::Trim, "test", [&](auto) { called = true; });
  REQUIRE(rig.scheduler.pendingTimers() == 1);

  rig.runner.reset();
  CHECK(rig.scheduler.pendingTimers() == 0);
  const size_t left = rig.filesIn(cache);
  rig.scheduler.advance(std::chrono::seconds(10));
  CHECK(rig.filesIn(cache) == left);
  CHECK_FALSE(called);
}

TEST_CASE("two workspaces sharing gopls' cache walk it once", "[action_runner][trim]") {
  TrimRig rig;
  const fs::path cache = rig.fillCache(25000);
  std::optional<Result<ActionReport>> app;
  std::optional<Result<ActionReport>> tool;
  rig.runner->run(kApp, "app.service", ActionKind::Trim, "test",
                  [&](auto report) { app = report; });
  rig.runner->run(kTool, "tool.service", ActionKind::Trim, "test",
                  [&](auto report) { tool = report; });
  REQUIRE(tool);
  REQUIRE(*tool);
  CHECK_THAT((*tool)->result.value(),
             Catch::Contains(cache.string() + " is being trimmed for " + kApp));

  rig.slicesUntil([&] { return app.has_value(); });
  REQUIRE(app);
  REQUIRE(*app);
  CHECK(rig.filesIn(cache) == 0);
}

TEST_CASE("a trim that outlasts trim.timeout stops there and says what it did",
          "[action_runner][trim]") {
  TrimRig rig;
  rig.context.config_.actions.trim.timeout = std::chrono::milliseconds(100);
  const fs::path cache = rig.fillCache(25000);
  std::optional<Result<ActionReport>> done;
  rig.runner->run(kApp, "app.service", ActionKind::Trim, "test",
                  [&](auto report) { done = report; });
  const size_t slices = rig.slicesUntil([&] { return done.has_value(); });
  REQUIRE(done);
  REQUIRE(*done);
  CHECK(slices == 10);  // 100 ms of 10 ms gaps
  CHECK_THAT((*done)->result.value(), Catch::Contains("stopped pruning " + cache.string() +
                                                      " after 100ms (actions.trim.timeout)"));
  CHECK(rig.filesIn(cache) == 25000);  // stopped during the scan: nothing deleted
  CHECK(rig.scheduler.pendingTimers() == 0);
}

TEST_CASE("a small cache is trimmed within the first slice", "[action_runner][trim]") {
  TrimRig rig;
  const fs::path cache = rig.fillCache(10);
  std::optional<Result<ActionReport>> done;
  rig.runner->run(kApp, "app.service", ActionKind::Trim, "test",
                  [&](auto report) { done = report; });
  REQUIRE(done);
  REQUIRE(*done);
  CHECK_THAT((*done)->result.value(), Catch::Contains("pruned 10 files"));
  CHECK_THAT((*done)->result.value(),
             Catch::Contains("dropped the page cache of 0 files in " + cache.string()));
  CHECK(rig.scheduler.pendingTimers() == 0);
}

TEST_CASE("the module cache whose page cache is dropped is the one gopls' environment names",
          "[action_runner][trim]") {
  TrimRig rig;
  const fs::path own = rig.dir / "gopls-own-modcache";
  fs::create_directories(own / "example.com/m@v1.0.0");
  std::ofstream(own / "example.com/m@v1.0.0/go.mod") << "module example.com/m\n";
  rig.context.modCache = own.string();
  std::optional<Result<ActionReport>> done;
  rig.runner->run(kApp, "app.service", ActionKind::Trim, "test",
                  [&](auto report) { done = report; });
  rig.slicesUntil([&] { return done.has_value(); });
  REQUIRE(done);
  REQUIRE(*done);
  CHECK_THAT((*done)->result.value(),
             Catch::Contains("dropped the page cache of 1 files in " + own.string()));
  CHECK_THAT((*done)->result.value(), !Catch::Contains(fs::path(rig.dir / "modcache").string()));
}

}  // namespace wslgo::test
