#include "lib/policy_engine.h"

#include <algorithm>
#include <utility>

#include "lib/config_values.h"
#include "lib/policy_format.h"

namespace wslgo {
namespace {

// One metric as the reasons name it, tied to its thresholds and tracker.
struct TrackedMetric {
  std::string_view name;
  const Thresholds* thresholds;
  const ThresholdTracker* tracker;
  bool percent;  // PSI: the value is a percentage, not bytes
};

std::string formatValue(const TrackedMetric& metric, double value) {
  return metric.percent ? describePercent(value) : describeBytes(value);
}

// "memory 3.20 GiB above high 3.00 GiB for 12s"
std::string describeBeyond(const TrackedMetric& metric, Level level, Usec now) {
  std::string text(metric.name);
  double value = metric.tracker->lastValue().value_or(0);
  double threshold = metric.thresholds->at(level).value_or(0);
  text += ' ';
  text += formatValue(metric, value);
  if (!isBeyond(*metric.thresholds, value, threshold)) {
    // Back inside the line but not past the clear line: hysteresis holds the level.
    text += ", held at ";
    text += toString(level);
    text += ' ';
    text += formatValue(metric, threshold);
    text += metric.thresholds->higherIsWorse ? " until below " : " until above ";
    text += formatValue(metric, clearLine(*metric.thresholds, threshold));
    return text;
  }
  text += metric.thresholds->higherIsWorse ? " above " : " below ";
  text += toString(level);
  text += ' ';
  text += formatValue(metric, threshold);
  if (auto since = metric.tracker->beyondSince(level); since && now > *since) {
    text += " for ";
    text += formatDuration(now - *since);
  }
  return text;
}

// "memory 2.60 GiB below 2.70 GiB (high 3.00 GiB less 10% hysteresis)"
std::string describeCleared(const TrackedMetric& metric, Level level) {
  std::string text(metric.name);
  const Thresholds& thresholds = *metric.thresholds;
  double value = metric.tracker->lastValue().value_or(0);
  double threshold = thresholds.at(level).value_or(0);
  text += ' ';
  text += formatValue(metric, value);
  text += thresholds.higherIsWorse ? " below " : " above ";
  text += formatValue(metric, clearLine(thresholds, threshold));
  text += " (";
  text += toString(level);
  text += ' ';
  text += formatValue(metric, threshold);
  text += thresholds.higherIsWorse ? " less " : " plus ";
  text += describePercent(thresholds.hysteresis * 100);
  text += " hysteresis)";
  return text;
}

// The first metric at `level`, or the first one at all: the one a reason quotes.
template <size_t N>
const TrackedMetric& drivingMetric(const std::array<TrackedMetric, N>& metrics, Level level) {
  for (const TrackedMetric& metric : metrics) {
    if (metric.tracker->level() == level) return metric;
  }
  return metrics[0];
}

// A workspace's metrics in the order workspaceMetrics lists them, which is also the order in
// which they are asked which one crossed.
constexpr std::array kWorkspaceMetrics{Metric::Memory, Metric::Rss, Metric::Heap};

std::array<TrackedMetric, 3> workspaceMetrics(const WorkspaceSettings& settings,
                                              const WorkspaceState& ws) {
  return {{{"memory", &settings.memory, &ws.memory, false},
           {"RSS", &settings.rss, &ws.rss, false},
           {"Go heap", &settings.heap, &ws.heap, false}}};
}

// The first workspace metric, in the order memory, rss, heap, whose tracker sits at `level`:
// the one that put the workspace there.
std::optional<Crossing> crossingAt(const std::array<TrackedMetric, 3>& metrics, Level level) {
  for (size_t i = 0; i < metrics.size(); ++i) {
    const TrackedMetric& metric = metrics[i];
    if (metric.tracker->level() != level) continue;
    return Crossing{.metric = kWorkspaceMetrics[i],
                    .value = wholeBytes(metric.tracker->lastValue()),
                    .threshold = wholeBytes(metric.thresholds->at(level))};
  }
  return std::nullopt;
}

std::array<TrackedMetric, 3> systemMetrics(const SystemSettings& settings,
                                           const SystemState& system) {
  return {{{"MemAvailable", &settings.memAvailable, &system.memAvailable, false},
           {"memory PSI some avg10", &settings.pressureSomeAvg10, &system.pressureSome, true},
           {"memory PSI full avg10", &settings.pressureFullAvg10, &system.pressureFull, true}}};
}

template <size_t N>
Level worstLevel(const std::array<TrackedMetric, N>& metrics) {
  Level worst = Level::Ok;
  for (const TrackedMetric& metric : metrics) worst = std::max(worst, metric.tracker->level());
  return worst;
}

// A level change as a decision; `before` holds each metric's level ahead of this update.
template <size_t N>
Decision levelDecision(const std::array<TrackedMetric, N>& metrics,
                       const std::array<Level, N>& before, Level from, Level to,
                       std::string workspace, Usec now) {
  Decision decision{
      .at = now,
      .kind = DecisionKind::Level,
      .workspace = std::move(workspace),
      .level = to,
      .reason = std::string(toString(from)) + " -> " + std::string(toString(to)) + ": "};
  if (to > from) {
    decision.reason += describeBeyond(drivingMetric(metrics, to), to, now);
    return decision;
  }
  // Quote the lowest line crossed: the one just above where the level landed.
  for (size_t i = 0; i < N; ++i) {
    if (before[i] != from) continue;
    Level crossed = from;
    for (int l = static_cast<int>(to) + 1; l < static_cast<int>(from); ++l) {
      if (metrics[i].thresholds->at(static_cast<Level>(l))) {
        crossed = static_cast<Level>(l);
        break;
      }
    }
    decision.reason += describeCleared(metrics[i], crossed);
    return decision;
  }
  decision.reason += "no metric at " + std::string(toString(from)) + " any more";
  return decision;
}

// A gopls in its start-up grace counts as still activating: a restart of it has not settled.
bool restartInProgress(const WorkspaceSnapshot& workspace, Usec now) {
  return workspace.inFlight == ActionKind::Restart || workspace.unit == UnitState::Activating ||
         workspace.unit == UnitState::Deactivating || PolicyEngine::inStartupGrace(workspace, now);
}

// Whether the figures come from a running gopls that may be acted on: an active unit past its
// start-up grace.
bool runningGopls(const WorkspaceSnapshot& workspace, Usec now) {
  return workspace.unit == UnitState::Active && !PolicyEngine::inStartupGrace(workspace, now);
}

size_t index(ActionKind action) { return static_cast<size_t>(action); }

// A workspace metric's figure in a snapshot, as its tracker is fed.
std::optional<uint64_t> metricValue(const WorkspaceSnapshot& snapshot,
                                    const WorkspaceSettings& settings, Metric metric) {
  switch (metric) {
    case Metric::Memory:
      return PolicyEngine::judgedMemory(snapshot, settings);
    case Metric::Rss:
      return snapshot.rss;
    case Metric::Heap:
      return snapshot.heapInUse;
  }
  return std::nullopt;
}

const Thresholds& thresholdsOf(const WorkspaceSettings& settings, Metric metric) {
  switch (metric) {
    case Metric::Memory:
      return settings.memory;
    case Metric::Rss:
      return settings.rss;
    case Metric::Heap:
      return settings.heap;
  }
  return settings.memory;
}

// What helps a workspace a restart cannot: said with every over-budget report.
constexpr const char* kOverBudgetAdvice =
    "what helps: a higher limit for it (workspaces.<path>.memory), directoryFilters in gopls' "
    "settings to load less, a smaller workspace, or a current gopls (v0.12 and later use far "
    "less memory)";

}  // namespace

PolicyEngine::PolicyEngine(Config config) : config_(std::move(config)) {}

bool PolicyEngine::inStartupGrace(const WorkspaceSnapshot& workspace, Usec now) {
  return workspace.unit == UnitState::Active && !workspace.heapInUse && workspace.processSince &&
         now - *workspace.processSince < kStartupGrace;
}

std::optional<uint64_t> PolicyEngine::judgedMemory(const WorkspaceSnapshot& workspace,
                                                   const WorkspaceSettings& settings) {
  if (!workspace.memoryCurrent) return std::nullopt;
  uint64_t current = *workspace.memoryCurrent;
  if (settings.excludeInactiveFile && workspace.inactiveFile) {
    current -= std::min(current, *workspace.inactiveFile);
  }
  return current;
}

std::vector<Decision> PolicyEngine::evaluate(const Snapshot& snapshot, PolicyState& state) const {
  std::vector<Decision> out;
  evaluate(snapshot, state, out);
  return out;
}

void PolicyEngine::evaluate(const Snapshot& snapshot, PolicyState& state,
                            std::vector<Decision>& out) const {
  const Usec now = snapshot.now;

  // A stable order, whatever order the caller listed the workspaces in.
  state.order.clear();
  for (const WorkspaceSnapshot& workspace : snapshot.workspaces) {
    auto it = state.workspaces.find(workspace.id);
    if (it == state.workspaces.end())
      it = state.workspaces.emplace(workspace.id, WorkspaceState{}).first;
    state.order.emplace_back(&workspace, &it->second);
  }
  std::sort(state.order.begin(), state.order.end(),
            [](const auto& a, const auto& b) { return a.first->id < b.first->id; });

  for (auto& [workspace, ws] : state.order) observeWorkspace(*workspace, *ws, now, out);
  observeSystem(snapshot.system, state.system, now, out);

  bool restartBusy = false;
  for (const auto& [workspace, ws] : state.order) restartBusy |= restartInProgress(*workspace, now);

  bool acted = false;
  for (auto& [workspace, ws] : state.order) {
    if (stepLadder(*workspace, *ws, now, restartBusy, out)) acted = true;
  }
  // A workspace's own ladder already relieves the system; relief acts one at a time.
  if (!acted) stepRelief(state, now, restartBusy, out);

  // Forget workspaces gone longer than the restart window: nothing they did still counts.
  std::erase_if(state.workspaces, [&](const auto& entry) {
    return now - entry.second.lastSeen > config_.actions.restart.window;
  });
}

void PolicyEngine::observeWorkspace(const WorkspaceSnapshot& snapshot, WorkspaceState& ws, Usec now,
                                    std::vector<Decision>& out) const {
  const WorkspaceSettings& settings = config_.forWorkspace(snapshot.id);
  const RestartSettings& restart = config_.actions.restart;
  ws.lastSeen = now;

  auto metrics = workspaceMetrics(settings, ws);
  std::array<Level, 3> before{ws.memory.level(), ws.rss.level(), ws.heap.level()};
  ws.judgedMemory = judgedMemory(snapshot, settings);
  if (ws.judgedMemory && settings.memory.enabled()) {
    ws.memory.update(settings.memory, static_cast<double>(*ws.judgedMemory), now);
  }
  if (snapshot.rss && settings.rss.enabled()) {
    ws.rss.update(settings.rss, static_cast<double>(*snapshot.rss), now);
  }
  if (snapshot.heapInUse && settings.heap.enabled()) {
    ws.heap.update(settings.heap, static_cast<double>(*snapshot.heapInUse), now);
  }
  auto grown = ws.judgedMemory ? ws.judgedMemory : snapshot.rss;
  if (!runningGopls(snapshot, now)) {
    ws.growth.clear();  // starting or stopping: the figures say nothing about a leak
  } else if (grown) {
    ws.growth.add(now, static_cast<double>(*grown), settings.growthWindow);
  }

  Level level = worstLevel(metrics);
  if (level != ws.level) {
    Decision decision = levelDecision(metrics, before, ws.level, level, snapshot.id, now);
    if (level > Level::Ok) decision.crossed = crossingAt(metrics, level);
    out.push_back(std::move(decision));
    ws.level = level;
    if (level == Level::Ok) {
      ws.nextRung = 0;
      ws.lastActionAt.reset();
      ws.lastAction.reset();
      ws.escalateSooner = false;
    }
  }

  watchReload(snapshot, ws, now, out);

  // NRestarts rises when systemd restarts the unit on its own (Restart=on-failure); a
  // restart we asked for shortly before is not a crash.
  if (ws.nRestarts && snapshot.nRestarts != *ws.nRestarts) ws.growth.clear();
  if (ws.nRestarts && snapshot.nRestarts > *ws.nRestarts) {
    const auto& ours = ws.lastRun[index(ActionKind::Restart)];
    bool byUs = ours && now - *ours <= config_.actions.settle;
    if (!byUs) {
      uint64_t crashes = snapshot.nRestarts - *ws.nRestarts;
      for (uint64_t i = 0; i < std::min<uint64_t>(crashes, restart.maxRestarts + 1); ++i) {
        ws.crashes.record(now, restart.window);
      }
      size_t recent = ws.crashes.count(now, restart.window);
      out.push_back({.at = now,
                     .kind = DecisionKind::Crash,
                     .workspace = snapshot.id,
                     .level = ws.level,
                     .reason = "unit restarted by systemd, not by the guard (NRestarts " +
                               std::to_string(*ws.nRestarts) + " -> " +
                               std::to_string(snapshot.nRestarts) + ", unit " +
                               std::string(toString(snapshot.unit)) + "); " +
                               std::to_string(recent) + " in " + formatDuration(restart.window)});
      if (!ws.crashLoop && recent >= std::max(1u, restart.maxRestarts)) {
        ws.crashLoop = true;
        out.push_back({.at = now,
                       .kind = DecisionKind::CrashLoop,
                       .workspace = snapshot.id,
                       .level = ws.level,
                       .reason = "crash loop: " + std::to_string(recent) +
                                 " restarts by systemd in " + formatDuration(restart.window) +
                                 "; the guard will not restart it until none happened for " +
                                 formatDuration(restart.window)});
      }
    }
  }
  ws.nRestarts = snapshot.nRestarts;
  if (ws.crashLoop && ws.crashes.count(now, restart.window) == 0) {
    ws.crashLoop = false;
    out.push_back(
        {.at = now,
         .kind = DecisionKind::Restored,
         .workspace = snapshot.id,
         .level = ws.level,
         .reason = "crash loop over: no restart by systemd for " + formatDuration(restart.window)});
  }
  if (ws.degraded && ws.restarts.allows(now, restart.window, restart.maxRestarts)) {
    ws.degraded = false;
    out.push_back({.at = now,
                   .kind = DecisionKind::Restored,
                   .workspace = snapshot.id,
                   .level = ws.level,
                   .reason = "restart limit window passed: restarts allowed again"});
  }
}

void PolicyEngine::observeSystem(const SystemSnapshot& snapshot, SystemState& system, Usec now,
                                 std::vector<Decision>& out) const {
  const SystemSettings& settings = config_.system;
  auto metrics = systemMetrics(settings, system);
  std::array<Level, 3> before{system.memAvailable.level(), system.pressureSome.level(),
                              system.pressureFull.level()};
  if (snapshot.memAvailable && settings.memAvailable.enabled()) {
    system.memAvailable.update(settings.memAvailable, static_cast<double>(*snapshot.memAvailable),
                               now);
  }
  if (snapshot.pressureSomeAvg10 && settings.pressureSomeAvg10.enabled()) {
    system.pressureSome.update(settings.pressureSomeAvg10, *snapshot.pressureSomeAvg10, now);
  }
  if (snapshot.pressureFullAvg10 && settings.pressureFullAvg10.enabled()) {
    system.pressureFull.update(settings.pressureFullAvg10, *snapshot.pressureFullAvg10, now);
  }
  Level level = worstLevel(metrics);
  if (level == system.level) return;
  out.push_back(levelDecision(metrics, before, system.level, level, {}, now));
  system.level = level;
  if (level == Level::Ok) {
    system.nextRung = 0;
    system.lastReliefAt.reset();
  }
}

std::optional<size_t> PolicyEngine::chooseRung(Level level, size_t nextRung, const RungSet& allowed,
                                               bool repeatAllowed) const {
  const auto& ladder = config_.actions.ladder;
  auto eligible = [&](size_t i) {
    return ladder[i].level <= level && allowed.has(ladder[i].action);
  };
  if (level == Level::Critical) {
    // Critical does not climb rung by rung: it goes straight to the highest rung allowed.
    for (size_t i = ladder.size(); i > nextRung; --i) {
      if (eligible(i - 1)) return i - 1;
    }
  } else {
    for (size_t i = nextRung; i < ladder.size(); ++i) {
      if (eligible(i)) return i;
    }
  }
  // Nothing higher: repeat the rung last taken, never one below it, and not when it just
  // proved ineffective.
  if (repeatAllowed && nextRung > 0 && nextRung <= ladder.size() && eligible(nextRung - 1))
    return nextRung - 1;
  return std::nullopt;
}

bool PolicyEngine::cooledDown(const WorkspaceState& ws, ActionKind action, Usec now) const {
  const auto& last = ws.lastRun[index(action)];
  if (!last) return true;
  Usec cooldown{0};
  switch (action) {
    case ActionKind::Gc:
      cooldown = config_.actions.gc.cooldown;
      break;
    case ActionKind::Trim:
      cooldown = config_.actions.trim.cooldown;
      break;
    case ActionKind::Restart:
      cooldown = config_.actions.restart.cooldown;
      break;
  }
  return now - *last >= cooldown;
}

Decision PolicyEngine::actionDecision(const std::string& workspace, ActionKind action, Level level,
                                      Usec now) const {
  return {.at = now,
          .kind = DecisionKind::Action,
          .workspace = workspace,
          .level = level,
          .action = action,
          .dryRun = config_.guard.dryRun};
}

bool PolicyEngine::stepLadder(const WorkspaceSnapshot& snapshot, WorkspaceState& ws, Usec now,
                              bool& restartBusy, std::vector<Decision>& out) const {
  if (!runningGopls(snapshot, now) || snapshot.inFlight) return false;
  if (ws.level == Level::Ok) return stepGrowth(snapshot, ws, now, out);

  const ActionSettings& actions = config_.actions;
  const RestartSettings& restart = actions.restart;
  // What may run: what can work here, less restarts for a workspace the guard has stopped
  // restarting, and only GC for one a restart cannot help.
  RungSet allowed = snapshot.rungs;
  if (ws.degraded || ws.crashLoop) allowed.restart = false;
  if (ws.overBudget) allowed.trim = allowed.restart = false;
  auto rung = chooseRung(ws.level, ws.nextRung, allowed, !ws.escalateSooner);
  if (!rung && ws.overBudget && !ws.escalateSooner) {
    // Over budget, GC is all that is left: it repeats on its cooldown, whatever rung the episode
    // had reached, rather than nothing running until the level clears.
    const auto& ladder = actions.ladder;
    for (size_t i = 0; i < ladder.size() && !rung; ++i) {
      if (ladder[i].action == ActionKind::Gc && ladder[i].level <= ws.level && allowed.gc) rung = i;
    }
  }
  if (!rung) return false;
  ActionKind action = actions.ladder[*rung].action;

  bool worse = ws.level > ws.levelAtLastAction;
  if (ws.lastActionAt && now - *ws.lastActionAt < actions.settle && !worse && !ws.escalateSooner) {
    return false;
  }
  if (!cooledDown(ws, action, now)) return false;
  if (action == ActionKind::Restart) {
    if (restartBusy) return false;
    if (!ws.restarts.allows(now, restart.window, restart.maxRestarts)) {
      ws.degraded = true;
      std::string until;
      if (auto at = ws.restarts.oldestExpiresAt(now, restart.window)) {
        until = " (in " + formatDuration(*at - now) + ")";
      }
      out.push_back(
          {.at = now,
           .kind = DecisionKind::Degraded,
           .workspace = snapshot.id,
           .level = ws.level,
           .reason = "degraded: " + std::to_string(ws.restarts.count(now, restart.window)) +
                     " restarts in " + formatDuration(restart.window) +
                     " reached the limit; no more restarts until the window passes" + until +
                     " or an operator resets the workspace"});
      return true;
    }
  }

  auto metrics = workspaceMetrics(config_.forWorkspace(snapshot.id), ws);
  Decision decision = actionDecision(snapshot.id, action, ws.level, now);
  if (ws.lastAction && ws.escalateSooner) {
    decision.reason = std::string(toString(*ws.lastAction)) + " was ineffective; ";
  } else if (ws.lastAction && ws.lastActionAt) {
    decision.reason = (worse ? "now " : "still ") + std::string(toString(ws.level)) + " " +
                      formatDuration(now - *ws.lastActionAt) + " after " +
                      std::string(toString(*ws.lastAction)) + "; ";
  }
  decision.reason += describeBeyond(drivingMetric(metrics, ws.level), ws.level, now);
  for (size_t i = ws.nextRung; i < *rung; ++i) {
    const LadderRung& skipped = actions.ladder[i];
    if (skipped.level <= ws.level && !snapshot.rungs.has(skipped.action)) {
      decision.reason += "; " + std::string(toString(skipped.action)) +
                         " skipped: it cannot work for this workspace here";
    }
  }
  if (action != ActionKind::Restart && !allowed.restart && snapshot.rungs.restart &&
      chooseRung(ws.level, ws.nextRung, snapshot.rungs, true) != rung) {
    decision.reason += ws.overBudget  ? "; not a restart: the workspace is over budget"
                       : ws.crashLoop ? "; not a restart: the unit is crash looping"
                                      : "; not a restart: the workspace is degraded";
  }
  if (action == ActionKind::Restart) {
    decision.reason += "; restart " + std::to_string(ws.restarts.count(now, restart.window) + 1) +
                       " of " + std::to_string(restart.maxRestarts) + " in " +
                       formatDuration(restart.window);
    if (restart.saveProfile) decision.reason += ", heap profile first";
    ws.restarts.record(now, restart.window);
    ws.growth.clear();  // a new process: its start-up is not growth
    restartBusy = true;
    if (!config_.guard.dryRun) {  // a restart only reported restarts nothing to watch
      ws.restartedAt = now;
      ws.restartedFor = crossingAt(metrics, ws.level);
      ws.restartLevel = ws.level;
      ws.reloadPeak = 0;
    }
  }
  out.push_back(std::move(decision));

  ws.lastRun[index(action)] = now;
  ws.lastActionAt = now;
  ws.levelAtLastAction = ws.level;
  ws.lastAction = action;
  ws.escalateSooner = false;
  ws.nextRung = std::max(ws.nextRung, *rung + 1);
  return true;
}

bool PolicyEngine::stepGrowth(const WorkspaceSnapshot& snapshot, WorkspaceState& ws, Usec now,
                              std::vector<Decision>& out) const {
  const WorkspaceSettings& settings = config_.forWorkspace(snapshot.id);
  if (!settings.growthBytesPerMinute || !cooledDown(ws, ActionKind::Gc, now)) return false;
  auto slope = ws.growth.bytesPerMinute(settings.growthWindow);
  auto limit = static_cast<double>(*settings.growthBytesPerMinute);
  if (!slope || *slope < limit) return false;

  Decision decision = actionDecision(snapshot.id, ActionKind::Gc, ws.level, now);
  decision.reason =
      "early gc: memory growing " + describeBytes(*slope) + "/min over " +
      formatDuration(settings.growthWindow) + " (limit " + describeBytes(limit) + "/min), now " +
      describeBytes(static_cast<double>(ws.judgedMemory.value_or(snapshot.rss.value_or(0))));
  out.push_back(std::move(decision));
  ws.lastRun[index(ActionKind::Gc)] = now;
  return true;
}

void PolicyEngine::stepRelief(PolicyState& state, Usec now, bool restartBusy,
                              std::vector<Decision>& out) const {
  SystemState& system = state.system;
  if (system.level == Level::Ok) return;
  const ActionSettings& actions = config_.actions;
  bool worse = system.level > system.levelAtLastRelief;
  if (system.lastReliefAt && now - *system.lastReliefAt < actions.settle && !worse) return;
  auto rung = chooseRung(system.level, system.nextRung, RungSet{}, true);
  if (!rung) return;
  ActionKind action = actions.ladder[*rung].action;

  // oomd's pick: among workspaces the action may run on now, the largest (or fastest
  // growing); a workspace marked important only when no other is left.
  const WorkspaceSnapshot* pick = nullptr;
  WorkspaceState* pickState = nullptr;
  double pickScore = 0;
  bool pickImportant = true;
  size_t candidates = 0;
  const bool byGrowth = config_.system.reliefPick == ReliefPick::FastestGrowing;
  for (auto& [workspace, ws] : state.order) {
    const WorkspaceSettings& settings = config_.forWorkspace(workspace->id);
    if (!runningGopls(*workspace, now) || workspace->inFlight) continue;
    if (!workspace->rungs.has(action)) continue;
    if (ws->overBudget && action != ActionKind::Gc) continue;
    if (!ws->judgedMemory && !workspace->rss) continue;
    if (!cooledDown(*ws, action, now)) continue;
    if (ws->lastActionAt && now - *ws->lastActionAt < actions.settle) continue;
    if (action == ActionKind::Restart &&
        (restartBusy || ws->degraded || ws->crashLoop ||
         !ws->restarts.allows(now, actions.restart.window, actions.restart.maxRestarts))) {
      continue;
    }
    ++candidates;
    double size = static_cast<double>(ws->judgedMemory.value_or(workspace->rss.value_or(0)));
    double score = size;
    if (byGrowth) {
      // Growth outranks size; a workspace without a slope yet ranks by size below all others.
      auto slope = ws->growth.bytesPerMinute(settings.growthWindow);
      score = slope ? *slope + 1e18 : size;
    }
    bool better = !pick || (pickImportant && !settings.important) ||
                  (pickImportant == settings.important && score > pickScore);
    if (better) {
      pick = workspace;
      pickState = ws;
      pickScore = score;
      pickImportant = settings.important;
    }
  }
  if (!pick) return;

  auto metrics = systemMetrics(config_.system, system);
  Decision decision = actionDecision(pick->id, action, system.level, now);
  decision.systemRelief = true;
  decision.reason =
      "system relief: " + describeBeyond(drivingMetric(metrics, system.level), system.level, now) +
      "; picked the " + (byGrowth ? "fastest growing" : "largest") + " of " +
      std::to_string(candidates) + " workspace" + (candidates == 1 ? "" : "s") + " (" +
      describeBytes(static_cast<double>(pickState->judgedMemory.value_or(pick->rss.value_or(0)))) +
      (pickImportant ? ", important" : "") + ")";
  if (action == ActionKind::Restart) {
    pickState->restarts.record(now, actions.restart.window);
    if (actions.restart.saveProfile) decision.reason += ", heap profile first";
  }
  out.push_back(std::move(decision));
  pickState->lastRun[index(action)] = now;
  pickState->lastActionAt = now;
  pickState->levelAtLastAction = pickState->level;
  system.lastReliefAt = now;
  system.levelAtLastRelief = system.level;
  system.nextRung = std::max(system.nextRung, *rung + 1);
}

Decision PolicyEngine::recordOutcome(PolicyState& state, const ActionOutcome& outcome) const {
  auto it = state.workspaces.find(outcome.workspace);
  WorkspaceState* ws = it != state.workspaces.end() ? &it->second : nullptr;
  Decision decision{.at = outcome.at,
                    .kind = DecisionKind::Outcome,
                    .workspace = outcome.workspace,
                    .level = ws ? ws->level : Level::Ok,
                    .action = outcome.action};

  std::string name(toString(outcome.action));
  if (!outcome.success) {
    decision.reason = name + " failed";
    if (ws && outcome.action != ActionKind::Restart) {
      ws->escalateSooner = true;
      decision.reason += "; the next rung need not wait to settle";
    }
    return decision;
  }
  // The settle time counts from the end of an action: a GC ends once Go returned its pages.
  if (ws && (!ws->lastActionAt || *ws->lastActionAt < outcome.at)) ws->lastActionAt = outcome.at;
  double before = static_cast<double>(outcome.before);
  double freed = before - static_cast<double>(outcome.after);
  double share = outcome.before > 0 ? freed / before : 0;
  decision.reason = name + " freed " + describeBytes(freed) + " (" + describeBytes(before) +
                    " -> " + describeBytes(static_cast<double>(outcome.after)) + ", " +
                    describePercent(share * 100) + ")";
  // The Go heap falls at once; RSS and the cgroup follow as Go returns pages, which may take
  // longer than the guard waits. A GC that brought the heap down did its work either way.
  double heapShare = 0;
  if (outcome.heapBefore && outcome.heapAfter && *outcome.heapBefore > 0) {
    const double heapBefore = static_cast<double>(*outcome.heapBefore);
    heapShare = (heapBefore - static_cast<double>(*outcome.heapAfter)) / heapBefore;
    decision.reason += ", Go heap " + describeBytes(heapBefore) + " -> " +
                       describeBytes(static_cast<double>(*outcome.heapAfter)) + " (" +
                       describePercent(heapShare * 100) + ")";
  }
  double minFreed = config_.actions.gc.minFreed;
  if (outcome.action == ActionKind::Gc && share < minFreed && heapShare < minFreed) {
    decision.reason += ": ineffective, less than " + describePercent(minFreed * 100) +
                       "; the next rung need not wait to settle";
    if (ws) ws->escalateSooner = true;
  }
  return decision;
}

std::optional<Decision> PolicyEngine::resetDegraded(PolicyState& state, std::string_view workspace,
                                                    Usec now) const {
  auto it = state.workspaces.find(workspace);
  if (it == state.workspaces.end()) return std::nullopt;
  WorkspaceState& ws = it->second;
  if (!ws.degraded && !ws.overBudget) return std::nullopt;
  const std::string what = ws.degraded && ws.overBudget ? "degraded and over-budget states"
                           : ws.degraded                ? "degraded state"
                                                        : "over-budget state";
  ws.degraded = false;
  ws.restarts.clear();
  ws.overBudget.reset();
  return Decision{.at = now,
                  .kind = DecisionKind::Restored,
                  .workspace = std::string(workspace),
                  .level = ws.level,
                  .reason = what + " reset by an operator"};
}

void PolicyEngine::watchReload(const WorkspaceSnapshot& snapshot, WorkspaceState& ws, Usec now,
                               std::vector<Decision>& out) const {
  const WorkspaceSettings& settings = config_.forWorkspace(snapshot.id);
  if (ws.overBudget) {
    // Raised above what it reloads to (or switched off): a restart may help again.
    auto line = thresholdsOf(settings, ws.overBudget->metric).at(ws.overBudget->level);
    if (!line || *line > static_cast<double>(ws.overBudget->loaded)) {
      out.push_back(
          {.at = now,
           .kind = DecisionKind::Restored,
           .workspace = snapshot.id,
           .level = ws.level,
           .reason = "over budget no more: the " + std::string(toString(ws.overBudget->level)) +
                     " line of " + std::string(toString(ws.overBudget->metric)) + " is " +
                     (line ? describeBytes(*line) : std::string("off")) + ", above the " +
                     describeBytes(static_cast<double>(ws.overBudget->loaded)) + " it reloads to"});
      ws.overBudget.reset();
    }
  }
  if (!ws.restartedAt) return;
  if (!ws.restartedFor || now - *ws.restartedAt > config_.actions.restart.reloadWindow) {
    ws.restartedAt.reset();  // reloaded below the line: the restart helped
    return;
  }
  // Only the new process counts: not while the restart runs, and only once the snapshot shows a
  // process first seen after the restart (the daemon's processSince), never the old one's
  // figures.
  if (snapshot.inFlight == ActionKind::Restart || !runningGopls(snapshot, now) ||
      !snapshot.processSince || *snapshot.processSince <= *ws.restartedAt) {
    return;
  }
  auto value = metricValue(snapshot, settings, ws.restartedFor->metric);
  if (!value) return;
  ws.reloadPeak = std::max(ws.reloadPeak, *value);
  if (*value < ws.restartedFor->threshold) return;
  ws.overBudget = Budget{.metric = ws.restartedFor->metric,
                         .level = ws.restartLevel,
                         .loaded = *value,
                         .threshold = ws.restartedFor->threshold};
  out.push_back(
      {.at = now,
       .kind = DecisionKind::OverBudget,
       .workspace = snapshot.id,
       .level = ws.level,
       .reason = "over budget: " + std::string(toString(ws.restartedFor->metric)) +
                 " reloaded to " + describeBytes(static_cast<double>(*value)) + " within " +
                 formatDuration(now - *ws.restartedAt) + " of the restart, at or above the " +
                 std::string(toString(ws.restartLevel)) + " line " +
                 describeBytes(static_cast<double>(ws.restartedFor->threshold)) +
                 " it was restarted for; restarts cannot help it, the guard keeps only GC; " +
                 kOverBudgetAdvice,
       .budget = ws.overBudget});
  ws.restartedAt.reset();
  ws.restartedFor.reset();
}

}  // namespace wslgo
