// gopls.mem_stats over LSP: the one way to make a gopls collect garbage when it runs without a
// debug server (gopls.debug_server false). The command runs runtime.GC() three times before it
// answers, so its answer means the collection is done.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "lib/result.h"

namespace wslgo {

// What the command reports, measured right after its collections.
struct GoplsMemStats {
  uint64_t heapAlloc = 0;
  uint64_t heapInUse = 0;
  uint64_t totalAlloc = 0;
};

inline constexpr std::string_view kMemStatsCommand = "gopls.mem_stats";

// workspace/executeCommand for gopls.mem_stats, with request id `id`.
std::string lspMemStatsRequest(int id);

// If `body` is the response to request `id`: the figures. Another message (a notification, a
// request from the server) gives nothing, so the caller reads on; an error response, or a result
// without the figures, is an error quoting what was found.
Result<std::optional<GoplsMemStats>> parseMemStatsAnswer(std::string_view body, int id);

}  // namespace wslgo
