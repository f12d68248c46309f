#include "daemon/workspace_status.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "lib/policy_format.h"
#include "lib/unit_environment.h"

namespace wslgo {
namespace {

nlohmann::json optionalFigure(const std::optional<uint64_t>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

// What the workspace's gopls is and offers; null until it has been probed.
nlohmann::json goplsJson(const GoplsOffer* gopls) {
  if (gopls == nullptr) return nullptr;
  const GoplsDebugFeatures& features = gopls->features;
  return {{"version", features.build.version},
          {"go_version", features.build.goVersion},
          {"main_pid", gopls->mainPid},
          {"gc_route", features.gcRoute},
          {"gc_page", features.gcPage},
          {"pprof_gc", true},
          {"mem_stats", features.memStats ? nlohmann::json(*features.memStats) : nullptr},
          {"file_cache",
           gopls->fileCache.empty() ? nlohmann::json(nullptr) : nlohmann::json(gopls->fileCache)}};
}

// Per rung: can it work for this workspace, and if not, why. Restarts may also be held back by
// the policy (degraded, crash loop, over budget).
nlohmann::json rungsJson(const WorkspaceFacts& facts) {
  nlohmann::json out = nlohmann::json::object();
  for (ActionKind action : {ActionKind::Gc, ActionKind::Trim, ActionKind::Restart}) {
    std::string why = facts.rungs.whyNot(action);
    const WorkspaceState* policy = facts.policy;
    if (why.empty() && policy != nullptr && action != ActionKind::Gc && policy->overBudget) {
      why = "over budget: a restart cannot help it, only GC is left";
    } else if (why.empty() && policy != nullptr && action == ActionKind::Restart) {
      if (policy->degraded) why = "degraded: the restart limit is reached";
      if (policy->crashLoop) why = "the unit is crash looping";
    }
    nlohmann::json entry{{"available", why.empty()}};
    if (!why.empty()) entry["why"] = why;
    out[std::string(toString(action))] = std::move(entry);
  }
  return out;
}

nlohmann::json overBudgetJson(const WorkspaceState* policy) {
  if (policy == nullptr || !policy->overBudget) return nullptr;
  const Budget& budget = *policy->overBudget;
  return {{"metric", std::string(toString(budget.metric))},
          {"level", std::string(toString(budget.level))},
          {"loaded", budget.loaded},
          {"threshold", budget.threshold}};
}

// A control's value, whether the kernel acts on it for the unit and, where not, why.
nlohmann::json controlJson(nlohmann::json value, bool set, const ResourceEnforcement* enforcement,
                           ControlEnforcement ResourceEnforcement::*control) {
  nlohmann::json out{
      {"value", std::move(value)},
      {"enforced", set && enforcement != nullptr && (enforcement->*control).enforced}};
  if (set && enforcement != nullptr && !(enforcement->*control).enforced) {
    out["why"] = (enforcement->*control).why;
  }
  return out;
}

nlohmann::json oomScoreAdjJson(const WorkspaceFacts& facts) {
  nlohmann::json out{{"configured", facts.settings.oomScoreAdjust},
                     {"effective", facts.oomScoreAdj ? nlohmann::json(*facts.oomScoreAdj)
                                                     : nlohmann::json(nullptr)}};
  if (facts.oomScoreAdj && *facts.oomScoreAdj != facts.settings.oomScoreAdjust) {
    out["why"] =
        "gopls runs with another value: it was started before the setting changed (it applies "
        "from the unit's next start), or lowering it was refused for want of privilege (see the "
        "unit's journal)";
  }
  return out;
}

nlohmann::json oomKillsJson(const OomKills& kills) {
  return {
      {"count", kills.count}, {"last_usec", kills.lastWallUsec}, {"last_reason", kills.lastReason}};
}

}  // namespace

std::string workspaceState(const WorkspaceFacts& facts) {
  if (facts.inFlight == ActionKind::Restart) return "restarting";
  // Either way the guard has stopped restarting it, which is what the user must know.
  if (facts.policy != nullptr && (facts.policy->degraded || facts.policy->crashLoop)) {
    return "degraded";
  }
  if (facts.policy != nullptr && facts.policy->overBudget) return "over-budget";
  const std::string& active = facts.unit.activeState;
  if (active == "failed") return "failed";
  if (active == "activating" || active.empty()) return "starting";
  if (active == "inactive" || active == "deactivating") return "stopped";
  const Level level = facts.policy != nullptr ? facts.policy->level : Level::Ok;
  return level == Level::Ok ? "running" : std::string(toString(level));
}

WorkspaceView workspaceView(const WorkspaceFacts& facts) {
  return WorkspaceView{
      .path = facts.record.path,
      .unit = facts.record.unit,
      .socket = facts.record.socket,
      .debugAddress = facts.debugAddress,
      .mainPid = facts.unit.mainPid,
      .state = workspaceState(facts),
      .memoryCurrent = facts.snapshot.memoryCurrent.value_or(0),
      .rss = facts.snapshot.rss.value_or(0),
      .heapInUse = facts.snapshot.heapInUse.value_or(0),
      .warningLimit = wholeBytes(facts.settings.memory.warning),
      .highLimit = wholeBytes(facts.settings.memory.high),
      .criticalLimit = wholeBytes(facts.settings.memory.critical),
      .restarts = facts.unit.nRestarts,
      .lastAction = facts.lastAction.name,
      .lastActionUsec = facts.lastAction.wallUsec,
      .editors = facts.editors,
  };
}

std::string statusJson(const StatusFacts& facts) {
  const ManagerView& manager = facts.manager;
  nlohmann::json out;
  out["schema_version"] = 1;
  out["version"] = WSLGO_VERSION;
  out["state"] = manager.state;
  out["dry_run"] = manager.dryRun;
  out["sample_interval_usec"] = manager.sampleIntervalUsec;
  out["memory"] = {{"mem_total", manager.memTotal},
                   {"mem_available", manager.memAvailable},
                   {"swap_total", manager.swapTotal},
                   {"swap_free", manager.swapFree}};
  out["memory_pressure"] = {{"some_avg10", manager.pressureAvg10},
                            {"some_avg60", manager.pressureAvg60},
                            {"some_avg300", manager.pressureAvg300}};
  out["config_files"] = facts.configFiles;
  out["workspaces"] = nlohmann::json::array();
  for (const WorkspaceFacts& workspace : facts.workspaces) {
    const WorkspaceView view = workspaceView(workspace);
    out["workspaces"].push_back({
        {"path", view.path},
        {"unit", view.unit},
        {"socket", view.socket},
        {"debug_address", view.debugAddress},
        {"main_pid", view.mainPid},
        {"state", view.state},
        {"unit_active_state", workspace.unit.activeState},
        {"memory_current", optionalFigure(workspace.snapshot.memoryCurrent)},
        {"memory_source", std::string(toString(workspace.memorySource))},
        {"rss", optionalFigure(workspace.snapshot.rss)},
        {"heap_in_use", optionalFigure(workspace.snapshot.heapInUse)},
        {"limits",
         {{"warning", view.warningLimit},
          {"high", view.highLimit},
          {"critical", view.criticalLimit}}},
        {"restarts", view.restarts},
        {"last_action", view.lastAction},
        {"last_action_usec", view.lastActionUsec},
        {"editor_flags", "-remote=unix;" + view.socket},
        {"editors", view.editors},
        {"gopls", goplsJson(workspace.gopls)},
        {"rungs", rungsJson(workspace)},
        {"over_budget", overBudgetJson(workspace.policy)},
        {"gomemlimit", optionalFigure(gomemlimitFor(workspace.settings))},
        {"memory_high", controlJson(optionalFigure(workspace.settings.memoryHigh),
                                    workspace.settings.memoryHigh.has_value(),
                                    workspace.enforcement, &ResourceEnforcement::memoryHigh)},
        {"memory_max", controlJson(optionalFigure(workspace.settings.memoryMax),
                                   workspace.settings.memoryMax.has_value(), workspace.enforcement,
                                   &ResourceEnforcement::memoryMax)},
        {"cpu_weight", controlJson(workspace.settings.cpuWeight, true, workspace.enforcement,
                                   &ResourceEnforcement::cpuWeight)},
        {"io_weight", controlJson(workspace.settings.ioWeight, true, workspace.enforcement,
                                  &ResourceEnforcement::ioWeight)},
        {"oom_score_adj", oomScoreAdjJson(workspace)},
        {"oom_kills", oomKillsJson(workspace.oomKills)},
    });
  }
  out["other_gopls"] = nlohmann::json::array();
  for (const OtherGopls& gopls : facts.otherGopls) {
    const bool ours =
        std::any_of(facts.workspaces.begin(), facts.workspaces.end(), [&](const WorkspaceFacts& w) {
          const auto mainPid = static_cast<pid_t>(w.unit.mainPid);
          return mainPid > 0 && (gopls.pid == mainPid || gopls.parent == mainPid);
        });
    if (ours) continue;
    nlohmann::json entry{{"pid", gopls.pid}, {"role", gopls.role}, {"directory", gopls.directory}};
    if (gopls.rss) entry["rss"] = *gopls.rss;
    out["other_gopls"].push_back(std::move(entry));
  }
  return out.dump();
}

std::string statusLine(const ManagerView& manager, size_t workspaceCount) {
  std::string line = manager.state + ": " + std::to_string(workspaceCount) +
                     (workspaceCount == 1 ? " workspace" : " workspaces");
  if (manager.memTotal > 0) {
    line += ", MemAvailable " + describePercent(100.0 * static_cast<double>(manager.memAvailable) /
                                                static_cast<double>(manager.memTotal));
  }
  if (manager.dryRun) line += ", dry run";
  return line;
}

}  // namespace wslgo
