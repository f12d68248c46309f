#include "lib/file_uri.h"

namespace wslgo {
namespace {

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

Result<std::string> fileUriToPath(std::string_view uri) {
  constexpr std::string_view kScheme = "file://";
  std::string shown(uri.substr(0, 200));
  if (uri.size() < kScheme.size() || uri.substr(0, kScheme.size()) != kScheme) {
    return fieldError("", "URI", shown, "is not a file:// URI");
  }
  std::string_view rest = uri.substr(kScheme.size());
  size_t slash = rest.find('/');
  if (slash == std::string_view::npos) {
    return fieldError("", "URI", shown, "has no path");
  }
  std::string_view host = rest.substr(0, slash);
  if (!host.empty() && host != "localhost") {
    return fieldError("", "URI", shown, "names another host; only local files are served");
  }
  std::string_view encoded = rest.substr(slash);
  if (size_t cut = encoded.find_first_of("?#"); cut != std::string_view::npos) {
    encoded = encoded.substr(0, cut);
  }
  std::string path;
  path.reserve(encoded.size());
  for (size_t i = 0; i < encoded.size(); ++i) {
    if (encoded[i] != '%') {
      path.push_back(encoded[i]);
      continue;
    }
    int high = i + 2 < encoded.size() ? hexValue(encoded[i + 1]) : -1;
    int low = i + 2 < encoded.size() ? hexValue(encoded[i + 2]) : -1;
    if (high < 0 || low < 0) return fieldError("", "URI", shown, "has a malformed %-escape");
    char decoded = static_cast<char>(high * 16 + low);
    if (decoded == '\0') return fieldError("", "URI", shown, "has an escaped NUL");
    path.push_back(decoded);
    i += 2;
  }
  return path;
}

}  // namespace wslgo
