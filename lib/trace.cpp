#include "lib/trace.h"

#include <cerrno>
#include <limits>

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
  std::string at(const char* key) const { return pointer_ + "/" + key; }

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
  Result<Usec> time() const {
    auto value = bytes("t_us");
    if (!value) return value.error();
    if (!*value) return parseError(at("t_us"), "every line needs its time in microseconds");
    if (**value > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return parseError(at("t_us"), "time out of range");
    }
    return Usec(static_cast<int64_t>(**value));
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

Result<ActionKind> actionFrom(const Reader& reader, const char* key) {
  std::optional<std::string> name;
  WSLGO_TRY(name, reader.string(key));
  auto action = name ? parseActionKind(*name) : std::nullopt;
  if (!action) return parseError(reader.at(key), "expected \"gc\", \"trim\" or \"restart\"");
  return *action;
}

Result<WorkspaceSnapshot> workspaceFrom(const Json& json, const std::string& pointer) {
  if (!json.is_object()) return parseError(pointer, "expected an object per workspace");
  Reader reader(json, pointer);
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
  return workspace;
}

Result<Snapshot> snapshotFrom(const Json& json) {
  Reader reader(json, "");
  Snapshot snapshot;
  WSLGO_TRY(snapshot.now, reader.time());
  if (const Json* system = reader.find("system")) {
    if (!system->is_object()) return parseError("/system", "expected an object");
    Reader sys(*system, "/system");
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
  if (const Json* ok = reader.find("ok")) {
    if (!ok->is_boolean()) return parseError("/ok", "expected true or false");
    outcome.success = ok->get<bool>();
  }
  return outcome;
}

Result<SimulationModel> modelFrom(const Json& json) {
  Reader reader(json, "");
  SimulationModel model;
  std::optional<double> share;
  WSLGO_TRY(share, reader.number("gc_frees"));
  model.gcFrees = share.value_or(0);
  WSLGO_TRY(share, reader.number("trim_frees"));
  model.trimFrees = share.value_or(0);
  if (model.gcFrees < 0 || model.gcFrees > 1 || model.trimFrees < 0 || model.trimFrees > 1) {
    return parseError("/gc_frees", "shares freed are between 0 and 1");
  }
  WSLGO_TRY(model.restartTo, reader.bytes("restart_to"));
  return model;
}

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
  json["ok"] = outcome.success;
  return json.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string serializeModel(const SimulationModel& model) {
  Json json;
  json["type"] = "model";
  json["gc_frees"] = model.gcFrees;
  json["trim_frees"] = model.trimFrees;
  putBytes(json, "restart_to", model.restartTo);
  return json.dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace wslgo
