#include "lib/simulate.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <map>
#include <vector>

#include "lib/config_values.h"
#include "lib/policy_format.h"
#include "lib/text_lines.h"
#include "lib/trace.h"

namespace wslgo {
namespace {

std::string renderTime(Usec since) {
  long long ms = std::max<long long>(0, since.count() / 1000);
  long long s = ms / 1000;
  char buffer[40];
  if (ms % 1000 == 0) {
    std::snprintf(buffer, sizeof buffer, "%02lld:%02lld:%02lld", s / 3600, s / 60 % 60, s % 60);
  } else {
    std::snprintf(buffer, sizeof buffer, "%02lld:%02lld:%02lld.%03lld", s / 3600, s / 60 % 60,
                  s % 60, ms % 1000);
  }
  return buffer;
}

std::string what(const Decision& decision) {
  if (decision.kind != DecisionKind::Action) return std::string(toString(decision.kind));
  std::string action(toString(decision.action.value_or(ActionKind::Gc)));
  return decision.dryRun ? "would " + action : action;
}

std::string padded(std::string text, size_t width) {
  if (text.size() < width) text.resize(width, ' ');
  return text;
}

// What the simulated actions did to one workspace's gopls. A synthetic trace's figures cannot
// know when the guard acts, so every later snapshot of the same process is corrected by it.
struct Simulated {
  uint64_t freed = 0;      // memory and RSS the actions freed, bytes
  uint64_t heapFreed = 0;  // Go heap they freed, bytes
  Usec since{0};           // when the first of them ran
  uint64_t nRestarts = 0;  // systemd's NRestarts then
  // A simulated restart started a process the trace cannot show: when the guard restarted it,
  // and the first snapshot after, when the daemon would have seen the new process.
  std::optional<Usec> restartedAt{};
  std::optional<Usec> newProcessSince{};
};

// Whether the trace itself shows a process other than the one the simulated actions acted on:
// systemd restarted the unit, or the daemon saw a process first that started after them. Its
// figures are then its own.
bool newProcessInTrace(const WorkspaceSnapshot& workspace, const Simulated& simulated) {
  return workspace.nRestarts != simulated.nRestarts ||
         (workspace.processSince && *workspace.processSince > simulated.since);
}

void lower(std::optional<uint64_t>& value, uint64_t freed) {
  if (value) *value -= std::min(*value, freed);
}

// Lowers a workspace's figures by what the simulated actions freed.
void applyFreed(WorkspaceSnapshot& workspace, uint64_t freed, uint64_t heapFreed) {
  lower(workspace.memoryCurrent, freed);
  lower(workspace.rss, freed);
  lower(workspace.heapInUse, heapFreed);
}

// What one simulated action frees. The heap falls by the memory freed unless the model says
// what the action does to the heap.
struct Effect {
  uint64_t freed = 0;
  uint64_t heapFreed = 0;
  std::optional<uint64_t> heapBefore{};  // set when the outcome quotes the heap
};

Effect effectOf(const SimulationModel& model, ActionKind action, uint64_t before,
                std::optional<uint64_t> heap) {
  Effect effect;
  auto shareOf = [](uint64_t bytes, double share) {
    return static_cast<uint64_t>(static_cast<double>(bytes) * share);
  };
  switch (action) {
    case ActionKind::Gc:
      effect.freed = shareOf(before, model.gcFrees);
      break;
    case ActionKind::Trim:
      effect.freed = shareOf(before, model.trimFrees);
      break;
    case ActionKind::Restart:
      if (model.restartTo && before > *model.restartTo) effect.freed = before - *model.restartTo;
      break;
  }
  effect.heapFreed = effect.freed;
  if (action == ActionKind::Gc && model.gcHeapFrees) {
    effect.heapFreed = heap ? shareOf(*heap, *model.gcHeapFrees) : 0;
    effect.heapBefore = heap;
  }
  if (action == ActionKind::Restart && model.restartHeapTo) {
    effect.heapFreed = heap && *heap > *model.restartHeapTo ? *heap - *model.restartHeapTo : 0;
  }
  return effect;
}

struct Tally {
  size_t snapshots = 0;
  std::array<size_t, 3> actions{};
  size_t dryRun = 0;
  size_t degraded = 0;
  size_t crashLoops = 0;
};

std::string summary(const Tally& tally, Usec span) {
  return "summary: " + std::to_string(tally.snapshots) + " snapshots over " + formatDuration(span) +
         "; " + std::to_string(tally.actions[0]) + " gc, " + std::to_string(tally.actions[1]) +
         " trim, " + std::to_string(tally.actions[2]) + " restart (" +
         std::to_string(tally.dryRun) + " dry run); " + std::to_string(tally.degraded) +
         " degraded, " + std::to_string(tally.crashLoops) + " crash loop" +
         (tally.crashLoops == 1 ? "" : "s") + "\n";
}

}  // namespace

std::string renderDecision(const Decision& decision, Usec origin) {
  std::string line = renderTime(decision.at - origin);
  line += "  ";
  line += padded(decision.workspace.empty() ? "system" : decision.workspace, 22);
  line += "  ";
  line += padded(std::string(toString(decision.level)), 8);
  line += "  ";
  line += padded(what(decision), 13);
  line += "  ";
  line += decision.reason;
  return line;
}

std::optional<uint64_t> traceMemTotal(std::string_view trace) {
  for (const TextLine& text : TextLines(trace)) {
    auto line = parseTraceLine(text.text);
    if (line && line->kind == TraceLine::Kind::Snapshot && line->snapshot.system.memTotal > 0) {
      return line->snapshot.system.memTotal;
    }
  }
  return std::nullopt;
}

Result<Config> loadSimulationConfig(const std::string& defaultsFile,
                                    const std::string& overrideFile, std::string_view trace,
                                    const std::string& home) {
  std::vector<ConfigLayer> layers{{defaultsFile, true}};
  if (!overrideFile.empty()) layers.push_back({overrideFile, true});
  return loadConfig(layers, traceMemTotal(trace).value_or(0), home);
}

Result<std::string> simulateTrace(const PolicyEngine& engine, std::string_view trace) {
  PolicyState state;
  std::optional<SimulationModel> model;
  std::map<std::string, Simulated, std::less<>> simulated;  // per workspace
  std::optional<Usec> origin;
  Usec last{0};
  Tally tally;
  std::string timeline;
  std::vector<Decision> decisions;

  auto emit = [&](const Decision& decision) {
    timeline += renderDecision(decision, origin.value_or(decision.at));
    timeline += '\n';
  };

  for (const TextLine& text : TextLines(trace)) {
    auto parsed = parseTraceLine(text.text);
    if (!parsed) {
      Error error = parsed.error();
      error.path = "trace line " + std::to_string(text.number) +
                   (error.path.empty() ? "" : " at " + error.path);
      return error;
    }
    TraceLine& line = *parsed;
    switch (line.kind) {
      case TraceLine::Kind::Blank:
        break;
      case TraceLine::Kind::Model:
        model = line.model;
        break;
      case TraceLine::Kind::Outcome:
        emit(engine.recordOutcome(state, line.outcome));
        break;
      case TraceLine::Kind::Snapshot: {
        Snapshot& snapshot = line.snapshot;
        if (!origin) origin = snapshot.now;
        last = snapshot.now;
        ++tally.snapshots;
        uint64_t freedInAll = 0;
        for (WorkspaceSnapshot& workspace : snapshot.workspaces) {
          auto it = simulated.find(workspace.id);
          if (it == simulated.end()) continue;
          Simulated& sim = it->second;
          if (newProcessInTrace(workspace, sim)) {
            simulated.erase(it);
            continue;
          }
          // The trace still names the process the guard restarted; the engine must see the new
          // one, as the daemon would, to tell its figures from the old process's.
          if (sim.restartedAt && workspace.processSince &&
              *workspace.processSince <= *sim.restartedAt) {
            if (!sim.newProcessSince) sim.newProcessSince = snapshot.now;
            workspace.processSince = sim.newProcessSince;
          }
          applyFreed(workspace, sim.freed, sim.heapFreed);
          freedInAll += sim.freed;
        }
        // What gopls gave back is available to the rest of the system.
        if (snapshot.system.memAvailable) *snapshot.system.memAvailable += freedInAll;
        decisions.clear();
        engine.evaluate(snapshot, state, decisions);
        for (const Decision& decision : decisions) {
          emit(decision);
          if (decision.kind == DecisionKind::Degraded) ++tally.degraded;
          if (decision.kind == DecisionKind::CrashLoop) ++tally.crashLoops;
          if (decision.kind != DecisionKind::Action || !decision.action) continue;
          ++tally.actions[static_cast<size_t>(*decision.action)];
          if (decision.dryRun) {
            ++tally.dryRun;
            continue;  // nothing runs, so nothing changes and there is no outcome
          }
          if (!model) continue;
          auto target =
              std::find_if(snapshot.workspaces.begin(), snapshot.workspaces.end(),
                           [&](const WorkspaceSnapshot& w) { return w.id == decision.workspace; });
          if (target == snapshot.workspaces.end()) continue;
          auto before =
              PolicyEngine::judgedMemory(*target, engine.config().forWorkspace(decision.workspace));
          if (!before) continue;
          Effect effect = effectOf(*model, *decision.action, *before, target->heapInUse);
          auto [it, first] = simulated.try_emplace(decision.workspace);
          Simulated& sim = it->second;
          if (first) {
            sim.since = snapshot.now;
            sim.nRestarts = target->nRestarts;
          }
          sim.freed += effect.freed;
          sim.heapFreed += effect.heapFreed;
          if (*decision.action == ActionKind::Restart) {
            sim.restartedAt = snapshot.now;
            sim.newProcessSince.reset();
          }
          applyFreed(*target, effect.freed, effect.heapFreed);
          ActionOutcome outcome{.workspace = decision.workspace,
                                .action = *decision.action,
                                .before = *before,
                                .after = *before - effect.freed,
                                .success = true,
                                .at = snapshot.now};
          if (effect.heapBefore) {
            outcome.heapBefore = effect.heapBefore;
            outcome.heapAfter = *effect.heapBefore - effect.heapFreed;
          }
          emit(engine.recordOutcome(state, outcome));
        }
        break;
      }
    }
  }
  timeline += summary(tally, origin ? last - *origin : Usec{0});
  return timeline;
}

}  // namespace wslgo
