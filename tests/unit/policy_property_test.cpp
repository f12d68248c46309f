// Property tests: randomized traces with a fixed seed, checked against the invariants.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "lib/policy_engine.h"
#include "lib/threshold_tracker.h"
#include "tests/support/policy_test_config.h"

using namespace std::chrono_literals;
using namespace wslgo;

namespace {

constexpr uint64_t kMiB = 1ull << 20;
constexpr uint64_t kGiB = 1ull << 30;
constexpr int kSteps = 5000;

// The shared test configuration with early GCs on: the random walk also exercises growth.
Config propertyConfig() {
  Config config = test::policyTestConfig();
  config.defaults.growthBytesPerMinute = 400 * kMiB;
  return config;
}

const std::vector<std::string> kIds = {"/w/a", "/w/b", "/w/c", "/w/d"};

// A random walk per workspace with jumps, restarts by systemd, busy and stopped units.
std::vector<Snapshot> randomTrace(uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> unit(0, 1);
  std::vector<double> memory(kIds.size(), 1.5 * kGiB);
  std::vector<uint64_t> restarts(kIds.size(), 0);
  // When each workspace's current gopls was first seen: a new one now and then (a restart by
  // the guard or by systemd, as the daemon would see it), with its heap figures at once.
  std::vector<Usec> since(kIds.size(), Usec{0});
  double available = 4.0 * kGiB;
  Usec now{0};
  std::vector<Snapshot> trace;
  for (int step = 0; step < kSteps; ++step) {
    double gap = unit(rng);
    now += gap < 0.05 ? Usec(250ms) : gap < 0.97 ? Usec(2s) : Usec(45s);
    Snapshot snapshot;
    snapshot.now = now;
    available = std::clamp(available + (unit(rng) - 0.5) * 300 * kMiB, 0.2 * kGiB, 6.0 * kGiB);
    snapshot.system.memTotal = 16 * kGiB;
    snapshot.system.memAvailable = static_cast<uint64_t>(available);
    // Shuffled order: decisions must not depend on it.
    std::vector<size_t> order(kIds.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::shuffle(order.begin(), order.end(), rng);
    for (size_t i : order) {
      double r = unit(rng);
      if (r < 0.01) {
        memory[i] = 0.5 * kGiB + unit(rng) * 4.5 * kGiB;  // a jump
      } else {
        memory[i] = std::clamp(memory[i] + (unit(rng) - 0.47) * 60 * kMiB, 0.2 * kGiB, 6.0 * kGiB);
      }
      WorkspaceSnapshot w;
      w.id = kIds[i];
      w.memoryCurrent = static_cast<uint64_t>(memory[i]);
      if (unit(rng) < 0.002) ++restarts[i];
      w.nRestarts = restarts[i];
      if (unit(rng) < 0.01) since[i] = now;
      w.processSince = since[i];
      w.heapInUse = static_cast<uint64_t>(memory[i] / 2);
      double state = unit(rng);
      if (state < 0.01)
        w.unit = UnitState::Activating;
      else if (state < 0.015)
        w.unit = UnitState::Failed;
      if (unit(rng) < 0.02)
        w.inFlight = ActionKind::Restart;
      else if (unit(rng) < 0.02)
        w.inFlight = ActionKind::Gc;
      snapshot.workspaces.push_back(std::move(w));
    }
    trace.push_back(std::move(snapshot));
  }
  return trace;
}

struct Replay {
  std::vector<std::vector<Decision>> perStep;
};

// Replays `trace`; with `outcomes`, every executed action reports a random effect back.
Replay replay(const Config& config, const std::vector<Snapshot>& trace, bool outcomes,
              uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> share(0, 0.4);
  PolicyEngine engine(config);
  PolicyState state;
  Replay result;
  for (const Snapshot& snapshot : trace) {
    auto decisions = engine.evaluate(snapshot, state);
    if (outcomes) {
      for (const Decision& d : decisions) {
        if (d.kind != DecisionKind::Action || d.dryRun) continue;
        uint64_t before = 3 * kGiB;
        auto after = static_cast<uint64_t>(static_cast<double>(before) * (1 - share(rng)));
        (void)engine.recordOutcome(state, {.workspace = d.workspace,
                                           .action = *d.action,
                                           .before = before,
                                           .after = after,
                                           .success = true,
                                           .at = snapshot.now});
      }
    }
    result.perStep.push_back(std::move(decisions));
  }
  return result;
}

size_t rungOf(ActionKind action) {
  return static_cast<size_t>(action);
}  // ladder gc, trim, restart

}  // namespace

TEST_CASE("randomized traces keep every invariant of the engine") {
  const Config config = propertyConfig();
  const RestartSettings& restart = config.actions.restart;
  const Thresholds& memory = config.defaults.memory;
  auto seed = GENERATE(1u, 2u, 3u, 4u);
  INFO("seed " << seed);
  auto trace = randomTrace(seed);
  auto run = replay(config, trace, true, seed);

  std::map<std::string, std::vector<Usec>> restartsOf;
  std::map<std::string, std::optional<size_t>> rungInEpisode;
  std::map<std::string, Level> levelOf;
  std::map<std::string, bool> overBudget;
  size_t overBudgetReports = 0;
  std::map<std::string, std::vector<std::pair<Usec, double>>> history;
  size_t actions = 0, restarts = 0, levelChanges = 0;

  for (size_t step = 0; step < trace.size(); ++step) {
    const Snapshot& snapshot = trace[step];
    const auto& decisions = run.perStep[step];
    bool restartBusy = false;
    for (const auto& w : snapshot.workspaces) {
      restartBusy |= w.inFlight == ActionKind::Restart || w.unit == UnitState::Activating;
      history[w.id].emplace_back(snapshot.now, static_cast<double>(*w.memoryCurrent));
    }
    size_t restartsNow = 0;
    for (const Decision& d : decisions) {
      INFO("t=" << d.at.count() << "us " << d.workspace << ": " << d.reason);
      auto seen = std::find_if(snapshot.workspaces.begin(), snapshot.workspaces.end(),
                               [&](const auto& w) { return w.id == d.workspace; });
      if (d.kind == DecisionKind::Level && !d.workspace.empty()) {
        ++levelChanges;
        Level from = levelOf[d.workspace];
        levelOf[d.workspace] = d.level;
        double value = static_cast<double>(*seen->memoryCurrent);
        if (d.level < from) {
          // Down only through hysteresis: below the clear line of the level left.
          CHECK(value < clearLine(memory, *memory.at(from)));
        } else {
          // Up only after the sustain time beyond the new level's line.
          double line = *memory.at(d.level);
          for (const auto& [at, past] : history[d.workspace]) {
            if (at >= snapshot.now - memory.sustain) CHECK(past >= line);
          }
        }
        if (d.level == Level::Ok) rungInEpisode[d.workspace].reset();
      }
      if (d.kind == DecisionKind::OverBudget) {
        ++overBudgetReports;
        CHECK_FALSE(overBudget[d.workspace]);  // said once, not again while it holds
        overBudget[d.workspace] = true;
      }
      if (d.kind == DecisionKind::Restored) overBudget[d.workspace] = false;
      if (d.kind != DecisionKind::Action) continue;
      ++actions;
      if (overBudget[d.workspace]) CHECK(d.action == ActionKind::Gc);  // only GC is left
      CHECK_FALSE(d.dryRun);
      REQUIRE(seen != snapshot.workspaces.end());
      CHECK(seen->unit == UnitState::Active);   // nothing on a stopped or starting unit
      CHECK_FALSE(seen->inFlight.has_value());  // nor on one still busy
      if (!d.systemRelief && d.level > Level::Ok) {
        // Escalation only upward until the level clears.
        // Over budget, GC is all that is left and may repeat whatever rung was reached.
        auto& rung = rungInEpisode[d.workspace];
        if (rung && !overBudget[d.workspace]) CHECK(rungOf(*d.action) >= *rung);
        rung = rungOf(*d.action);
      }
      if (d.action != ActionKind::Restart) continue;
      ++restarts;
      ++restartsNow;
      CHECK_FALSE(restartBusy);  // one restart in flight at a time
      auto& times = restartsOf[d.workspace];
      if (!times.empty()) CHECK(d.at - times.back() >= restart.cooldown);
      times.push_back(d.at);
      size_t inWindow = std::count_if(times.begin(), times.end(),
                                      [&](Usec t) { return d.at - t < restart.window; });
      CHECK(inWindow <= restart.maxRestarts);
    }
    CHECK(restartsNow <= 1);
    for (auto& [id, past] : history) {
      std::erase_if(past, [&](const auto& entry) { return snapshot.now - entry.first > 1min; });
    }
  }
  // The trace must exercise the rules it checks, or the test proves nothing.
  CHECK(actions > 50);
  CHECK(restarts > 3);
  CHECK(overBudgetReports > 0);
  CHECK(levelChanges > 50);
}

TEST_CASE("randomized traces: a dry run reports the same actions and executes none") {
  Config config = propertyConfig();
  auto trace = randomTrace(7);
  // Without new processes in the trace: after a real restart the engine watches what the new
  // gopls reloads to, after a dry one there is nothing to watch, so the two part ways there.
  for (Snapshot& snapshot : trace) {
    for (WorkspaceSnapshot& workspace : snapshot.workspaces) workspace.processSince.reset();
  }
  auto real = replay(config, trace, false, 7);
  config.guard.dryRun = true;
  auto dry = replay(config, trace, true, 7);  // outcomes are offered but none may be due
  size_t actions = 0;
  for (size_t step = 0; step < trace.size(); ++step) {
    const auto& a = real.perStep[step];
    const auto& b = dry.perStep[step];
    REQUIRE(a.size() == b.size());
    for (size_t i = 0; i < a.size(); ++i) {
      CHECK(a[i].kind == b[i].kind);
      CHECK(a[i].workspace == b[i].workspace);
      CHECK(a[i].action == b[i].action);
      if (b[i].kind == DecisionKind::Action) {
        ++actions;
        CHECK(b[i].dryRun);
        CHECK_FALSE(a[i].dryRun);
      }
    }
  }
  CHECK(actions > 50);
}

TEST_CASE("randomized traces replay to the same decisions every time") {
  auto trace = randomTrace(11);
  auto first = replay(propertyConfig(), trace, true, 11);
  auto second = replay(propertyConfig(), trace, true, 11);
  for (size_t step = 0; step < trace.size(); ++step) {
    REQUIRE(first.perStep[step].size() == second.perStep[step].size());
    for (size_t i = 0; i < first.perStep[step].size(); ++i) {
      CHECK(first.perStep[step][i].reason == second.perStep[step][i].reason);
    }
  }
}
