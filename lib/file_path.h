// File paths as plain strings: telling an absolute one, joining two with one slash, and saying
// why one does not resolve.
#pragma once

#include <string>
#include <string_view>

#include "lib/result.h"

namespace wslgo {

// Whether `path` starts at the root. Environment values ($HOME, $XDG_*_HOME, $GOMODCACHE…) that
// are not absolute are ignored rather than resolved against the daemon's working directory.
bool isAbsolutePath(std::string_view path);

// `base` and `relative` with exactly one slash between them: "/a/" + "b" and "/a" + "/b" both
// give "/a/b", "/" + "b" gives "/b", and an empty `relative` gives `base` without its trailing
// slashes. Nothing else is normalized: no "." or ".." is resolved and no symlink followed.
std::string joinPath(std::string_view base, std::string_view relative);

// Why `path` could not be resolved to a real path (realpath's or std::filesystem::canonical's
// errno), for a person: a missing or misspelt directory ends with `hint` (what to check).
Error unresolvablePathError(std::string path, int code, std::string_view hint);

}  // namespace wslgo
