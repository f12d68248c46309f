#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "lib/policy_engine.h"
#include "tests/support/policy_test_config.h"

using namespace std::chrono_literals;
using namespace wslgo;
using wslgo::test::policyTestConfig;

namespace {

constexpr uint64_t kMiB = 1ull << 20;
constexpr uint64_t kGiB = 1ull << 30;

WorkspaceSnapshot workspace(std::string id, uint64_t memory) {
  WorkspaceSnapshot w;
  w.id = std::move(id);
  w.memoryCurrent = memory;
  return w;
}

Snapshot at(Usec now, std::vector<WorkspaceSnapshot> workspaces) {
  Snapshot snapshot;
  snapshot.now = now;
  snapshot.workspaces = std::move(workspaces);
  return snapshot;
}

std::vector<Decision> ofKind(const std::vector<Decision>& decisions, DecisionKind kind) {
  std::vector<Decision> out;
  std::copy_if(decisions.begin(), decisions.end(), std::back_inserter(out),
               [&](const Decision& d) { return d.kind == kind; });
  return out;
}

// Feeds `memory` for one workspace every 2s over [from, to) and collects every decision.
struct Run {
  PolicyEngine engine;
  PolicyState state;
  std::vector<Decision> all;

  explicit Run(Config config = policyTestConfig()) : engine(std::move(config)) {}

  std::vector<Decision> step(Usec now, std::vector<WorkspaceSnapshot> workspaces) {
    auto decisions = engine.evaluate(at(now, std::move(workspaces)), state);
    all.insert(all.end(), decisions.begin(), decisions.end());
    return decisions;
  }
  void hold(Usec from, Usec to, uint64_t memory, const std::string& id = "/w/a") {
    for (Usec t = from; t < to; t += 2s) step(t, {workspace(id, memory)});
  }
  // Like hold, but a restart brings memory down to `reloaded` for `quiet` before it is back:
  // a restart that helps for a while.
  void holdRestarting(Usec from, Usec to, uint64_t memory, uint64_t reloaded, Usec quiet,
                      const std::string& id = "/w/a") {
    std::optional<Usec> restartedAt;
    for (Usec t = from; t < to; t += 2s) {
      const bool low = restartedAt && t - *restartedAt < quiet;
      for (const Decision& d : step(t, {workspace(id, low ? reloaded : memory)})) {
        if (d.kind == DecisionKind::Action && d.action == ActionKind::Restart) restartedAt = t;
      }
    }
  }
  std::vector<Decision> actions() const { return ofKind(all, DecisionKind::Action); }
};

}  // namespace

TEST_CASE("warning for the sustain time asks for a gc, quoting the numbers") {
  Run run;
  run.hold(0s, 8s, 2200 * kMiB);
  CHECK(run.all.empty());
  auto decisions = run.step(10s, {workspace("/w/a", 2200 * kMiB)});
  REQUIRE(decisions.size() == 2);
  CHECK(decisions[0].kind == DecisionKind::Level);
  CHECK(decisions[0].level == Level::Warning);
  CHECK(decisions[0].reason == "ok -> warning: memory 2.15 GiB above warning 2.00 GiB for 10s");
  CHECK(decisions[1].kind == DecisionKind::Action);
  CHECK(decisions[1].action == ActionKind::Gc);
  CHECK(decisions[1].workspace == "/w/a");
  CHECK_FALSE(decisions[1].dryRun);
  CHECK(decisions[1].reason == "memory 2.15 GiB above warning 2.00 GiB for 10s");
}

TEST_CASE("still high after the settle time climbs from gc to trim to restart") {
  Run run;
  run.hold(0s, 200s, 3200 * kMiB);
  auto actions = run.actions();
  REQUIRE(actions.size() >= 3);
  CHECK(actions[0].action == ActionKind::Gc);
  CHECK(actions[0].at == 10s);  // high after 10s: the first rung still comes first
  CHECK(actions[1].action == ActionKind::Trim);
  CHECK(actions[1].at == 40s);  // 30s settle
  CHECK(actions[1].reason.rfind("still high 30s after gc; memory 3.12 GiB above high", 0) == 0);
  CHECK(actions[2].action == ActionKind::Restart);
  CHECK(actions[2].at == 70s);
  CHECK(actions[2].reason.find("restart 1 of 3 in 30m, heap profile first") != std::string::npos);
}

