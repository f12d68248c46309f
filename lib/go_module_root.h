// The Go module root of a directory, found the way the go command finds it: walking up.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "lib/result.h"

namespace wslgo {

enum class GoModuleFile { GoWork, GoMod };

struct GoModuleRoot {
  std::string dir;    // absolute and canonical, as seen from the filesystem root given
  GoModuleFile file;  // what marks it
};

// The module root of `folder`, an absolute directory: walking up from the folder itself, the
// nearest directory holding go.work, else the nearest holding go.mod (a go.work above a go.mod
// wins, as with `go env GOWORK`: the go.work is what gopls loads). Symlinks in `folder` are
// resolved first, so a link into a module finds that module. A go.mod or go.work that is a
// directory does not count. std::nullopt when no directory up to "/" holds either.
//
// `fsRoot` is where "/" is ("" for the real one), so tests can walk a temporary tree; the walk
// never leaves it, and a symlink that leads out of it is an error. Errors name the folder:
// relative (EINVAL), missing (ENOENT), not a directory (ENOTDIR).
Result<std::optional<GoModuleRoot>> findGoModuleRoot(std::string_view folder,
                                                     const std::string& fsRoot = {});

// Whether `dir` itself holds a go.mod or a go.work. One that is a directory marks nothing: the
// go command reads them as files.
bool marksGoModule(const std::string& dir);

}  // namespace wslgo
