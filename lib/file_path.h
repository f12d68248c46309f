// File paths as plain strings: telling an absolute one and joining two with one slash.
#pragma once

#include <string>
#include <string_view>

namespace wslgo {

// Whether `path` starts at the root. Environment values ($HOME, $XDG_*_HOME, $GOMODCACHE…) that
// are not absolute are ignored rather than resolved against the daemon's working directory.
bool isAbsolutePath(std::string_view path);

// `base` and `relative` with exactly one slash between them: "/a/" + "b" and "/a" + "/b" both
// give "/a/b", "/" + "b" gives "/b", and an empty `relative` gives `base` without its trailing
// slashes. Nothing else is normalized: no "." or ".." is resolved and no symlink followed.
std::string joinPath(std::string_view base, std::string_view relative);

}  // namespace wslgo
