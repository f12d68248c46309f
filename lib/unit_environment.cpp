#include "lib/unit_environment.h"

namespace wslgo {
namespace {

bool isShellName(std::string_view key) {
  if (key.empty() || (key.front() >= '0' && key.front() <= '9')) return false;
  for (char c : key) {
    bool ok =
        (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

Result<void> appendLine(std::string& out, std::string_view key, std::string_view value) {
  if (!isShellName(key)) {
    return parseError(std::string(key),
                      "not a valid environment variable name (letters, digits and _ only, not "
                      "starting with a digit)");
  }
  if (value.find_first_of("\n\r") != std::string_view::npos ||
      value.find('\0') != std::string_view::npos) {
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
  lines["WSLGO_DEBUG_ADDRESS"] = environment.debugAddress;
  if (!environment.goplsPath.empty()) lines["WSLGO_GOPLS"] = environment.goplsPath;
  if (environment.gomemlimit) lines["GOMEMLIMIT"] = std::to_string(*environment.gomemlimit);
  for (const auto& [key, value] : lines) {
    if (auto appended = appendLine(out, key, value); !appended) return appended.error();
  }
  return out;
}

}  // namespace wslgo