TEST_CASE("at warning the ladder repeats its rung after the cooldown and never climbs") {
  Run run;
  run.hold(0s, 300s, 2200 * kMiB);
  auto actions = run.actions();
  REQUIRE(actions.size() == 5);  // 10s, then every 60s gc cooldown
  for (const Decision& d : actions) CHECK(d.action == ActionKind::Gc);
  CHECK(actions[1].at - actions[0].at == 60s);
}

TEST_CASE("critical goes straight to the highest rung") {
  Run run;
  run.hold(0s, 12s, 4500 * kMiB);
  auto actions = run.actions();
  REQUIRE(actions.size() == 1);
  CHECK(actions[0].action == ActionKind::Restart);
  CHECK(actions[0].level == Level::Critical);
}

TEST_CASE("a gc that frees less than min_freed escalates to trim without waiting to settle") {
  Run run;
  run.hold(0s, 12s, 3200 * kMiB);
  REQUIRE(run.actions().size() == 1);
  auto outcome = run.engine.recordOutcome(run.state, {.workspace = "/w/a",
                                                      .action = ActionKind::Gc,
                                                      .before = 3200 * kMiB,
                                                      .after = 3150 * kMiB,
                                                      .success = true,
                                                      .at = 12s});
  CHECK(outcome.kind == DecisionKind::Outcome);
  CHECK(outcome.reason ==
        "gc freed 50.0 MiB (3.12 GiB -> 3.08 GiB, 1.6%): ineffective, less than 10.0%; "
        "the next rung need not wait to settle");
  auto next = run.step(12s, {workspace("/w/a", 3150 * kMiB)});
  REQUIRE(next.size() == 1);
  CHECK(next[0].action == ActionKind::Trim);
  CHECK(next[0].reason.rfind("gc was ineffective; ", 0) == 0);
}

TEST_CASE("an effective gc lets the settle time run") {
  Run run;
  run.hold(0s, 12s, 3200 * kMiB);
  (void)run.engine.recordOutcome(run.state, {.workspace = "/w/a",
                                             .action = ActionKind::Gc,
                                             .before = 3200 * kMiB,
                                             .after = 2000 * kMiB,
                                             .success = true,
                                             .at = 12s});
  run.hold(12s, 38s, 3200 * kMiB);
  CHECK(run.actions().size() == 1);
}

TEST_CASE("the level clears only through hysteresis and clearing restarts the ladder") {
  Run run;
  run.hold(0s, 50s, 3200 * kMiB);  // gc at 10s, trim at 40s
  REQUIRE(run.actions().size() == 2);
  run.hold(50s, 60s, 1900 * kMiB);  // below warning 2 GiB but above 1.8 GiB
  CHECK(run.state.workspaces.at("/w/a").level == Level::Warning);
  auto cleared = run.step(60s, {workspace("/w/a", 1800 * kMiB)});
  REQUIRE(cleared.size() == 1);
  CHECK(cleared[0].reason ==
        "warning -> ok: memory 1.76 GiB below 1.80 GiB (warning 2.00 GiB less 10.0% hysteresis)");
  run.hold(62s, 200s, 3200 * kMiB);
  auto actions = run.actions();
  REQUIRE(actions.size() >= 3);
  CHECK(actions[2].action == ActionKind::Gc);  // the new episode starts at the first rung
  CHECK(actions[2].at == 72s);  // 62s + 10s sustain; the gc cooldown from 10s has passed
}

TEST_CASE("no second restart of a workspace within its cooldown") {
  Config config = policyTestConfig();
  config.actions.ladder = {{ActionKind::Restart, Level::Warning}};
  Run run(config);
  run.holdRestarting(0s, 20min, 2200 * kMiB, 500 * kMiB, 3min);
  auto actions = run.actions();
  REQUIRE(actions.size() == 3);
  CHECK(actions[1].at - actions[0].at == 5min);
  CHECK(actions[2].at - actions[1].at == 5min);
}

