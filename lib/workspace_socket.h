// Where a workspace's gopls daemon listens: a unix socket path short enough for sun_path.
#pragma once

#include <string>
#include <string_view>

#include "lib/result.h"

namespace wslgo {

// sizeof(sockaddr_un::sun_path) on Linux, including the terminating NUL.
inline constexpr size_t kSunPathMax = 108;

// "<runtimeDir>/wslgo-guard/gopls-<16 hex digits>.sock". The name is a hash of the workspace
// root (FNV-1a, 64 bit), not the root itself, so it fits sun_path however long the root is,
// and it is stable: editors keep the same -remote line across restarts of the guard and gopls.
// An error when even that does not fit (an absurdly long $XDG_RUNTIME_DIR).
Result<std::string> workspaceSocketPath(std::string_view runtimeDir,
                                        std::string_view workspaceRoot);

// FNV-1a over the bytes of `text`, as 16 lowercase hex digits.
std::string fnv1a64Hex(std::string_view text);

}  // namespace wslgo
