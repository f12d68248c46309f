// Unit names: a workspace path as systemd escapes it (`systemd-escape --path`) and back.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "lib/result.h"

namespace wslgo {

// systemd's UNIT_NAME_MAX counts the terminating NUL: a unit name is at most 255 bytes.
inline constexpr size_t kUnitNameMax = 256;

inline constexpr std::string_view kWorkspaceUnitPrefix = "wslgo-gopls@";
inline constexpr std::string_view kWorkspaceUnitSuffix = ".service";

// Exactly what `systemd-escape --path` prints (systemd's unit_name_path_escape): the path is
// simplified (duplicate slashes, "." components and trailing slashes dropped), "/" becomes "-",
// the leading slash goes, '/' becomes '-', and '-', '\', a leading '.' and every byte outside
// [A-Za-z0-9:_.] become \xNN with lower-case hex. Fails where systemd fails: a ".." component, a
// component longer than 255 bytes, a path of PATH_MAX or more. Unlike systemd-escape, which only
// warns, a relative or empty path is an error too: it would unescape to a different path.
Result<std::string> escapeUnitPath(std::string_view absolutePath);

// The inverse, as `systemd-escape --unescape --path`: "-" is "/", otherwise '-' is '/', \xNN
// (either case of hex) is the byte, and the result must be a normalized absolute path. \x00 is
// rejected rather than truncating the path where systemd would.
Result<std::string> unescapeUnitPath(std::string_view escaped);

// "wslgo-gopls@" + escapeUnitPath(workspaceRoot) + ".service". A root whose unit name would not
// fit kUnitNameMax is an error naming the root and the limit: systemd would refuse the unit.
Result<std::string> workspaceUnitName(std::string_view workspaceRoot);

}  // namespace wslgo