TEST_CASE("after max_restarts in the window the workspace is degraded, said once") {
  Config config = policyTestConfig();
  config.actions.ladder = {{ActionKind::Restart, Level::Warning}};
  Run run(config);
  run.holdRestarting(0s, 30min, 2200 * kMiB, 500 * kMiB, 3min);
  CHECK(run.actions().size() == 3);  // 10s, 5m10s, 10m10s
  auto degraded = ofKind(run.all, DecisionKind::Degraded);
  REQUIRE(degraded.size() == 1);
  CHECK(degraded[0].at == 15min + 10s);
  CHECK(degraded[0].reason ==
        "degraded: 3 restarts in 30m reached the limit; no more restarts until the window passes "
        "(in 15m) or an operator resets the workspace");

  SECTION("the window passing restores it") {
    run.hold(30min, 31min, 2200 * kMiB);
    auto restored = ofKind(run.all, DecisionKind::Restored);
    REQUIRE(restored.size() == 1);
    CHECK(restored[0].at == 30min + 10s);
    CHECK(run.actions().size() == 4);  // and the restart it had been waiting for
  }
  SECTION("an operator reset restores it at once") {
    auto reset = run.engine.resetDegraded(run.state, "/w/a", 30min);
    REQUIRE(reset.has_value());
    CHECK(reset->kind == DecisionKind::Restored);
    CHECK_FALSE(run.engine.resetDegraded(run.state, "/w/a", 30min).has_value());
    run.hold(30min, 30min + 4s, 2200 * kMiB);
    CHECK(run.actions().size() == 4);
  }
}

TEST_CASE("at most one restart is in flight across all workspaces") {
  Run run;
  auto critical = [](std::string id) { return workspace(std::move(id), 4500 * kMiB); };
  for (Usec t = 0s; t <= 10s; t += 2s) run.step(t, {critical("/w/a"), critical("/w/b")});
  auto actions = run.actions();
  REQUIRE(actions.size() == 1);
  CHECK(actions[0].workspace == "/w/a");

  // The daemon reports /w/a restarting: /w/b waits until it is done.
  WorkspaceSnapshot restarting = critical("/w/a");
  restarting.inFlight = ActionKind::Restart;
  run.step(12s, {restarting, critical("/w/b")});
  restarting.inFlight.reset();
  restarting.unit = UnitState::Activating;
  run.step(14s, {restarting, critical("/w/b")});
  CHECK(run.actions().size() == 1);
  run.step(16s, {workspace("/w/a", 500 * kMiB), critical("/w/b")});
  actions = run.actions();
  REQUIRE(actions.size() == 2);
  CHECK(actions[1].workspace == "/w/b");
  CHECK(actions[1].action == ActionKind::Restart);
}

TEST_CASE("a unit that is not active or has an action in flight gets no new action") {
  Run run;
  for (Usec t = 0s; t <= 20s; t += 2s) {
    WorkspaceSnapshot failed = workspace("/w/a", 4500 * kMiB);
    failed.unit = UnitState::Failed;
    WorkspaceSnapshot busy = workspace("/w/b", 4500 * kMiB);
    busy.inFlight = ActionKind::Gc;
    run.step(t, {failed, busy});
  }
  CHECK(run.actions().empty());
  CHECK(ofKind(run.all, DecisionKind::Level).size() == 2);  // levels are still tracked
}

TEST_CASE("NRestarts rising without our restart is reported, and a crash loop stops our restarts") {
  Run run;
  uint64_t restarts = 0;
  for (Usec t = 0s; t < 10min; t += 2s) {
    WorkspaceSnapshot w = workspace("/w/a", 2200 * kMiB);
    if (t.count() % std::chrono::microseconds(1min).count() == 0 && t > 0s) ++restarts;
    w.nRestarts = restarts;
    run.step(t, {w});
  }
  auto crashes = ofKind(run.all, DecisionKind::Crash);
  REQUIRE(crashes.size() == 9);
  CHECK(crashes[0].reason ==
        "unit restarted by systemd, not by the guard (NRestarts 0 -> 1, unit active); 1 in 30m");
  auto loops = ofKind(run.all, DecisionKind::CrashLoop);
  REQUIRE(loops.size() == 1);
  CHECK(loops[0].at == 3min);
  CHECK(run.state.workspaces.at("/w/a").crashLoop);
}

TEST_CASE("a restart by the guard is not counted as a crash") {
  Config config = policyTestConfig();
  config.actions.ladder = {{ActionKind::Restart, Level::Warning}};
  Run run(config);
  run.hold(0s, 12s, 2200 * kMiB);
  REQUIRE(run.actions().size() == 1);
  WorkspaceSnapshot w = workspace("/w/a", 500 * kMiB);
  w.nRestarts = 1;
  run.step(14s, {w});
  CHECK(ofKind(run.all, DecisionKind::Crash).empty());
}

