#include "lib/workspace_registry.h"

#include <algorithm>
#include <initializer_list>
#include <limits>
#include <optional>

#include <nlohmann/json.hpp>

#include "lib/config_layers.h"

#include "lib/json_nesting.h"
#include "lib/settings_file.h"
#include "lib/unit_name.h"

namespace wslgo {
namespace {

using json = nlohmann::json;

constexpr std::string_view kStateHint =
    "fix the state file by hand, or remove it to start with no workspaces";

Error atPointer(const std::string& pointer, const std::string& message) {
  return parseError(pointer.empty() ? "/" : pointer, message + "; " + std::string(kStateHint));
}

// The first key of `object` not in `known`, as an error at its pointer.
std::optional<Error> unknownKey(const json& object, const std::string& pointer,
                                std::initializer_list<std::string_view> known) {
  for (const auto& item : object.items()) {
    if (std::find(known.begin(), known.end(), item.key()) == known.end()) {
      return atPointer(pointer + "/" + pointerToken(item.key()),
                       "unknown key \"" + item.key() + "\"");
    }
  }
  return std::nullopt;
}

Result<const json*> member(const json& object, const std::string& pointer, const char* key) {
  auto it = object.find(key);
  if (it == object.end()) return atPointer(pointer + "/" + key, "missing");
  return &*it;
}

Result<uint64_t> unsignedAt(const json& value, const std::string& pointer, uint64_t max) {
  // nlohmann keeps integers that fit uint64 exactly; larger ones and fractions become floats.
  if (!value.is_number_unsigned() && !(value.is_number_integer() && value.get<int64_t>() >= 0)) {
    return atPointer(pointer, "expected a whole number from 0 to " + std::to_string(max) +
                                  ", found " +
                                  value.dump(-1, ' ', false, json::error_handler_t::replace));
  }
  auto number = value.get<uint64_t>();
  if (number > max) {
    return atPointer(pointer,
                     std::to_string(number) + " is above the limit " + std::to_string(max));
  }
  return number;
}

Result<std::string> stringAt(const json& value, const std::string& pointer) {
  if (!value.is_string()) {
    return atPointer(pointer, std::string("expected a string, found ") + value.type_name());
  }
  return value.get<std::string>();
}

Result<std::string> absolutePathAt(const json& value, const std::string& pointer) {
  auto text = stringAt(value, pointer);
  if (!text) return text;
  if (text->empty() || text->front() != '/' || text->find('\0') != std::string::npos) {
    return atPointer(pointer, "expected an absolute path, found \"" + *text + "\"");
  }
  return text;
}

Result<WorkspaceRecord> parseWorkspace(const json& value, const std::string& pointer) {
  if (!value.is_object()) {
    return atPointer(pointer, std::string("expected an object, found ") + value.type_name());
  }
  if (auto unknown = unknownKey(
          value, pointer, {"path", "unit", "socket", "debug_port", "added_usec", "options"})) {
    return *unknown;
  }
  WorkspaceRecord record;

  auto path = member(value, pointer, "path");
  if (!path) return path.error();
  auto pathText = absolutePathAt(**path, pointer + "/path");
  if (!pathText) return pathText.error();
  record.path = std::move(*pathText);

  // The unit is derived from the path, never taken from the file: a state file naming another
  // unit would have the guard start and stop a unit that is not its own. The key is still
  // written (people read it) and, when present, must be a string.
  if (auto unit = value.find("unit"); unit != value.end()) {
    auto unitText = stringAt(*unit, pointer + "/unit");
    if (!unitText) return unitText.error();
  }
  auto derived = workspaceUnitName(record.path);
  if (!derived) return atPointer(pointer + "/path", derived.error().message);
  record.unit = std::move(*derived);

  auto socket = member(value, pointer, "socket");
  if (!socket) return socket.error();
  auto socketText = absolutePathAt(**socket, pointer + "/socket");
  if (!socketText) return socketText.error();
  record.socket = std::move(*socketText);

  // "debug_port", written before the launcher picked a fresh port at every start, is ignored:
  // a port recorded then may belong to anyone now.

  auto added = member(value, pointer, "added_usec");
  if (!added) return added.error();
  auto addedNumber =
      unsignedAt(**added, pointer + "/added_usec", std::numeric_limits<uint64_t>::max());
  if (!addedNumber) return addedNumber.error();
  record.addedUsec = *addedNumber;

  if (auto options = value.find("options"); options != value.end()) {
    std::string optionsPointer = pointer + "/options";
    if (!options->is_object()) {
      return atPointer(optionsPointer,
                       std::string("expected an object of strings, found ") + options->type_name());
    }
    for (const auto& item : options->items()) {
      auto text = stringAt(item.value(), optionsPointer + "/" + pointerToken(item.key()));
      if (!text) return text.error();
      record.options.emplace(item.key(), std::move(*text));
    }
  }
  return record;
}

}  // namespace

Result<Registry> parseRegistry(std::string_view text) {
  // Checked before parsing: the parser's copies recurse, and a hostile 300,000-deep file would
  // overflow the stack at every start of the guard.
  if (text.size() > kMaxSettingsBytes) {
    return atPointer("", "the file is " + std::to_string(text.size()) +
                             " bytes; a state file of at most 256 workspaces is far below " +
                             std::to_string(kMaxSettingsBytes));
  }
  if (!jsonNestingWithin(text, kMaxSettingsNesting)) {
    return atPointer("", "nested deeper than " + std::to_string(kMaxSettingsNesting) +
                             " levels, which no state file written by the guard is");
  }
  json document;
  try {
    document = json::parse(text.begin(), text.end());
  } catch (const json::exception& error) {
    std::string reason = error.what();
    size_t colon = reason.find(": ");
    if (colon != std::string::npos) reason = reason.substr(colon + 2);
    return atPointer("", "not valid JSON: " + reason);
  }
  if (!document.is_object()) {
    return atPointer("", std::string("expected an object, found ") + document.type_name());
  }

  // The version first: a newer schema may have keys this one calls unknown.
  auto version = member(document, "", "schema_version");
  if (!version) return version.error();
  if (!(*version)->is_number_integer() || (*version)->get<int64_t>() != kRegistrySchemaVersion) {
    return parseError("/schema_version",
                      "schema " + (*version)->dump(-1, ' ', false, json::error_handler_t::replace) +
                          " is not one this wslgo-guard reads (it reads " +
                          std::to_string(kRegistrySchemaVersion) +
                          "); a newer wslgo-guard wrote it: upgrade wslgo-guard, or remove the "
                          "state file and add the workspaces again");
  }
  if (auto unknown = unknownKey(document, "", {"schema_version", "workspaces"})) return *unknown;

  Registry registry;
  auto workspaces = member(document, "", "workspaces");
  if (!workspaces) return workspaces.error();
  if (!(*workspaces)->is_array()) {
    return atPointer("/workspaces",
                     std::string("expected an array, found ") + (*workspaces)->type_name());
  }
  std::map<std::string, size_t> seen;  // path -> index where it first appears
  for (size_t i = 0; i < (*workspaces)->size(); ++i) {
    std::string pointer = "/workspaces/" + std::to_string(i);
    auto record = parseWorkspace((**workspaces)[i], pointer);
    if (!record) return record.error();
    auto [first, inserted] = seen.emplace(record->path, i);
    if (!inserted) {
      return atPointer(pointer + "/path", "\"" + record->path + "\" is already /workspaces/" +
                                              std::to_string(first->second) + "/path");
    }
    registry.workspaces.push_back(std::move(*record));
  }
  return registry;
}

std::string serializeRegistry(const Registry& registry) {
  // ordered_json keeps the keys in the order written: path first reads best.
  using ordered = nlohmann::ordered_json;
  std::vector<const WorkspaceRecord*> sorted;
  sorted.reserve(registry.workspaces.size());
  for (const auto& record : registry.workspaces) sorted.push_back(&record);
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const auto* a, const auto* b) { return a->path < b->path; });

  ordered workspaces = ordered::array();
  for (const auto* record : sorted) {
    ordered options = ordered::object();
    for (const auto& [key, value] : record->options) options[key] = value;
    ordered entry = ordered::object();
    entry["path"] = record->path;
    entry["unit"] = record->unit;
    entry["socket"] = record->socket;
    entry["added_usec"] = record->addedUsec;
    entry["options"] = std::move(options);
    workspaces.push_back(std::move(entry));
  }
  ordered document = ordered::object();
  document["schema_version"] = registry.schemaVersion;
  document["workspaces"] = std::move(workspaces);
  return document.dump(2, ' ', false, ordered::error_handler_t::replace) + "\n";
}

}  // namespace wslgo
