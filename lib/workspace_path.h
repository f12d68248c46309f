// Workspace paths: checking a root given to AddWorkspace, and finding the root that holds a dir.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/result.h"

namespace wslgo {

// The canonical root of a workspace: `path` must be absolute and shorter than PATH_MAX (a longer
// one is refused before touching the filesystem); it is resolved with realpath (symlinks, "..")
// and must be a directory holding go.mod or go.work, unless `allowNonModule`. A root that is not
// valid UTF-8 (given or resolved), "/", or a directory in /proc, /sys or /dev is refused whatever
// `allowNonModule` says. Each refusal names the path and says what to pass instead.
Result<std::string> resolveWorkspaceRoot(std::string_view path, bool allowNonModule);

// Refuses a workspace directory that `user` (the guard's effective uid) does not own, with
// EPERM naming the owner: gopls runs as `user` what a workspace's go.mod and go.work (a toolchain
// line) and its settings name, so another user's directory could make it run their code as
// this one. `root` is canonical (from resolveWorkspaceRoot).
Result<void> checkWorkspaceOwner(const std::string& root, uid_t user);

// The root in `roots` that is `dir` or an ancestor of it, the deepest when several are: the
// workspace a directory belongs to. "/a/b" holds "/a/b/c" but not "/a/bc". Roots and dir are
// compared as given, after dropping trailing slashes; pass canonical paths.
std::optional<std::string> workspaceContaining(const std::vector<std::string>& roots,
                                               std::string_view dir);

}  // namespace wslgo
