#include "lib/ctl_status_render.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>
#include <sstream>
#include <vector>

#include <nlohmann/json.hpp>

#include "lib/levels.h"
#include "lib/policy_format.h"
#include "lib/terminal_style.h"

namespace wslgo {
namespace {

using Json = nlohmann::json;

constexpr const char* kLabelIndent = "            ";  // under the value column of a block
constexpr int kLabelWidth = 10;

using sgr::kBold;
using sgr::kBoldRed;
using sgr::kCyan;
using sgr::kDim;
using sgr::kGreen;
using sgr::kRed;
using sgr::kYellow;

std::string_view levelColour(Level level) {
  switch (level) {
    case Level::Ok:
      return kGreen;
    case Level::Warning:
      return kYellow;
    case Level::High:
      return kRed;
    case Level::Critical:
      return kBoldRed;
  }
  return kGreen;
}

// The colour of a workspace's or the guard's state word.
std::string_view stateColour(const std::string& state) {
  if (state == "ok" || state == "running") return kGreen;
  if (state == "warning" || state == "starting" || state == "restarting") return kYellow;
  if (state == "stopped") return kDim;
  if (state == "high" || state == "critical" || state == "degraded" || state == "over-budget" ||
      state == "failed") {
    return kBoldRed;
  }
  return kCyan;
}

std::string paint(const StatusView& view, std::string_view style, const std::string& text) {
  return sgr::paint(view.colour, style, text);
}

std::optional<uint64_t> unsignedAt(const Json& object, const char* key) {
  if (!object.is_object()) return std::nullopt;
  auto it = object.find(key);
  if (it == object.end() || !it->is_number_unsigned()) {
    if (it != object.end() && it->is_number_integer() && it->get<int64_t>() >= 0) {
      return it->get<uint64_t>();
    }
    return std::nullopt;
  }
  return it->get<uint64_t>();
}

std::string stringAt(const Json& object, const char* key) {
  if (!object.is_object()) return {};
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

double numberAt(const Json& object, const char* key) {
  if (!object.is_object()) return 0.0;
  auto it = object.find(key);
  return it != object.end() && it->is_number() ? it->get<double>() : 0.0;
}

std::string bytes(std::optional<uint64_t> value) {
  return value ? describeBytes(static_cast<double>(*value)) : "unknown";
}

std::string padded(std::string text, size_t width) {
  if (text.size() < width) text.append(width - text.size(), ' ');
  return text;
}

std::string trimmedRight(std::string text) {
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text;
}

// "  Label     " then the value: the label column of a workspace block.
std::string row(const std::string& label, const std::string& value) {
  return trimmedRight("  " + padded(label, kLabelWidth) + value) + "\n";
}

// A row of plain prose, wrapped at `width` under the value column.
std::string wrappedRow(const std::string& label, const std::string& text, int width) {
  const size_t room = static_cast<size_t>(std::max(width - 2 - kLabelWidth, 30));
  std::string out;
  std::string line;
  std::istringstream words(text);
  for (std::string word; words >> word;) {
    if (!line.empty() && line.size() + 1 + word.size() > room) {
      out += out.empty() ? row(label, line) : kLabelIndent + line + "\n";
      line.clear();
    }
    line += (line.empty() ? "" : " ") + word;
  }
  if (!line.empty()) out += out.empty() ? row(label, line) : kLabelIndent + line + "\n";
  return out;
}

struct Limits {
  std::optional<uint64_t> warning, high, critical;

  std::optional<uint64_t> top() const { return critical ? critical : high ? high : warning; }

  Level levelOf(uint64_t value) const {
    if (critical && value >= *critical) return Level::Critical;
    if (high && value >= *high) return Level::High;
    if (warning && value >= *warning) return Level::Warning;
    return Level::Ok;
  }
};

Limits limitsOf(const Json& workspace) {
  Json limits =
      workspace.is_object() && workspace.contains("limits") ? workspace["limits"] : Json();
  auto set = [&](const char* key) -> std::optional<uint64_t> {
    auto value = unsignedAt(limits, key);
    return value && *value > 0 ? value : std::nullopt;  // 0: not set
  };
  return Limits{.warning = set("warning"), .high = set("high"), .critical = set("critical")};
}

// [#####.....|.....|....]: memory against the highest line set, the lower lines marked.
std::string bar(const StatusView& view, uint64_t value, const Limits& limits, Level level,
                int inner) {
  const double top = static_cast<double>(*limits.top());
  auto column = [&](uint64_t bytesAt) {
    return static_cast<int>(std::lround(static_cast<double>(bytesAt) / top * inner));
  };
  const int filled = std::clamp(column(value), 0, inner);
  std::string empty;
  for (int i = filled; i < inner; ++i) {
    const bool marker =
        (limits.warning && limits.warning != limits.top() && column(*limits.warning) == i) ||
        (limits.high && limits.high != limits.top() && column(*limits.high) == i);
    empty += marker ? '|' : '.';
  }
  return "[" + paint(view, levelColour(level), std::string(static_cast<size_t>(filled), '#')) +
         empty + "]";
}

std::string describeLimits(const Limits& limits) {
  std::vector<std::string> parts;
  if (limits.warning) parts.push_back("warning " + bytes(limits.warning));
  if (limits.high) parts.push_back("high " + bytes(limits.high));
  if (limits.critical) parts.push_back("critical " + bytes(limits.critical));
  std::string out;
  for (const auto& part : parts) out += (out.empty() ? "" : ", ") + part;
  return out;
}

std::string renderWorkspace(const Json& workspace, const StatusView& view) {
  std::string out = paint(view, kBold, stringAt(workspace, "path")) + "\n";

  const std::string state = stringAt(workspace, "state");
  std::string stateLine = paint(view, stateColour(state), state.empty() ? "unknown" : state);
  const std::string active = stringAt(workspace, "unit_active_state");
  stateLine += ", unit " + (active.empty() ? std::string("unknown") : active);
  if (auto pid = unsignedAt(workspace, "main_pid"); pid && *pid > 0) {
    stateLine += ", pid " + std::to_string(*pid);
  }
  if (workspace.contains("gopls") && workspace["gopls"].is_object()) {
    const std::string version = stringAt(workspace["gopls"], "version");
    if (!version.empty()) stateLine += ", gopls " + version;
  }
  out += row("State", stateLine);

  const auto memory = unsignedAt(workspace, "memory_current");
  const Limits limits = limitsOf(workspace);
  std::string memoryLine = padded(bytes(memory), 10);
  if (memory && limits.top()) {
    const Level level = limits.levelOf(*memory);
    const int inner = std::clamp(view.width - 2 - kLabelWidth - 10 - 2 - 2 - 10, 10, 50);
    memoryLine += bar(view, *memory, limits, level, inner) + "  " +
                  paint(view, levelColour(level), std::string(toString(level)));
  } else if (!limits.top()) {
    memoryLine += "no limits set";
  }
  out += row("Memory", memoryLine);
  std::string limitsLine = describeLimits(limits);
  const std::string source = stringAt(workspace, "memory_source");
  if (!source.empty() && source != "none") {
    limitsLine += (limitsLine.empty() ? "" : "; ") + std::string("from ") +
                  (source == "process-rss" ? "summed process RSS" : source);
  }
  if (!limitsLine.empty()) out += trimmedRight(kLabelIndent + limitsLine) + "\n";

  std::string restarts = "unknown";
  if (auto n = unsignedAt(workspace, "restarts")) restarts = std::to_string(*n);
  std::string figures = padded(bytes(unsignedAt(workspace, "heap_in_use")), 11) + "RSS " +
                        padded(bytes(unsignedAt(workspace, "rss")), 11) + "Restarts " +
                        padded(restarts, 4) + "Editors " +
                        std::to_string(unsignedAt(workspace, "editors").value_or(0));
  out += row("Go heap", figures);

  const std::string action = stringAt(workspace, "last_action");
  out += row("Last", action.empty()
                         ? std::string("no action yet")
                         : action + ", " +
                               describeAgo(unsignedAt(workspace, "last_action_usec").value_or(0),
                                           view.nowUsec));

  if (workspace.contains("over_budget") && workspace["over_budget"].is_object()) {
    const Json& over = workspace["over_budget"];
    out += wrappedRow("Note",
                      "over budget: reloaded to " + bytes(unsignedAt(over, "loaded")) +
                          " after its restart, at or above its " + stringAt(over, "level") +
                          " line of " + bytes(unsignedAt(over, "threshold")) + " (" +
                          stringAt(over, "metric") +
                          "); only GC is left until the line is raised or `wslgo-guardctl "
                          "restart`",
                      view.width);
  } else if (state == "degraded") {
    out += wrappedRow("Note",
                      "restarts stopped (the restart limit, or a crash loop); it lifts when the "
                      "window passes, or now with `wslgo-guardctl restart`",
                      view.width);
  }
  if (workspace.contains("oom_kills") && workspace["oom_kills"].is_object()) {
    const Json& kills = workspace["oom_kills"];
    if (auto count = unsignedAt(kills, "count"); count && *count > 0) {
      std::string line = std::to_string(*count) + ", the last " +
                         describeAgo(unsignedAt(kills, "last_usec").value_or(0), view.nowUsec);
      const std::string reason = stringAt(kills, "last_reason");
      if (!reason.empty()) line += ": " + reason;
      out += wrappedRow("OOM kills", line, view.width);
    }
  }
  return out;
}

std::string renderSystem(const Json& status, const StatusView& view) {
  const Json memory = status.contains("memory") ? status["memory"] : Json::object();
  const auto total = unsignedAt(memory, "mem_total");
  const auto available = unsignedAt(memory, "mem_available");
  std::string line = "MemAvailable " + bytes(available);
  if (total && available && *total > 0) {
    line += " of " + bytes(total) + " (" +
            describePercent(100.0 * static_cast<double>(*available) / static_cast<double>(*total)) +
            ")";
  }
  const uint64_t swapTotal = unsignedAt(memory, "swap_total").value_or(0);
  const uint64_t swapFree = unsignedAt(memory, "swap_free").value_or(0);
  line += swapTotal == 0 ? ", no swap"
                         : ", swap " + bytes(swapTotal - std::min(swapFree, swapTotal)) +
                               " used of " + bytes(swapTotal);
  const Json pressure =
      status.contains("memory_pressure") ? status["memory_pressure"] : Json::object();
  const double avg10 = numberAt(pressure, "some_avg10");
  std::string psi = describePercent(avg10);
  if (avg10 >= 10.0) {
    psi = paint(view, kRed, psi);
  } else if (avg10 >= 1.0) {
    psi = paint(view, kYellow, psi);
  }
  return padded("System", kLabelWidth + 2) + line + "\n" + kLabelIndent + "memory PSI avg10 " +
         psi + "\n";
}

std::string renderOtherGopls(const Json& others) {
  std::string out = "\nOther gopls (not run by the guard, only reported)\n";
  for (const Json& process : others) {
    std::string pid = std::to_string(unsignedAt(process, "pid").value_or(0));
    out += "  pid " + padded(pid, 8) + padded(stringAt(process, "role"), 10) +
           padded(bytes(unsignedAt(process, "rss")), 11) + stringAt(process, "directory") + "\n";
  }
  return out;
}

}  // namespace

std::string describeAgo(uint64_t thenUsec, uint64_t nowUsec) {
  if (thenUsec == 0) return "never";
  if (thenUsec >= nowUsec) return "just now";
  const uint64_t seconds = (nowUsec - thenUsec) / 1000000;
  if (seconds < 5) return "just now";
  if (seconds < 60) return std::to_string(seconds) + " s ago";
  if (seconds < 3600) return std::to_string(seconds / 60) + " min ago";
  if (seconds < 48 * 3600) return std::to_string(seconds / 3600) + " h ago";
  return std::to_string(seconds / 86400) + " days ago";
}

Result<std::string> renderStatus(std::string_view statusJson, const StatusView& view) {
  Json status = Json::parse(statusJson, nullptr, /*allow_exceptions=*/false);
  if (status.is_discarded() || !status.is_object()) {
    return parseError("GetStatus", "the guard's answer is not a JSON object");
  }
  if (unsignedAt(status, "schema_version").value_or(0) != 1) {
    return parseError("GetStatus",
                      "schema_version " + status.value("schema_version", Json()).dump() +
                          " is not the 1 this wslgo-guardctl reads; use the wslgo-guardctl that "
                          "came with the guard, or --json");
  }
  const Json workspaces = status.contains("workspaces") && status["workspaces"].is_array()
                              ? status["workspaces"]
                              : Json::array();

  const std::string state = stringAt(status, "state");
  std::string out = paint(view, kBold, "wslgo-guard " + stringAt(status, "version")) + ": " +
                    paint(view, stateColour(state), state.empty() ? "unknown" : state) + ", " +
                    std::to_string(workspaces.size()) +
                    (workspaces.size() == 1 ? " workspace" : " workspaces");
  if (status.value("dry_run", false)) {
    out += ", " + paint(view, kYellow, "dry run") + " (actions are only reported)";
  }
  out += "\n" + renderSystem(status, view);

  if (workspaces.empty()) {
    out += "\nNo workspace is guarded: add a Go module with `wslgo-guardctl add DIR`.\n";
  }
  for (const Json& workspace : workspaces) out += "\n" + renderWorkspace(workspace, view);

  if (status.contains("other_gopls") && status["other_gopls"].is_array() &&
      !status["other_gopls"].empty()) {
    out += renderOtherGopls(status["other_gopls"]);
  }
  return out;
}

}  // namespace wslgo
