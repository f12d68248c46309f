// The ANSI SGR colours wslgo-guardctl paints with, in one place, so that status, watch and
// doctor say "warning" in the same yellow.
#pragma once

#include <string>
#include <string_view>

namespace wslgo::sgr {

inline constexpr std::string_view kBold = "1";
inline constexpr std::string_view kDim = "2";
inline constexpr std::string_view kRed = "31";
inline constexpr std::string_view kGreen = "32";
inline constexpr std::string_view kYellow = "33";
inline constexpr std::string_view kCyan = "36";
inline constexpr std::string_view kBoldRed = "1;31";

// `text` between the sequence and a reset when `colour`; as it is otherwise (and when empty, so
// that column widths measured on plain text stay right).
inline std::string paint(bool colour, std::string_view style, std::string_view text) {
  if (!colour || text.empty() || style.empty()) return std::string(text);
  std::string out;
  out.reserve(text.size() + style.size() + 7);
  out.append("\x1b[").append(style).append("m").append(text).append("\x1b[0m");
  return out;
}

}  // namespace wslgo::sgr
