#include "lib/unit_name.h"

#include <climits>
#include <string_view>
#include <vector>

namespace wslgo {
namespace {

constexpr size_t kNameMax = NAME_MAX;  // one path component
constexpr size_t kPathMax = PATH_MAX;  // counts the terminating NUL, as systemd counts it

bool isPlainUnitChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ':' ||
         c == '_' || c == '.';
}

void appendEscapedByte(std::string& out, char c) {
  constexpr std::string_view kHex = "0123456789abcdef";
  auto byte = static_cast<unsigned char>(c);
  out += "\\x";
  out += kHex[byte >> 4];
  out += kHex[byte & 0xf];
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Splits an absolute path into its components the way systemd's path_simplify sees them:
// empty and "." components vanish. Returns the first problem that makes systemd refuse the path.
Result<std::vector<std::string_view>> simplifiedComponents(std::string_view path,
                                                           const std::string& shown) {
  std::vector<std::string_view> components;
  size_t length = 0;  // of the simplified path, "/" + components joined by "/"
  size_t at = 0;
  while (at < path.size()) {
    size_t end = path.find('/', at);
    if (end == std::string_view::npos) end = path.size();
    std::string_view component = path.substr(at, end - at);
    at = end + 1;
    if (component.empty() || component == ".") continue;
    if (component == "..") {
      return parseError(shown,
                        "has a \"..\" component, which a systemd unit name cannot carry; resolve "
                        "the path (realpath) first");
    }
    if (component.size() > kNameMax) {
      return parseError(shown, "has a component longer than " + std::to_string(kNameMax) +
                                   " bytes, which systemd refuses; use a shorter path");
    }
    length += 1 + component.size();
    components.push_back(component);
  }
  if (length >= kPathMax) {
    return parseError(shown, "is " + std::to_string(length) +
                                 " bytes long; systemd accepts paths "
                                 "shorter than " +
                                 std::to_string(kPathMax) + " bytes");
  }
  return components;
}

}  // namespace

Result<std::string> escapeUnitPath(std::string_view absolutePath) {
  std::string shown(absolutePath);
  if (absolutePath.empty() || absolutePath.front() != '/') {
    return parseError(shown, "is not an absolute path; pass the path from the root, \"/...\"");
  }
  if (absolutePath.find('\0') != std::string_view::npos) {
    return parseError(shown, "contains a NUL byte, which no path can hold");
  }
  auto components = simplifiedComponents(absolutePath, shown);
  if (!components) return components.error();
  if (components->empty()) return std::string("-");

  std::string out;
  out.reserve(absolutePath.size() * 2);
  for (size_t i = 0; i < components->size(); ++i) {
    if (i > 0) out += '-';
    std::string_view component = (*components)[i];
    for (size_t j = 0; j < component.size(); ++j) {
      char c = component[j];
      // systemd escapes a leading '.' of the whole name only, so no unit name is hidden.
      bool leadingDot = i == 0 && j == 0 && c == '.';
      if (leadingDot || !isPlainUnitChar(c)) {
        appendEscapedByte(out, c);
      } else {
        out += c;
      }
    }
  }
  return out;
}

Result<std::string> unescapeUnitPath(std::string_view escaped) {
  std::string shown(escaped);
  if (escaped.empty()) return parseError(shown, "is empty; an escaped path is at least \"-\"");
  if (escaped == "-") return std::string("/");

  std::string path = "/";
  path.reserve(escaped.size() + 1);
  for (size_t i = 0; i < escaped.size(); ++i) {
    char c = escaped[i];
    if (c == '-') {
      path += '/';
    } else if (c == '\\') {
      int high = i + 3 < escaped.size() && escaped[i + 1] == 'x' ? hexValue(escaped[i + 2]) : -1;
      int low = high >= 0 ? hexValue(escaped[i + 3]) : -1;
      if (low < 0) {
        return parseError(shown, "has a '\\' at byte " + std::to_string(i) +
                                     " that does not start a \\xNN escape");
      }
      if (high == 0 && low == 0) {
        return parseError(shown, "escapes a NUL byte (\\x00), which no path can hold");
      }
      path += static_cast<char>((high << 4) | low);
      i += 3;
    } else {
      path += c;
    }
  }

  if (path.size() > 1 && (path[1] == '/' || path.back() == '/')) {
    return parseError(shown, "starts or ends with '-', so it is not an escaped path");
  }
  // Normalized means simplifying would change nothing: no "//", no "." or ".." components.
  auto components = simplifiedComponents(path, shown);
  if (!components) return components.error();
  size_t joined = components->size();  // the slashes
  for (std::string_view component : *components) joined += component.size();
  if (joined != path.size()) {
    return parseError(shown, "unescapes to \"" + path +
                                 "\", which has an empty or \".\" component; it is not the "
                                 "escape of a normalized path");
  }
  return path;
}

Result<std::string> workspaceUnitName(std::string_view workspaceRoot) {
  auto escaped = escapeUnitPath(workspaceRoot);
  if (!escaped) return escaped.error();
  std::string name;
  name.reserve(kWorkspaceUnitPrefix.size() + escaped->size() + kWorkspaceUnitSuffix.size());
  name += kWorkspaceUnitPrefix;
  name += *escaped;
  name += kWorkspaceUnitSuffix;
  if (name.size() >= kUnitNameMax) {
    return errnoError(ENAMETOOLONG, std::string(workspaceRoot),
                      "gives a unit name of " + std::to_string(name.size()) +
                          " bytes, but systemd allows at most " + std::to_string(kUnitNameMax - 1) +
                          "; move the workspace to a shorter path");
  }
  return name;
}

}  // namespace wslgo