TEST_CASE("inactive file cache is not judged when exclude_inactive_file is set") {
  auto withCache = [](Usec) {
    WorkspaceSnapshot w = workspace("/w/a", 3500 * kMiB);
    w.inactiveFile = 2000 * kMiB;  // go build filled the page cache
    return w;
  };
  Run excluding;
  for (Usec t = 0s; t < 60s; t += 2s) excluding.step(t, {withCache(t)});
  CHECK(excluding.all.empty());

  Config config = policyTestConfig();
  config.defaults.excludeInactiveFile = false;
  Run including(config);
  for (Usec t = 0s; t < 60s; t += 2s) including.step(t, {withCache(t)});
  CHECK_FALSE(including.actions().empty());
}

TEST_CASE("fast growth asks for an early gc before any threshold") {
  Config config = policyTestConfig();
  config.defaults.growthBytesPerMinute = 100 * kMiB;
  config.defaults.growthWindow = 2min;
  Run run(config);
  for (Usec t = 0s; t < 3min; t += 2s) {
    auto grown = static_cast<uint64_t>(500 * kMiB + 200.0 * kMiB * t.count() / 60e6);
    run.step(t, {workspace("/w/a", grown)});
  }
  auto actions = run.actions();
  REQUIRE(actions.size() == 2);
  CHECK(actions[0].at == 60s);  // the readings span half the window
  CHECK(actions[0].level == Level::Ok);
  CHECK(actions[0].reason ==
        "early gc: memory growing 200.0 MiB/min over 2m (limit 100.0 MiB/min), now 700.0 MiB");
  CHECK(actions[1].at == 120s);  // gc cooldown
}

namespace {

Config reliefConfig() {
  Config config = policyTestConfig();
  config.system.memAvailable = Thresholds{.warning = 1.0 * kGiB,
                                          .high = 0.5 * kGiB,
                                          .critical = std::nullopt,
                                          .sustain = 4s,
                                          .hysteresis = 0.1,
                                          .higherIsWorse = false};
  config.defaults.memory = Thresholds{};  // no workspace thresholds: only the system's
  return config;
}

Snapshot squeezed(Usec now, uint64_t available, std::vector<WorkspaceSnapshot> workspaces) {
  Snapshot snapshot = at(now, std::move(workspaces));
  snapshot.system.memTotal = 16 * kGiB;
  snapshot.system.memAvailable = available;
  return snapshot;
}

}  // namespace

TEST_CASE("system relief acts on the largest workspace, one at a time") {
  PolicyEngine engine(reliefConfig());
  PolicyState state;
  std::vector<Decision> actions;
  for (Usec t = 0s; t < 60s; t += 2s) {
    auto decisions = engine.evaluate(
        squeezed(t, 800 * kMiB,
                 {workspace("/w/small", 600 * kMiB), workspace("/w/big", 1500 * kMiB)}),
        state);
    for (auto& d : ofKind(decisions, DecisionKind::Action)) actions.push_back(d);
  }
  REQUIRE(actions.size() == 2);
  CHECK(actions[0].workspace == "/w/big");
  CHECK(actions[0].systemRelief);
  CHECK(actions[0].at == 4s);
  CHECK(actions[0].reason ==
        "system relief: MemAvailable 800.0 MiB below warning 1.00 GiB for 4s; picked the largest "
        "of 2 workspaces (1.46 GiB)");
  CHECK(actions[1].at == 34s);  // the settle time, then the next one: /w/big is on cooldown
  CHECK(actions[1].workspace == "/w/small");
}

TEST_CASE("system relief spares a workspace marked important while another is left") {
  Config config = reliefConfig();
  config.workspaces["/w/big"] = config.defaults;
  config.workspaces["/w/big"].important = true;
  PolicyEngine engine(config);
  PolicyState state;
  std::vector<Decision> actions;
  for (Usec t = 0s; t < 6s; t += 2s) {
    auto decisions = engine.evaluate(
        squeezed(t, 800 * kMiB,
                 {workspace("/w/small", 600 * kMiB), workspace("/w/big", 1500 * kMiB)}),
        state);
    for (auto& d : ofKind(decisions, DecisionKind::Action)) actions.push_back(d);
  }
  REQUIRE(actions.size() == 1);
  CHECK(actions[0].workspace == "/w/small");
}

