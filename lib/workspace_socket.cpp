#include "lib/workspace_socket.h"

#include <cstdint>

namespace wslgo {

std::string fnv1a64Hex(std::string_view text) {
  uint64_t hash = 0xcbf29ce484222325ull;
  for (unsigned char byte : text) {
    hash ^= byte;
    hash *= 0x100000001b3ull;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i) {
    out[static_cast<size_t>(i)] = kHex[hash & 0xf];
    hash >>= 4;
  }
  return out;
}

Result<std::string> workspaceSocketPath(std::string_view runtimeDir,
                                        std::string_view workspaceRoot) {
  if (runtimeDir.empty() || runtimeDir.front() != '/') {
    return parseError(std::string(runtimeDir),
                      "the runtime directory must be an absolute path; is $XDG_RUNTIME_DIR set?");
  }
  std::string path(runtimeDir);
  if (path.back() != '/') path += '/';
  path += "wslgo-guard/gopls-" + fnv1a64Hex(workspaceRoot) + ".sock";
  if (path.size() + 1 > kSunPathMax) {
    return parseError(path, "a unix socket path may have at most " +
                                std::to_string(kSunPathMax - 1) +
                                " bytes; use a shorter $XDG_RUNTIME_DIR");
  }
  return path;
}

}  // namespace wslgo
