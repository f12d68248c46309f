// Connecting to a unix stream socket (a gopls daemon's) without blocking the loop.
#pragma once

#include <string>

#include "daemon/unique_fd.h"
#include "lib/result.h"

namespace wslgo {

// A non-blocking, close-on-exec connection to the unix socket at `path`. A unix socket connects
// or fails at once: an error names the path and why (nothing listening, no such file, a path
// too long for sun_path, EAGAIN when its backlog is full).
Result<UniqueFd> connectUnixSocket(const std::string& path);

}  // namespace wslgo
