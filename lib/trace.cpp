#include "lib/trace.h"

#include <algorithm>
#include <cerrno>
#include <initializer_list>
#include <limits>
#include <string_view>

#include <nlohmann/json.hpp>

namespace wslgo {
namespace {

using Json = nlohmann::json;

// Reading a trace line: each getter checks the type and names the JSON pointer on error.
class Reader {
 public:
  Reader(const Json& object, std::string pointer) : object_(object), pointer_(std::move(pointer)) {}

  const Json* find(const char* key) const {
    auto it = object_.find(key);
    return it == object_.end() || it->is_null() ? nullptr : &*it;
  }
  std::string at(std::string_view key) const {
    // RFC 6901: "~" and "/" inside a key are escaped, so the pointer names that key.
    std::string escaped;
    for (char c : key) {
      if (c == '~') {
        escaped += "~0";
      } else if (c == '/') {
        escaped += "~1";
      } else {
        escaped += c;
      }
    }
    return pointer_ + "/" + escaped;
  }

  // A key this object does not know is an error: misspelt, it would read as left out.
  Result<void> onlyKeys(std::initializer_list<std::string_view> known) const {
    for (const auto& item : object_.items()) {
      if (std::find(known.begin(), known.end(), item.key()) != known.end()) continue;
      std::string expected;
      for (std::string_view key : known) {
        if (!expected.empty()) expected += ", ";
        expected += key;
      }
      return parseError(at(item.key()), "unknown key; expected one of " + expected);
    }
    return {};
  }

  Result<std::optional<uint64_t>> bytes(const char* key) const {
    const Json* value = find(key);
    if (!value) return std::optional<uint64_t>{};
    if (!value->is_number_unsigned() && !(value->is_number_integer() && *value >= 0)) {
      return parseError(at(key), "expected a non-negative whole number of bytes");
    }
    return std::optional<uint64_t>{value->get<uint64_t>()};
  }
  Result<std::optional<double>> number(const char* key) const {
    const Json* value = find(key);
    if (!value) return std::optional<double>{};
    if (!value->is_number()) return parseError(at(key), "expected a number");
    return std::optional<double>{value->get<double>()};
  }
  Result<std::optional<std::string>> string(const char* key) const {
    const Json* value = find(key);
    if (!value) return std::optional<std::string>{};
    if (!value->is_string()) return parseError(at(key), "expected a string");
    return std::optional<std::string>{value->get<std::string>()};
  }
  Result<bool> flag(const char* key, bool fallback) const {
    const Json* value = find(key);
    if (!value) return fallback;
    if (!value->is_boolean()) return parseError(at(key), "expected true or false");
    return value->get<bool>();
  }
  // A time in microseconds on the trace's clock.
  Result<std::optional<Usec>> usec(const char* key) const {
    const Json* value = find(key);
    if (!value) return std::optional<Usec>{};
    if (!value->is_number_unsigned() && !(value->is_number_integer() && *value >= 0)) {
      return parseError(at(key), "expected a non-negative whole number of microseconds");
    }
    auto count = value->get<uint64_t>();
    if (count > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return parseError(at(key), "time out of range");
    }
    return std::optional<Usec>{Usec(static_cast<int64_t>(count))};
  }
  Result<Usec> time() const {
    auto value = usec("t_us");
    if (!value) return value.error();
    if (!*value) return parseError(at("t_us"), "every line needs its time in microseconds");
    return **value;
  }
  // A share of something freed: a number from 0 to 1.
  Result<std::optional<double>> share(const char* key) const {
    auto value = number(key);
    if (value && *value && (**value < 0 || **value > 1)) {
      return parseError(at(key), "shares freed are between 0 and 1");
    }
    return value;
  }

