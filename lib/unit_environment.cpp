#include "lib/unit_environment.h"

#include <charconv>

#include <nlohmann/json.hpp>

#include "lib/text_lines.h"
#include "lib/unit_name.h"

namespace wslgo {
namespace {

Result<void> appendLine(std::string& out, std::string_view key, std::string_view value) {
  if (!isShellName(key)) {
    return parseError(std::string(key),
                      "not a valid environment variable name (letters, digits and _ only, not "
                      "starting with a digit)");
  }
  if (!isSingleLineValue(value)) {
    return parseError(std::string(key),
                      "the value spans several lines; a unit's environment takes single lines");
  }
  out += key;
  out += "=\"";
  for (char c : value) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += "\"\n";
  return {};
}

}  // namespace

bool isShellName(std::string_view name) {
  if (name.empty() || (name.front() >= '0' && name.front() <= '9')) return false;
  for (char c : name) {
    bool ok =
        (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

bool isSingleLineValue(std::string_view value) {
  return value.find_first_of("\n\r") == std::string_view::npos &&
         value.find('\0') == std::string_view::npos;
}

std::optional<uint64_t> gomemlimitFor(const WorkspaceSettings& settings) {
  if (settings.gomemlimit) return settings.gomemlimit;
  if (settings.memory.high) return static_cast<uint64_t>(*settings.memory.high * 0.9);
  return std::nullopt;
}

Result<std::string> renderUnitEnvironment(const UnitEnvironment& environment) {
  std::string out =
      "# Written by wslgo-guard for its wslgo-gopls@ unit; rewritten on every start.\n";
  std::map<std::string, std::string> lines = environment.env;
  // Ours win over the config's env: the unit must listen where the guard looks for it.
  lines["WSLGO_WORKSPACE"] = environment.workspace;
  lines["WSLGO_SOCKET"] = environment.socket;
  // Only whether: the launcher picks the port afresh at every start.
  lines["WSLGO_DEBUG_SERVER"] = environment.debugServer ? "1" : "0";
  if (!environment.goplsPath.empty()) lines["WSLGO_GOPLS"] = environment.goplsPath;
  if (environment.gomemlimit) lines["GOMEMLIMIT"] = std::to_string(*environment.gomemlimit);
  if (environment.oomScoreAdjust) {
    lines[std::string(kOomScoreAdjustVariable)] = std::to_string(*environment.oomScoreAdjust);
  }
  // A JSON array keeps arguments with spaces or quotes intact on the file's one line.
  if (!environment.goplsArgs.empty()) {
    lines["WSLGO_GOPLS_ARGS"] = nlohmann::json(environment.goplsArgs).dump();
  }
  for (const auto& [key, value] : lines) {
    if (auto appended = appendLine(out, key, value); !appended) return appended.error();
  }
  return out;
}

Result<std::string> unitEnvironmentFile(std::string_view guardStateDir,
                                        std::string_view workspace) {
  auto instance = escapeUnitPath(workspace);
  if (!instance) return instance.error();
  return std::string(guardStateDir) + "/units/" + *instance + ".env";
}

Result<std::map<std::string, std::string>> parseUnitEnvironment(std::string_view text) {
  std::map<std::string, std::string> out;
  size_t number = 0;
  Result<void> failed;
  forEachLine(text, [&](std::string_view line) {
    ++number;
    if (!failed) return;
    line = trimWhitespace(line);
    if (line.empty() || line.front() == '#') return;
    const size_t equals = line.find('=');
    const std::string where = "line " + std::to_string(number);
    if (equals == std::string_view::npos || !isShellName(line.substr(0, equals))) {
      failed = parseError(where, "expected KEY=\"VALUE\" with a shell variable name");
      return;
    }
    std::string_view raw = line.substr(equals + 1);
    std::string value;
    if (raw.size() >= 2 && raw.front() == '"' && raw.back() == '"') {
      for (size_t i = 1; i + 1 < raw.size(); ++i) {
        if (raw[i] == '\\' && i + 2 < raw.size()) ++i;
        value += raw[i];
      }
    } else if (!raw.empty() && raw.front() == '"') {
      failed = parseError(where, "the quoted value has no closing quote");
      return;
    } else {
      value = raw;
    }
    out[std::string(line.substr(0, equals))] = std::move(value);
  });
  if (!failed) return failed.error();
  return out;
}

Result<std::optional<int>> oomScoreAdjustFrom(const std::map<std::string, std::string>& variables) {
  auto found = variables.find(std::string(kOomScoreAdjustVariable));
  if (found == variables.end()) return std::optional<int>();
  const std::string& text = found->second;
  int value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size() || value < -1000 ||
      value > 1000) {
    return parseError(std::string(kOomScoreAdjustVariable),
                      "\"" + text +
                          "\" is not an OOM score adjustment (a whole number from -1000 to 1000); "
                          "set workspaces.*.oom_score_adjust and let wslgo-guard rewrite the file");
  }
  return std::optional<int>(value);
}

}  // namespace wslgo
