// The ladder judged on what gopls really freed (#10): GCs judged on the Go heap too, rungs that
// cannot work skipped rather than spent, restarts that cannot help not repeated.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "lib/policy_engine.h"
#include "tests/support/policy_test_config.h"

using namespace std::chrono_literals;

namespace wslgo {
namespace {

constexpr uint64_t kMiB = 1ull << 20;
const std::string kId = "/w/a";

WorkspaceSnapshot figures(uint64_t memory, RungSet rungs = {}) {
  WorkspaceSnapshot w;
  w.id = kId;
  w.memoryCurrent = memory;
  w.rungs = rungs;
  return w;
}

struct Ladder {
  PolicyEngine engine;
  PolicyState state;
  std::vector<Decision> all;

  explicit Ladder(Config config = test::policyTestConfig()) : engine(std::move(config)) {}

  std::vector<Decision> step(Usec now, const WorkspaceSnapshot& workspace) {
    Snapshot snapshot;
    snapshot.now = now;
    snapshot.workspaces = {workspace};
    auto decisions = engine.evaluate(snapshot, state);
    all.insert(all.end(), decisions.begin(), decisions.end());
    return decisions;
  }
  // Steps every 2 s; `memoryAt` may look at the actions so far.
  template <class MemoryAt>
  void run(Usec from, Usec to, MemoryAt memoryAt, RungSet rungs = {}) {
    for (Usec t = from; t < to; t += 2s) step(t, figures(memoryAt(t), rungs));
  }
  std::vector<Decision> of(DecisionKind kind) const {
    std::vector<Decision> out;
    std::copy_if(all.begin(), all.end(), std::back_inserter(out),
                 [&](const Decision& d) { return d.kind == kind; });
    return out;
  }
  std::optional<Usec> firstAction(ActionKind action) const {
    for (const Decision& d : of(DecisionKind::Action)) {
      if (d.action == action) return d.at;
    }
    return std::nullopt;
  }
  void outcome(ActionKind action, uint64_t before, uint64_t after, Usec at,
               std::optional<uint64_t> heapBefore = {}, std::optional<uint64_t> heapAfter = {}) {
    all.push_back(engine.recordOutcome(state, {.workspace = kId,
                                               .action = action,
                                               .before = before,
                                               .after = after,
                                               .heapBefore = heapBefore,
                                               .heapAfter = heapAfter,
                                               .success = true,
                                               .at = at}));
  }
};

}  // namespace

TEST_CASE("a GC whose Go heap fell is effective although RSS has not followed yet", "[ladder]") {
  Ladder ladder;
  ladder.run(0s, 12s, [](Usec) { return 3200 * kMiB; });  // high from 10 s: gc
  REQUIRE(ladder.firstAction(ActionKind::Gc) == 10s);
  // 3 % of memory back by the end of the settle wait, but the heap fell by 40 %.
  ladder.outcome(ActionKind::Gc, 3200 * kMiB, 3100 * kMiB, 12s, 1600 * kMiB, 960 * kMiB);
  const Decision& judged = ladder.all.back();
  CHECK_THAT(judged.reason, Catch::Contains("Go heap 1.56 GiB -> 960.0 MiB (40.0%)"));
  CHECK_THAT(judged.reason, !Catch::Contains("ineffective"));
  ladder.run(12s, 60s, [](Usec) { return 3100 * kMiB; });
  // Effective: the next rung waits the settle time from the GC's end, 12 s + 30 s.
  REQUIRE(ladder.firstAction(ActionKind::Trim));
  CHECK(*ladder.firstAction(ActionKind::Trim) == 42s);
}

TEST_CASE("a GC that moved neither memory nor heap lets the next rung follow at once", "[ladder]") {
  Ladder ladder;
  ladder.run(0s, 12s, [](Usec) { return 3200 * kMiB; });
  ladder.outcome(ActionKind::Gc, 3200 * kMiB, 3150 * kMiB, 12s, 1600 * kMiB, 1550 * kMiB);
  CHECK_THAT(ladder.all.back().reason, Catch::Contains("ineffective"));
  ladder.run(12s, 20s, [](Usec) { return 3150 * kMiB; });
  CHECK(ladder.firstAction(ActionKind::Trim) == 12s);
}

TEST_CASE("the settle time counts from an action's end, not from when it was decided", "[ladder]") {
  Ladder ladder;
  ladder.run(0s, 12s, [](Usec) { return 3200 * kMiB; });
  // Go took 25 s to return the pages; the GC freed 12 %.
  ladder.run(12s, 36s, [](Usec) { return 3200 * kMiB; });
  ladder.outcome(ActionKind::Gc, 3200 * kMiB, 2816 * kMiB, 35s);
  ladder.run(36s, 80s, [](Usec) { return 3100 * kMiB; });
  CHECK(ladder.firstAction(ActionKind::Trim) == 66s);  // 35 s + 30 s, on the next tick
}

TEST_CASE("a rung that cannot work here is skipped, not spent, and the reason says so",
          "[ladder]") {
  Ladder ladder;
  RungSet noTrim;
  noTrim.trim = false;
  ladder.run(
      0s, 12s, [](Usec) { return 3200 * kMiB; }, noTrim);
  ladder.outcome(ActionKind::Gc, 3200 * kMiB, 3150 * kMiB, 12s);  // ineffective
  ladder.run(
      12s, 20s, [](Usec) { return 3150 * kMiB; }, noTrim);
  CHECK_FALSE(ladder.firstAction(ActionKind::Trim));
  REQUIRE(ladder.firstAction(ActionKind::Restart) == 12s);
  auto actions = ladder.of(DecisionKind::Action);
  CHECK_THAT(actions.back().reason,
             Catch::Contains("trim skipped: it cannot work for this workspace here"));
}

TEST_CASE("a workspace with no rung that can work gets no action at all", "[ladder]") {
  Ladder ladder;
  ladder.run(
      0s, 60s, [](Usec) { return 3200 * kMiB; },
      RungSet{.gc = false, .trim = false, .restart = false});
  CHECK(ladder.of(DecisionKind::Action).empty());
  CHECK(ladder.state.workspaces.at(kId).level == Level::High);
}

TEST_CASE(
    "a workspace that reloads past the line it was restarted for is over budget: one "
    "restart, then only GC",
    "[ladder]") {
  Config config = test::policyTestConfig();
  config.actions.restart.reloadWindow = 2min;
  Ladder ladder(config);
  // Critical at once: straight to a restart. The new gopls loads back to 4.2 GiB within a
  // minute; the line was 4 GiB.
  std::optional<Usec> restarted;
  for (Usec t = 0s; t < 20min; t += 2s) {
    uint64_t memory = 4300 * kMiB;
    if (restarted) memory = t - *restarted < 40s ? 900 * kMiB : 4300 * kMiB;
    WorkspaceSnapshot w = figures(memory);
    w.processSince = restarted ? *restarted + 2s : 0s;  // the daemon sees the new MainPID
    w.heapInUse = memory / 2;
    for (const Decision& d : ladder.step(t, w)) {
      if (d.kind == DecisionKind::Action && d.action == ActionKind::Restart) restarted = t;
    }
  }
  auto restarts = std::count_if(ladder.all.begin(), ladder.all.end(), [](const Decision& d) {
    return d.kind == DecisionKind::Action && d.action == ActionKind::Restart;
  });
  CHECK(restarts == 1);
  auto reports = ladder.of(DecisionKind::OverBudget);
  REQUIRE(reports.size() == 1);
  REQUIRE(reports[0].budget);
  CHECK(reports[0].budget->metric == Metric::Memory);
  CHECK(reports[0].budget->level == Level::Critical);
  CHECK(reports[0].budget->loaded == 4300 * kMiB);
  CHECK(reports[0].budget->threshold == 4096 * kMiB);
  CHECK(reports[0].at - *restarted == 40s);
  CHECK_THAT(reports[0].reason, Catch::Contains("restarts cannot help it"));
  CHECK_THAT(reports[0].reason, Catch::Contains("directoryFilters"));
  // After the report: GCs on their cooldown, nothing else.
  for (const Decision& d : ladder.of(DecisionKind::Action)) {
    if (d.at > reports[0].at) CHECK(d.action == ActionKind::Gc);
  }
  CHECK(ladder.firstAction(ActionKind::Gc));

  SECTION("raising the line above what it reloads to lifts it") {
    Config raised = config;
    raised.defaults.memory.critical = 5.0 * (1ull << 30);
    PolicyEngine engine(raised);
    Snapshot snapshot;
    snapshot.now = 20min;
    WorkspaceSnapshot w = figures(4300 * kMiB);
    w.processSince = 0s;
    w.heapInUse = 1 << 30;
    snapshot.workspaces = {w};
    auto decisions = engine.evaluate(snapshot, ladder.state);
    auto restored = std::find_if(decisions.begin(), decisions.end(), [](const Decision& d) {
      return d.kind == DecisionKind::Restored;
    });
    REQUIRE(restored != decisions.end());
    CHECK_THAT(restored->reason, Catch::StartsWith("over budget no more"));
    CHECK_FALSE(ladder.state.workspaces.at(kId).overBudget);
  }
  SECTION("an operator's reset lifts it too") {
    auto reset = ladder.engine.resetDegraded(ladder.state, kId, 20min);
    REQUIRE(reset);
    CHECK(reset->reason == "over-budget state reset by an operator");
  }
}

TEST_CASE(
    "a restart after which gopls stays below the line for the reload window is no "
    "over-budget case",
    "[ladder]") {
  Ladder ladder;
  std::optional<Usec> restarted;
  for (Usec t = 0s; t < 10min; t += 2s) {
    WorkspaceSnapshot w = figures(restarted ? 1500 * kMiB : 4300 * kMiB);
    w.processSince = restarted ? *restarted + 2s : 0s;
    w.heapInUse = 100 * kMiB;
    for (const Decision& d : ladder.step(t, w)) {
      if (d.kind == DecisionKind::Action && d.action == ActionKind::Restart) restarted = t;
    }
  }
  REQUIRE(restarted);
  CHECK(ladder.of(DecisionKind::OverBudget).empty());
  CHECK_FALSE(ladder.state.workspaces.at(kId).restartedAt);  // the watch ended
}

TEST_CASE("without a process first seen after the restart, nothing is taken for its reload",
          "[ladder]") {
  Ladder ladder;
  ladder.run(0s, 5min, [](Usec) { return 4300 * kMiB; });  // no processSince at all
  REQUIRE(ladder.firstAction(ActionKind::Restart));
  CHECK(ladder.of(DecisionKind::OverBudget).empty());
}

TEST_CASE("figures from before the restart's new process are not taken for its reload",
          "[ladder]") {
  Ladder ladder;
  std::optional<Usec> restarted;
  for (Usec t = 0s; t < 3min; t += 2s) {
    WorkspaceSnapshot w = figures(4300 * kMiB);
    if (restarted) {
      // The old process still shows until systemd reports the new one, 10 s later.
      w.processSince = *restarted + 10s;
      if (t < *restarted + 10s) {
        w.processSince = *restarted - 1h;
      } else {
        w.memoryCurrent = 1000 * kMiB;
        w.heapInUse = 300 * kMiB;
      }
    }
    for (const Decision& d : ladder.step(t, w)) {
      if (d.kind == DecisionKind::Action && d.action == ActionKind::Restart) restarted = t;
    }
  }
  REQUIRE(restarted);
  CHECK(ladder.of(DecisionKind::OverBudget).empty());
}

}  // namespace wslgo