TEST_CASE("system relief can pick the fastest growing workspace") {
  Config config = reliefConfig();
  config.system.reliefPick = ReliefPick::FastestGrowing;
  PolicyEngine engine(config);
  PolicyState state;
  std::vector<Decision> actions;
  for (Usec t = 0s; t < 3min; t += 2s) {
    uint64_t available = t < 2min ? 4 * kGiB : 800 * kMiB;
    auto growing = static_cast<uint64_t>(300 * kMiB + 50.0 * kMiB * t.count() / 60e6);
    auto decisions = engine.evaluate(
        squeezed(t, available,
                 {workspace("/w/big", 1500 * kMiB), workspace("/w/growing", growing)}),
        state);
    for (auto& d : ofKind(decisions, DecisionKind::Action)) actions.push_back(d);
  }
  REQUIRE_FALSE(actions.empty());
  CHECK(actions[0].workspace == "/w/growing");
}

TEST_CASE("dry run reports every action as would-run with the same timeline") {
  Config config = policyTestConfig();
  Run real(config);
  config.guard.dryRun = true;
  Run dry(config);
  real.hold(0s, 200s, 3200 * kMiB);
  dry.hold(0s, 200s, 3200 * kMiB);
  auto realActions = real.actions();
  auto dryActions = dry.actions();
  CHECK(ofKind(dry.all, DecisionKind::OverBudget).empty());
  REQUIRE(realActions.size() == dryActions.size());
  REQUIRE_FALSE(dryActions.empty());
  for (size_t i = 0; i < dryActions.size(); ++i) {
    CHECK(dryActions[i].dryRun);
    CHECK_FALSE(realActions[i].dryRun);
    CHECK(dryActions[i].action == realActions[i].action);
    CHECK(dryActions[i].at == realActions[i].at);
  }
}

TEST_CASE("decisions do not depend on the order workspaces are listed in") {
  Run forward, backward;
  for (Usec t = 0s; t < 2min; t += 2s) {
    auto a = workspace("/w/a", 4500 * kMiB);
    auto b = workspace("/w/b", 3200 * kMiB);
    auto c = workspace("/w/c", 2200 * kMiB);
    forward.step(t, {a, b, c});
    backward.step(t, {c, b, a});
  }
  REQUIRE(forward.all.size() == backward.all.size());
  for (size_t i = 0; i < forward.all.size(); ++i) {
    CHECK(forward.all[i].workspace == backward.all[i].workspace);
    CHECK(forward.all[i].reason == backward.all[i].reason);
  }
}

TEST_CASE("a level decision names the metric that crossed, its value and the level's threshold") {
  Config config = policyTestConfig();
  config.defaults.rss =
      Thresholds{.warning = 1.0 * kGiB, .high = 1.5 * kGiB, .critical = 2.0 * kGiB, .sustain = 10s};
  Run run(config);
  auto sample = [](uint64_t memory, uint64_t rss) {
    WorkspaceSnapshot w = workspace("/w/a", memory);
    w.rss = rss;
    return w;
  };
  for (Usec t = 0s; t <= 10s; t += 2s) run.step(t, {sample(500 * kMiB, 1200 * kMiB)});
  auto levels = ofKind(run.all, DecisionKind::Level);
  REQUIRE(levels.size() == 1);
  CHECK(levels[0].level == Level::Warning);
  REQUIRE(levels[0].crossed.has_value());
  CHECK(levels[0].crossed->metric == Metric::Rss);
  CHECK(toString(levels[0].crossed->metric) == "rss");
  CHECK(levels[0].crossed->value == 1200 * kMiB);
  CHECK(levels[0].crossed->threshold == 1 * kGiB);

  SECTION("memory is named first when it is at the level too") {
    for (Usec t = 12s; t <= 22s; t += 2s) run.step(t, {sample(3200 * kMiB, 1600 * kMiB)});
    levels = ofKind(run.all, DecisionKind::Level);
    REQUIRE(levels.size() == 2);
    CHECK(levels[1].level == Level::High);
    REQUIRE(levels[1].crossed.has_value());
    CHECK(levels[1].crossed->metric == Metric::Memory);
    CHECK(levels[1].crossed->value == 3200 * kMiB);
    CHECK(levels[1].crossed->threshold == 3 * kGiB);
  }
  SECTION("a return to ok names no metric") {
    auto cleared = run.step(12s, {sample(500 * kMiB, 500 * kMiB)});
    REQUIRE(cleared.size() == 1);
    CHECK(cleared[0].level == Level::Ok);
    CHECK_FALSE(cleared[0].crossed.has_value());
  }
}

