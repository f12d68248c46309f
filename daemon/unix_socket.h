// Unix stream sockets on the loop: connecting to one (a gopls daemon's) and listening on one.
#pragma once

#include <string>

#include "daemon/unique_fd.h"
#include "lib/result.h"

namespace wslgo {

// A non-blocking, close-on-exec connection to the unix socket at `path`. A unix socket connects
// or fails at once: an error names the path and why (nothing listening, no such file, a path
// too long for sun_path, EAGAIN when its backlog is full).
Result<UniqueFd> connectUnixSocket(const std::string& path);

// A non-blocking socket listening at `path`, mode 0600 (this user's processes only). A socket
// already there is replaced (one left by a process that died); any other file is an error.
Result<UniqueFd> listenUnixSocket(const std::string& path, int backlog);

}  // namespace wslgo
