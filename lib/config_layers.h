// ConfigLayers: reads the configuration files and merges them, remembering who set what.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "lib/config.h"
#include "lib/config_problems.h"
#include "lib/result.h"

namespace wslgo {

// The layers merged into one document, the intermediate form between the files and Config.
// Layers merge like RFC 7386 merge patches: objects merge recursively, null removes, anything
// else replaces. Under a per-workspace override ("/workspaces/<root>/...") nulls are kept,
// because the override is itself a patch over "/workspaces/default" and its nulls must still
// switch default levels off when it is applied.
struct MergedConfig {
  nlohmann::json document = nlohmann::json::object();
  std::vector<std::string> files;  // the layers read, lowest first, as shown to a person
  std::vector<std::string> paths;  // the same layers as given
  // JSON pointer -> index into files of the layer that last set the value there, removed it
  // with null, or created the object. Replacing a value forgets the origins below it.
  std::map<std::string, size_t, std::less<>> origin;

  // The layer responsible for `pointer`: the origin of its longest recorded prefix.
  size_t layerOf(std::string_view pointer) const;
  const std::string& fileOf(std::string_view pointer) const { return files[layerOf(pointer)]; }
};

// Parses one layer: JSON, with // and /* */ comments allowed. A syntax error is a problem at
// "line L, column C" of `file`; a top level that is not an object is one at "/".
std::optional<nlohmann::json> parseConfigText(std::string_view text, const std::string& file,
                                              ConfigProblems& problems);

// Rewrites the keys of the layer's "/workspaces" object to absolute, normalized roots ("~/x" ->
// home + "/x", no trailing slash) so "~/x" in one layer and "/home/me/x" in another merge.
// Relative keys, and two keys naming the same root, are problems.
void normalizeWorkspaceKeys(nlohmann::json& layer, const std::string& file, const std::string& home,
                            ConfigProblems& problems);

// An absolute, lexically normal root for a workspace key; nullopt for a relative key or "~/"
// without a home.
std::optional<std::string> workspaceRoot(std::string_view key, const std::string& home);

// Merges one parsed layer (index `layer` into merged.files) over the document.
void mergeConfigLayer(MergedConfig& merged, const nlohmann::json& patch, size_t layer);

// Reads, parses and merges the layers, lowest first. A missing optional layer is skipped; any
// other failure to read (a missing required layer, a directory, no permission) is the returned
// Error. Content problems go to `problems` and the layer is left out.
Result<MergedConfig> readConfigLayers(const std::vector<ConfigLayer>& layers,
                                      const std::string& home, ConfigProblems& problems);

// The path with $HOME shown as "~".
std::string displayPath(const std::string& path, const std::string& home);

// A key escaped as one JSON pointer token (RFC 6901: "~" -> "~0", "/" -> "~1").
std::string pointerToken(std::string_view key);

}  // namespace wslgo
