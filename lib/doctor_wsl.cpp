#include "lib/doctor_wsl.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "lib/text_lines.h"

namespace wslgo {
namespace {

std::string lowered(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool equalsIgnoringCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && lowered(a) == lowered(b);
}

struct KernelVersion {
  unsigned major = 0;
  unsigned minor = 0;
};

std::optional<KernelVersion> kernelVersion(std::string_view release) {
  KernelVersion version;
  const char* end = release.data() + release.size();
  auto [afterMajor, majorError] = std::from_chars(release.data(), end, version.major);
  if (majorError != std::errc() || afterMajor == end || *afterMajor != '.') return std::nullopt;
  auto [afterMinor, minorError] = std::from_chars(afterMajor + 1, end, version.minor);
  if (minorError != std::errc() || afterMinor == afterMajor + 1) return std::nullopt;
  return version;
}

}  // namespace

std::string_view toString(WslKind kind) {
  switch (kind) {
    case WslKind::NotWsl:
      return "not WSL";
    case WslKind::Wsl1:
      return "WSL 1";
    case WslKind::Wsl2:
      return "WSL 2";
  }
  return "not WSL";
}

WslKind classifyWsl(const WslSigns& signs) {
  const std::string release = lowered(signs.osRelease);
  const bool namesMicrosoft =
      release.find("microsoft") != std::string::npos || release.find("wsl") != std::string::npos;
  if (!namesMicrosoft && !signs.interop && signs.distroName.empty()) return WslKind::NotWsl;
  if (release.find("wsl2") != std::string::npos ||
      release.find("microsoft-standard") != std::string::npos) {
    return WslKind::Wsl2;
  }
  auto version = kernelVersion(release);
  if (version && (version->major > 4 || (version->major == 4 && version->minor >= 19))) {
    return WslKind::Wsl2;
  }
  if (version && namesMicrosoft) return WslKind::Wsl1;
  // Signs of WSL beside a release that names neither: only WSL 2 runs a custom kernel.
  return WslKind::Wsl2;
}

std::optional<std::string> iniValue(std::string_view text, std::string_view section,
                                    std::string_view key) {
  std::optional<std::string> found;
  bool inSection = false;
  for (const TextLine& raw : TextLines(text)) {
    std::string_view line = trimWhitespace(raw.text);
    if (line.empty() || line.front() == '#' || line.front() == ';') continue;
    if (line.front() == '[') {
      size_t close = line.find(']');
      inSection = close != std::string_view::npos &&
                  equalsIgnoringCase(trimWhitespace(line.substr(1, close - 1)), section);
      continue;
    }
    if (!inSection) continue;
    size_t equals = line.find('=');
    if (equals == std::string_view::npos) continue;
    if (!equalsIgnoringCase(trimWhitespace(line.substr(0, equals)), key)) continue;
    std::string_view value = line.substr(equals + 1);
    size_t comment = value.find_first_of("#;");
    if (comment != std::string_view::npos) value = value.substr(0, comment);
    value = trimWhitespace(value);
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    found = std::string(value);
  }
  return found;
}

bool iniTrue(std::string_view value) {
  const std::string v = lowered(trimWhitespace(value));
  return v == "true" || v == "1" || v == "yes" || v == "on";
}

}  // namespace wslgo
