#include "lib/gopls_build.h"

#include <charconv>

#include "lib/text_lines.h"

namespace wslgo {
namespace {

constexpr std::string_view kModulePath = "golang.org/x/tools/gopls ";

bool readNumber(std::string_view& text, unsigned& out) {
  const char* end = text.data() + text.size();
  auto [next, error] = std::from_chars(text.data(), end, out);
  if (error != std::errc() || next == text.data()) return false;
  text.remove_prefix(static_cast<size_t>(next - text.data()));
  return true;
}

}  // namespace

Result<GoplsBuild> parseGoplsInfoPage(std::string_view html) {
  const size_t block = html.find("Build info");
  if (block == std::string_view::npos) {
    return parseError({}, "no \"Build info\" section: not a gopls /info page");
  }
  GoplsBuild build;
  bool haveVersion = false;
  for (const TextLine& raw : TextLines(html.substr(block))) {
    std::string_view line = trimWhitespace(raw.text);
    if (line.starts_with("</pre>")) break;
    if (!haveVersion && line.starts_with(kModulePath)) {
      build.version = std::string(trimWhitespace(line.substr(kModulePath.size())));
      haveVersion = !build.version.empty();
    } else if (line.starts_with("go: ")) {
      build.goVersion = std::string(trimWhitespace(line.substr(4)));
    }
  }
  if (!haveVersion) {
    return parseError({}, "the \"Build info\" section names no golang.org/x/tools/gopls version");
  }
  return build;
}

std::optional<GoplsRelease> parseGoplsRelease(std::string_view version) {
  if (!version.starts_with('v')) return std::nullopt;
  version.remove_prefix(1);
  GoplsRelease release;
  if (!readNumber(version, release.major) || !version.starts_with('.')) return std::nullopt;
  version.remove_prefix(1);
  if (!readNumber(version, release.minor) || !version.starts_with('.')) return std::nullopt;
  version.remove_prefix(1);
  if (!readNumber(version, release.patch)) return std::nullopt;
  if (!version.empty() && version.front() != '-' && version.front() != '+') return std::nullopt;
  return release;
}

std::optional<bool> releaseHasFileCache(std::string_view version) {
  auto release = parseGoplsRelease(version);
  if (!release) return std::nullopt;
  return *release >= GoplsRelease{.major = 0, .minor = 12, .patch = 0};
}

}  // namespace wslgo
