#include "lib/lsp_frame.h"

#include <charconv>

namespace wslgo {
namespace {

constexpr std::string_view kHeaderEnd = "\r\n\r\n";
constexpr std::string_view kLengthField = "content-length:";
// A header is a few short lines; one this long is not LSP.
constexpr size_t kMaxHeaderBytes = 4096;

bool startsWithCaseless(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    char c = text[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != prefix[i]) return false;
  }
  return true;
}

}  // namespace

std::string frameLspMessage(std::string_view json) {
  std::string out = "Content-Length: " + std::to_string(json.size()) + "\r\n\r\n";
  out += json;
  return out;
}

Result<std::optional<LspFrame>> splitLspFrame(std::string_view buffer, size_t maxBodyBytes) {
  const size_t end = buffer.find(kHeaderEnd);
  if (end == std::string_view::npos) {
    if (buffer.size() > kMaxHeaderBytes) {
      return parseError("LSP header", "no end of header within 4096 bytes");
    }
    return std::optional<LspFrame>();
  }
  std::string_view header = buffer.substr(0, end);
  std::optional<size_t> length;
  while (!header.empty()) {
    const size_t newline = header.find("\r\n");
    std::string_view line = header.substr(0, newline);
    header.remove_prefix(newline == std::string_view::npos ? header.size() : newline + 2);
    if (!startsWithCaseless(line, kLengthField)) continue;
    std::string_view value = line.substr(kLengthField.size());
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    size_t parsed = 0;
    auto [next, error] = std::from_chars(value.data(), value.data() + value.size(), parsed);
    if (error != std::errc() || next != value.data() + value.size() || value.empty()) {
      return parseError("LSP header",
                        "Content-Length \"" + std::string(value) + "\" is not a number");
    }
    length = parsed;
  }
  if (!length) return parseError("LSP header", "no Content-Length");
  if (*length > maxBodyBytes) {
    return parseError("LSP header", "a message of " + std::to_string(*length) +
                                        " bytes is over the limit of " +
                                        std::to_string(maxBodyBytes));
  }
  const size_t bodyStart = end + kHeaderEnd.size();
  if (buffer.size() - bodyStart < *length) return std::optional<LspFrame>();
  return std::optional<LspFrame>(
      LspFrame{.body = buffer.substr(bodyStart, *length), .consumed = bodyStart + *length});
}

}  // namespace wslgo
