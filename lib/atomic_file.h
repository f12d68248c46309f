// Atomic files: replace a file whole or not at all, and move a corrupt one aside without loss.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "lib/result.h"

namespace wslgo {

// mkdir -p: creates `path` and its missing parents with `mode`. Directories that exist are left
// as they are; a component that exists and is not a directory is an ENOTDIR error naming it.
Result<void> makeDirectories(const std::string& path, mode_t mode = 0700);

// Replaces `path` with `contents`: written to a temporary file in the same directory, fsynced,
// given `mode` exactly (the umask does not apply), renamed over `path`, and the directory
// fsynced, so after a crash `path` holds either the old contents or the new, never a mix. The
// directory must exist (see makeDirectories). On failure `path` is untouched and the temporary
// file is removed.
Result<void> writeFileAtomically(const std::string& path, std::string_view contents,
                                 mode_t mode = 0644);

// Renames `path` to `path.bad`, or `path.bad.1`, `path.bad.2`, ... when that is taken: an earlier
// set-aside file is never overwritten. Returns the new name.
Result<std::string> setAsideCorruptFile(const std::string& path);

}  // namespace wslgo
