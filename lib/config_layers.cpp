#include "lib/config_layers.h"

#include <cerrno>
#include <filesystem>
#include <utility>

#include "lib/settings_file.h"

namespace wslgo {
namespace {

using nlohmann::json;

void forgetOriginsBelow(MergedConfig& merged, const std::string& pointer) {
  std::string prefix = pointer + "/";
  auto it = merged.origin.lower_bound(prefix);
  while (it != merged.origin.end() && it->first.compare(0, prefix.size(), prefix) == 0) {
    it = merged.origin.erase(it);
  }
}

void setOrigin(MergedConfig& merged, const std::string& pointer, size_t layer) {
  forgetOriginsBelow(merged, pointer);
  merged.origin[pointer] = layer;
}

void mergeObject(MergedConfig& merged, json& target, const json& patch, const std::string& pointer,
                 size_t layer, bool keepNulls) {
  for (const auto& [key, value] : patch.items()) {
    std::string child = pointer + "/" + pointerToken(key);
    if (value.is_null()) {
      if (keepNulls) {
        target[key] = nullptr;
      } else {
        target.erase(key);
      }
      setOrigin(merged, child, layer);
    } else if (value.is_object()) {
      json& slot = target[key];
      if (!slot.is_object()) {
        slot = json::object();
        setOrigin(merged, child, layer);
      }
      bool childKeepsNulls = keepNulls || (pointer == "/workspaces" && key != "default");
      mergeObject(merged, slot, value, child, layer, childKeepsNulls);
    } else {
      target[key] = value;
      setOrigin(merged, child, layer);
    }
  }
}

std::string lineAndColumn(std::string_view text, size_t byte) {
  // nlohmann reports the 1-based index of the last byte it read.
  size_t end = std::min(byte > 0 ? byte - 1 : 0, text.size());
  size_t line = 1;
  size_t lineStart = 0;
  for (size_t i = 0; i < end; ++i) {
    if (text[i] == '\n') {
      ++line;
      lineStart = i + 1;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(end - lineStart + 1);
}

}  // namespace

size_t MergedConfig::layerOf(std::string_view pointer) const {
  for (;;) {
    auto it = origin.find(pointer);
    if (it != origin.end()) return it->second;
    size_t slash = pointer.rfind('/');
    if (slash == std::string_view::npos) return 0;
    pointer = pointer.substr(0, slash);
  }
}

std::string pointerToken(std::string_view key) {
  std::string out;
  out.reserve(key.size());
  for (char c : key) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

std::string displayPath(const std::string& path, const std::string& home) {
  if (home.empty() || home == "/") return path;
  if (path.size() > home.size() && path.compare(0, home.size(), home) == 0 &&
      path[home.size()] == '/') {
    return "~" + path.substr(home.size());
  }
  return path;
}

std::optional<nlohmann::json> parseConfigText(std::string_view text, const std::string& file,
                                              ConfigProblems& problems) {
  json document;
  try {
    // Comments are allowed: the /etc example a package ships is a file of them.
    document = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/true,
                           /*ignore_comments=*/true);
  } catch (const json::parse_error& error) {
    std::string reason = error.what();
    size_t colon = reason.find(": ");
    if (colon != std::string::npos) reason = reason.substr(colon + 2);
    problems.add(file, lineAndColumn(text, error.byte), "invalid JSON: " + reason);
    return std::nullopt;
  } catch (const json::exception& error) {
    problems.add(file, {}, std::string("invalid JSON: ") + error.what());
    return std::nullopt;
  }
  if (!document.is_object()) {
    problems.add(file, "/", "the top level must be a JSON object ({ ... })");
    return std::nullopt;
  }
  return document;
}

std::optional<std::string> workspaceRoot(std::string_view key, const std::string& home) {
  std::string path;
  if (key == "~" || key.substr(0, 2) == "~/") {
    if (home.empty()) return std::nullopt;
    path = home + std::string(key.substr(1));
  } else if (!key.empty() && key.front() == '/') {
    path = key;
  } else {
    return std::nullopt;
  }
  std::string normal = std::filesystem::path(path).lexically_normal().string();
  while (normal.size() > 1 && normal.back() == '/') normal.pop_back();
  return normal;
}

void normalizeWorkspaceKeys(nlohmann::json& layer, const std::string& file, const std::string& home,
                            ConfigProblems& problems) {
  auto workspaces = layer.find("workspaces");
  if (workspaces == layer.end() || !workspaces->is_object()) return;
  json normalized = json::object();
  std::map<std::string, std::string> spelledAs;
  for (auto& [key, value] : workspaces->items()) {
    std::string pointer = "/workspaces/" + pointerToken(key);
    if (key == "default") {
      normalized[key] = std::move(value);
      continue;
    }
    auto root = workspaceRoot(key, home);
    if (!root) {
      std::string message =
          "workspace key \"" + key + "\" must be an absolute path or start with \"~/\"";
      if (key.substr(0, 1) == "~" && home.empty())
        message += " ($HOME is not set, so \"~\" cannot be expanded)";
      problems.add(file, pointer, message);
      continue;
    }
    auto [previous, fresh] = spelledAs.emplace(*root, key);
    if (!fresh) {
      problems.add(file, pointer,
                   "\"" + key + "\" names the same workspace as \"" + previous->second +
                       "\"; keep one of them");
      continue;
    }
    normalized[*root] = std::move(value);
  }
  *workspaces = std::move(normalized);
}

void mergeConfigLayer(MergedConfig& merged, const nlohmann::json& patch, size_t layer) {
  if (merged.origin.empty()) merged.origin[""] = layer;
  mergeObject(merged, merged.document, patch, "", layer, false);
}

Result<MergedConfig> readConfigLayers(const std::vector<ConfigLayer>& layers,
                                      const std::string& home, ConfigProblems& problems) {
  MergedConfig merged;
  std::string buffer;
  for (const ConfigLayer& layer : layers) {
    std::string file = displayPath(layer.path, home);
    auto text = readSettingsFile(layer.path, buffer);
    if (!text) {
      int code = text.error().code;
      if (!layer.required && (code == ENOENT || code == ENOTDIR)) continue;
      // A FIFO, a device, a huge or absurdly nested file is refused before any parser sees it.
      const std::string why = code == EINVAL || code == EFBIG
                                  ? text.error().message
                                  : (layer.required ? "cannot read the default configuration; "
                                                      "reinstall wslgo-guard or point it at "
                                                      "config/default.json"
                                                    : "cannot read this configuration file; fix "
                                                      "its permissions or remove it");
      return errnoError(code, file, why);
    }
    auto document = parseConfigText(*text, file, problems);
    if (!document) continue;
    normalizeWorkspaceKeys(*document, file, home, problems);
    merged.files.push_back(file);
    merged.paths.push_back(layer.path);
    mergeConfigLayer(merged, *document, merged.files.size() - 1);
  }
  if (merged.files.empty() && problems.empty()) {
    return errnoError(ENOENT, {}, "no configuration file found");
  }
  return merged;
}

}  // namespace wslgo
