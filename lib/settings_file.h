// Reading a file that a person or another program writes — the configuration, the state file —
// so that no such file can hang, exhaust or crash the guard.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "lib/result.h"

namespace wslgo {

// Bounds for JSON settings: far above anything real (the shipped configuration is 4 KiB and
// nests 5 levels), far below what hurts.
inline constexpr size_t kMaxSettingsBytes = 1u << 20;
inline constexpr size_t kMaxSettingsNesting = 64;

// Reads `path` into `buffer` and returns a view of it, when it is a regular file (symlinks to
// one are followed: dotfile managers link configurations) of at most `maxBytes`, whose JSON
// nests no deeper than `maxNesting`. The open never blocks and never writes (O_RDONLY |
// O_NONBLOCK): a FIFO or a device put in its place is refused at once instead of hanging the
// loop until the watchdog kills it. Errors name the path and the bound.
Result<std::string_view> readSettingsFile(const std::string& path, std::string& buffer,
                                          size_t maxBytes = kMaxSettingsBytes,
                                          size_t maxNesting = kMaxSettingsNesting);

}  // namespace wslgo
