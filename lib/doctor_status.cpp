#include "lib/doctor_status.h"

#include <nlohmann/json.hpp>

namespace wslgo {
namespace {

using Json = nlohmann::json;

// Thrown inside the parser only, turned into an Error at its boundary.
struct FieldProblem {
  std::string pointer;
  std::string expected;
};

const Json& member(const Json& object, const std::string& pointer, const char* key) {
  auto found = object.find(key);
  if (found == object.end()) throw FieldProblem{pointer + "/" + key, "present"};
  return *found;
}

std::string stringAt(const Json& object, const std::string& pointer, const char* key) {
  const Json& value = member(object, pointer, key);
  if (!value.is_string()) throw FieldProblem{pointer + "/" + key, "a string"};
  return value.get<std::string>();
}

// A string that may be absent or null (fields added after the first release of the schema).
std::string optionalStringAt(const Json& object, const char* key) {
  auto found = object.find(key);
  if (found == object.end() || !found->is_string()) return {};
  return found->get<std::string>();
}

std::optional<uint64_t> optionalNumberAt(const Json& object, const std::string& pointer,
                                         const char* key) {
  auto found = object.find(key);
  if (found == object.end() || found->is_null()) return std::nullopt;
  if (!found->is_number_unsigned() && !found->is_number_integer()) {
    throw FieldProblem{pointer + "/" + key, "a number or null"};
  }
  if (found->is_number_integer() && found->get<int64_t>() < 0) {
    throw FieldProblem{pointer + "/" + key, "not negative"};
  }
  return found->get<uint64_t>();
}

bool boolAt(const Json& object, const char* key) {
  auto found = object.find(key);
  return found != object.end() && found->is_boolean() && found->get<bool>();
}

StatusWorkspace parseWorkspace(const Json& w, const std::string& pointer) {
  if (!w.is_object()) throw FieldProblem{pointer, "an object"};
  StatusWorkspace out;
  out.path = stringAt(w, pointer, "path");
  out.unit = optionalStringAt(w, "unit");
  out.socket = stringAt(w, pointer, "socket");
  out.editorFlags = optionalStringAt(w, "editor_flags");
  if (out.editorFlags.empty()) out.editorFlags = "-remote=unix;" + out.socket;
  out.debugAddress = optionalStringAt(w, "debug_address");
  out.state = optionalStringAt(w, "state");
  out.memorySource = optionalStringAt(w, "memory_source");
  out.gomemlimit = optionalNumberAt(w, pointer, "gomemlimit");
  if (auto rungs = w.find("rungs"); rungs != w.end() && rungs->is_object()) {
    for (const auto& [name, rung] : rungs->items()) {
      if (!rung.is_object()) continue;
      out.rungs.push_back({.name = name,
                           .available = boolAt(rung, "available"),
                           .why = optionalStringAt(rung, "why")});
    }
  }
  for (const char* name : {"memory_high", "memory_max", "cpu_weight", "io_weight"}) {
    auto control = w.find(name);
    if (control == w.end() || !control->is_object()) continue;
    out.controls.push_back({.name = name,
                            .value = optionalNumberAt(*control, pointer + "/" + name, "value"),
                            .enforced = boolAt(*control, "enforced"),
                            .why = optionalStringAt(*control, "why")});
  }
  if (auto oom = w.find("oom_score_adj"); oom != w.end() && oom->is_object()) {
    for (auto [key, field] : {std::pair{"configured", &out.oomScoreAdjConfigured},
                              std::pair{"effective", &out.oomScoreAdjEffective}}) {
      auto value = oom->find(key);
      if (value != oom->end() && value->is_number_integer()) *field = value->get<int64_t>();
    }
  }
  if (auto gopls = w.find("gopls"); gopls != w.end() && gopls->is_object()) {
    StatusGopls g;
    g.version = optionalStringAt(*gopls, "version");
    g.gcPage = boolAt(*gopls, "gc_page");
    if (auto memStats = gopls->find("mem_stats");
        memStats != gopls->end() && memStats->is_boolean()) {
      g.memStats = memStats->get<bool>();
    }
    g.fileCache = optionalStringAt(*gopls, "file_cache");
    out.gopls = g;
  }
  return out;
}

}  // namespace

Result<GuardStatus> parseGuardStatus(std::string_view json) {
  Json root = Json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded()) return parseError({}, "GetStatus did not answer valid JSON");
  if (!root.is_object()) return parseError("/", "GetStatus' answer is not a JSON object");
  try {
    GuardStatus out;
    const Json& schema = member(root, "", "schema_version");
    if (!schema.is_number_integer()) throw FieldProblem{"/schema_version", "a whole number"};
    out.schemaVersion = schema.get<int>();
    if (out.schemaVersion != 1) {
      return parseError("/schema_version", "expected schema_version 1 (docs/dbus-api.md), got " +
                                               std::to_string(out.schemaVersion) +
                                               ": this wslgo-guardctl is older than the guard");
    }
    out.version = optionalStringAt(root, "version");
    out.state = optionalStringAt(root, "state");
    const Json& workspaces = member(root, "", "workspaces");
    if (!workspaces.is_array()) throw FieldProblem{"/workspaces", "an array"};
    for (size_t i = 0; i < workspaces.size(); ++i) {
      out.workspaces.push_back(parseWorkspace(workspaces[i], "/workspaces/" + std::to_string(i)));
    }
    return out;
  } catch (const FieldProblem& problem) {
    return parseError(problem.pointer, "GetStatus: expected " + problem.expected);
  } catch (const nlohmann::json::exception& e) {
    return parseError({}, std::string("GetStatus: ") + e.what());
  }
}

std::vector<std::string> workspaceRootsIn(std::string_view json) {
  const Json root = Json::parse(json, nullptr, /*allow_exceptions=*/false);
  std::vector<std::string> roots;
  const auto workspaces = root.is_object() ? root.find("workspaces") : root.end();
  if (workspaces == root.end() || !workspaces->is_array()) return roots;
  for (const Json& workspace : *workspaces) {
    const auto path = workspace.is_object() ? workspace.find("path") : workspace.end();
    if (path != workspace.end() && path->is_string()) roots.push_back(path->get<std::string>());
  }
  return roots;
}

}  // namespace wslgo