namespace {

// Over critical at once (no sustain), from a gopls first seen at `since`.
WorkspaceSnapshot starting(std::string id, Usec since, std::optional<uint64_t> heap = {}) {
  WorkspaceSnapshot w = workspace(std::move(id), 4500 * kMiB);
  w.processSince = since;
  w.heapInUse = heap;
  return w;
}

Config withoutSustain() {
  Config config = policyTestConfig();
  config.defaults.memory.sustain = 0s;
  return config;
}

}  // namespace

TEST_CASE("a gopls in its start-up grace without a heap figure is not acted on until it passes") {
  Run run(withoutSustain());
  auto first = run.step(100s, {starting("/w/a", 97s)});
  REQUIRE(ofKind(first, DecisionKind::Level).size() == 1);  // its level is still tracked
  CHECK(ofKind(first, DecisionKind::Action).empty());
  CHECK(PolicyEngine::inStartupGrace(starting("/w/a", 97s), 100s));

  auto later = run.step(108s, {starting("/w/a", 97s)});  // 11 s after it was first seen
  CHECK_FALSE(PolicyEngine::inStartupGrace(starting("/w/a", 97s), 108s));
  auto actions = ofKind(later, DecisionKind::Action);
  REQUIRE(actions.size() == 1);
  CHECK(actions[0].action == ActionKind::Restart);
}

TEST_CASE("a gopls whose debug server answered is acted on at once, grace or not") {
  Run run(withoutSustain());
  auto decisions = run.step(100s, {starting("/w/a", 97s, 1 * kGiB)});
  CHECK_FALSE(PolicyEngine::inStartupGrace(starting("/w/a", 97s, 1 * kGiB), 100s));
  auto actions = ofKind(decisions, DecisionKind::Action);
  REQUIRE(actions.size() == 1);
  CHECK(actions[0].action == ActionKind::Restart);
}

TEST_CASE("only an active unit can be in its start-up grace") {
  WorkspaceSnapshot w = starting("/w/a", 97s);
  CHECK(PolicyEngine::inStartupGrace(w, 100s));
  w.unit = UnitState::Failed;
  CHECK_FALSE(PolicyEngine::inStartupGrace(w, 100s));
  w.unit = UnitState::Active;
  w.processSince.reset();  // a snapshot that does not say when gopls started: no grace
  CHECK_FALSE(PolicyEngine::inStartupGrace(w, 100s));
}

TEST_CASE("a gopls in its start-up grace holds back restarts elsewhere, like an activating unit") {
  Run run(withoutSustain());
  WorkspaceSnapshot settled = workspace("/w/a", 4500 * kMiB);
  auto decisions = run.step(100s, {settled, starting("/w/b", 97s)});
  CHECK(ofKind(decisions, DecisionKind::Action).empty());
  decisions = run.step(108s, {settled, starting("/w/b", 97s)});
  auto actions = ofKind(decisions, DecisionKind::Action);
  REQUIRE(actions.size() == 1);  // one restart at a time: /w/a first, by id
  CHECK(actions[0].workspace == "/w/a");
}

TEST_CASE("NRestarts rising during the start-up grace still counts as a crash") {
  Run run;
  WorkspaceSnapshot w = workspace("/w/a", 500 * kMiB);
  w.processSince = 90s;
  w.heapInUse = 300 * kMiB;
  run.step(100s, {w});
  // systemd restarted it: a new MainPID, not answering yet.
  w.processSince = 101s;
  w.heapInUse.reset();
  w.nRestarts = 1;
  auto decisions = run.step(102s, {w});
  REQUIRE(PolicyEngine::inStartupGrace(w, 102s));
  auto crashes = ofKind(decisions, DecisionKind::Crash);
  REQUIRE(crashes.size() == 1);
  CHECK(crashes[0].reason ==
        "unit restarted by systemd, not by the guard (NRestarts 0 -> 1, unit active); 1 in 30m");
}