 private:
  const Json& object_;
  std::string pointer_;
};

#define WSLGO_TRY(target, expr)           \
  do {                                    \
    auto result_ = (expr);                \
    if (!result_) return result_.error(); \
    target = std::move(*result_);         \
  } while (false)

#define WSLGO_CHECK(expr)                 \
  do {                                    \
    auto result_ = (expr);                \
    if (!result_) return result_.error(); \
  } while (false)

Result<ActionKind> actionFrom(const Reader& reader, const char* key) {
  std::optional<std::string> name;
  WSLGO_TRY(name, reader.string(key));
  auto action = name ? parseActionKind(*name) : std::nullopt;
  if (!action) return parseError(reader.at(key), "expected \"gc\", \"trim\" or \"restart\"");
  return *action;
}

// Which rungs can work; a rung left out can, like a workspace without "rungs" at all.
Result<RungSet> rungsFrom(const Json& json, const std::string& pointer) {
  if (!json.is_object()) {
    return parseError(pointer, "expected an object: {\"gc\": …, \"trim\": …, \"restart\": …}");
  }
  Reader reader(json, pointer);
  WSLGO_CHECK(reader.onlyKeys({"gc", "trim", "restart"}));
  RungSet rungs;
  WSLGO_TRY(rungs.gc, reader.flag("gc", true));
  WSLGO_TRY(rungs.trim, reader.flag("trim", true));
  WSLGO_TRY(rungs.restart, reader.flag("restart", true));
  return rungs;
}

Result<WorkspaceSnapshot> workspaceFrom(const Json& json, const std::string& pointer) {
  if (!json.is_object()) return parseError(pointer, "expected an object per workspace");
  Reader reader(json, pointer);
  WSLGO_CHECK(reader.onlyKeys({"id", "memory_current", "inactive_file", "rss", "heap_in_use",
                               "unit", "n_restarts", "in_flight", "rungs", "process_since_us"}));
  WorkspaceSnapshot workspace;
  std::optional<std::string> id;
  WSLGO_TRY(id, reader.string("id"));
  if (!id || id->empty()) return parseError(reader.at("id"), "every workspace needs an id");
  workspace.id = std::move(*id);
  WSLGO_TRY(workspace.memoryCurrent, reader.bytes("memory_current"));
  WSLGO_TRY(workspace.inactiveFile, reader.bytes("inactive_file"));
  WSLGO_TRY(workspace.rss, reader.bytes("rss"));
  WSLGO_TRY(workspace.heapInUse, reader.bytes("heap_in_use"));
  std::optional<std::string> unit;
  WSLGO_TRY(unit, reader.string("unit"));
  if (unit) {
    auto state = parseUnitState(*unit);
    if (!state) return parseError(reader.at("unit"), "unknown unit state \"" + *unit + "\"");
    workspace.unit = *state;
  }
  std::optional<uint64_t> restarts;
  WSLGO_TRY(restarts, reader.bytes("n_restarts"));
  workspace.nRestarts = restarts.value_or(0);
  if (reader.find("in_flight")) {
    ActionKind action;
    WSLGO_TRY(action, actionFrom(reader, "in_flight"));
    workspace.inFlight = action;
  }
  if (const Json* rungs = reader.find("rungs")) {
    WSLGO_TRY(workspace.rungs, rungsFrom(*rungs, reader.at("rungs")));
  }
  WSLGO_TRY(workspace.processSince, reader.usec("process_since_us"));
  return workspace;
}

Result<Snapshot> snapshotFrom(const Json& json) {
  Reader reader(json, "");
  WSLGO_CHECK(reader.onlyKeys({"type", "t_us", "system", "workspaces"}));
  Snapshot snapshot;
  WSLGO_TRY(snapshot.now, reader.time());
  if (const Json* system = reader.find("system")) {
    if (!system->is_object()) return parseError("/system", "expected an object");
    Reader sys(*system, "/system");
    WSLGO_CHECK(sys.onlyKeys({"mem_total", "mem_available", "psi_some_avg10", "psi_full_avg10"}));
    std::optional<uint64_t> total;
    WSLGO_TRY(total, sys.bytes("mem_total"));
    snapshot.system.memTotal = total.value_or(0);
    WSLGO_TRY(snapshot.system.memAvailable, sys.bytes("mem_available"));
    WSLGO_TRY(snapshot.system.pressureSomeAvg10, sys.number("psi_some_avg10"));
    WSLGO_TRY(snapshot.system.pressureFullAvg10, sys.number("psi_full_avg10"));
  }
  if (const Json* workspaces = reader.find("workspaces")) {
    if (!workspaces->is_array()) return parseError("/workspaces", "expected an array");
    snapshot.workspaces.reserve(workspaces->size());
    for (size_t i = 0; i < workspaces->size(); ++i) {
      WorkspaceSnapshot workspace;
      WSLGO_TRY(workspace, workspaceFrom((*workspaces)[i], "/workspaces/" + std::to_string(i)));
      snapshot.workspaces.push_back(std::move(workspace));
    }
  }
  return snapshot;
}

Result<ActionOutcome> outcomeFrom(const Json& json) {
  Reader reader(json, "");
  WSLGO_CHECK(reader.onlyKeys({"type", "t_us", "workspace", "action", "before", "after",
                               "heap_before", "heap_after", "ok"}));
  ActionOutcome outcome;
  WSLGO_TRY(outcome.at, reader.time());
  std::optional<std::string> workspace;
  WSLGO_TRY(workspace, reader.string("workspace"));
  if (!workspace) return parseError("/workspace", "an outcome names its workspace");
  outcome.workspace = std::move(*workspace);
  WSLGO_TRY(outcome.action, actionFrom(reader, "action"));
  std::optional<uint64_t> before, after;
  WSLGO_TRY(before, reader.bytes("before"));
  WSLGO_TRY(after, reader.bytes("after"));
  if (!before || !after) return parseError("/before", "an outcome needs before and after bytes");
  outcome.before = *before;
  outcome.after = *after;
  WSLGO_TRY(outcome.heapBefore, reader.bytes("heap_before"));
  WSLGO_TRY(outcome.heapAfter, reader.bytes("heap_after"));
  // One without the other cannot say what the heap did; the engine would quietly ignore it.
  if (outcome.heapBefore.has_value() != outcome.heapAfter.has_value()) {
    return parseError(outcome.heapBefore ? "/heap_after" : "/heap_before",
                      "heap_before and heap_after come together");
  }
  WSLGO_TRY(outcome.success, reader.flag("ok", true));
  return outcome;
}

Result<SimulationModel> modelFrom(const Json& json) {
  Reader reader(json, "");
  WSLGO_CHECK(reader.onlyKeys(
      {"type", "gc_frees", "trim_frees", "restart_to", "gc_heap_frees", "restart_heap_to"}));
  SimulationModel model;
  std::optional<double> share;
  WSLGO_TRY(share, reader.share("gc_frees"));
  model.gcFrees = share.value_or(0);
  WSLGO_TRY(share, reader.share("trim_frees"));
  model.trimFrees = share.value_or(0);
  WSLGO_TRY(model.restartTo, reader.bytes("restart_to"));
  WSLGO_TRY(model.gcHeapFrees, reader.share("gc_heap_frees"));
  WSLGO_TRY(model.restartHeapTo, reader.bytes("restart_heap_to"));
  return model;
}

#undef WSLGO_CHECK
#undef WSLGO_TRY

void putBytes(Json& json, const char* key, const std::optional<uint64_t>& value) {
  if (value) json[key] = *value;
}

}  // namespace

Result<TraceLine> parseTraceLine(std::string_view line) {
  if (line.find_first_not_of(" \t\r\n") == std::string_view::npos) return TraceLine{};
  Json json = Json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded())
    return parseError("", "not a JSON object: " + std::string(line.substr(0, 80)));
  if (!json.is_object()) return parseError("", "expected a JSON object per line");
  try {
    auto type = json.find("type");
    if (type == json.end() || !type->is_string()) {
      return parseError("/type", "expected \"snapshot\", \"outcome\" or \"model\"");
    }
    const std::string& name = type->get_ref<const std::string&>();
    TraceLine result;
    if (name == "snapshot") {
      auto snapshot = snapshotFrom(json);
      if (!snapshot) return snapshot.error();
      result.kind = TraceLine::Kind::Snapshot;
      result.snapshot = std::move(*snapshot);
    } else if (name == "outcome") {
      auto outcome = outcomeFrom(json);
      if (!outcome) return outcome.error();
      result.kind = TraceLine::Kind::Outcome;
      result.outcome = std::move(*outcome);
    } else if (name == "model") {
      auto model = modelFrom(json);
      if (!model) return model.error();
      result.kind = TraceLine::Kind::Model;
      result.model = *model;
    } else {
      return parseError("/type", "unknown line type \"" + name + "\"");
    }
    return result;
  } catch (const Json::exception& e) {
    return parseError("", std::string("malformed trace line: ") + e.what());
  }
}

std::string serializeSnapshot(const Snapshot& snapshot) {
  Json json;
  json["type"] = "snapshot";
  json["t_us"] = snapshot.now.count();
  Json system = Json::object();
  system["mem_total"] = snapshot.system.memTotal;
  putBytes(system, "mem_available", snapshot.system.memAvailable);
  if (snapshot.system.pressureSomeAvg10)
    system["psi_some_avg10"] = *snapshot.system.pressureSomeAvg10;
  if (snapshot.system.pressureFullAvg10)
    system["psi_full_avg10"] = *snapshot.system.pressureFullAvg10;
  json["system"] = std::move(system);
  Json workspaces = Json::array();
  for (const WorkspaceSnapshot& workspace : snapshot.workspaces) {
    Json entry;
    entry["id"] = workspace.id;
    putBytes(entry, "memory_current", workspace.memoryCurrent);
    putBytes(entry, "inactive_file", workspace.inactiveFile);
    putBytes(entry, "rss", workspace.rss);
    putBytes(entry, "heap_in_use", workspace.heapInUse);
    entry["unit"] = std::string(toString(workspace.unit));
    entry["n_restarts"] = workspace.nRestarts;
    if (workspace.inFlight) entry["in_flight"] = std::string(toString(*workspace.inFlight));
    const RungSet& rungs = workspace.rungs;
    if (!rungs.gc || !rungs.trim || !rungs.restart) {
      entry["rungs"] = {{"gc", rungs.gc}, {"trim", rungs.trim}, {"restart", rungs.restart}};
    }
    if (workspace.processSince) entry["process_since_us"] = workspace.processSince->count();
    workspaces.push_back(std::move(entry));
  }
  json["workspaces"] = std::move(workspaces);
  return json.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string serializeOutcome(const ActionOutcome& outcome) {
  Json json;
  json["type"] = "outcome";
  json["t_us"] = outcome.at.count();
  json["workspace"] = outcome.workspace;
  json["action"] = std::string(toString(outcome.action));
  json["before"] = outcome.before;
  json["after"] = outcome.after;
  putBytes(json, "heap_before", outcome.heapBefore);
  putBytes(json, "heap_after", outcome.heapAfter);
  json["ok"] = outcome.success;
  return json.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string serializeModel(const SimulationModel& model) {
  Json json;
  json["type"] = "model";
  json["gc_frees"] = model.gcFrees;
  json["trim_frees"] = model.trimFrees;
  putBytes(json, "restart_to", model.restartTo);
  if (model.gcHeapFrees) json["gc_heap_frees"] = *model.gcHeapFrees;
  putBytes(json, "restart_heap_to", model.restartHeapTo);
  return json.dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace wslgo
