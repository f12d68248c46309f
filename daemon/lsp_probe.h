// LSP probes of a gopls daemon over its unix socket, on the loop, each on a fresh connection
// that is closed once answered: which workspace commands it offers (initialize), and
// gopls.mem_stats (initialize, then the command), the GC of a gopls without a debug server.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "daemon/event_loop.h"
#include "lib/gopls_mem_stats.h"
#include "lib/result.h"
#include "lib/usec.h"

namespace wslgo {

using LspCommandsDone = std::function<void(Result<std::vector<std::string>>)>;
using LspMemStatsDone = std::function<void(Result<GoplsMemStats>)>;

// `done` runs once, on the loop, never from inside these calls: with the answer, or an error
// naming the socket (nothing listening, no answer within `timeout`, a malformed or refused
// answer).
void probeLspCommands(EventLoop& loop, const std::string& socketPath, Usec timeout,
                      LspCommandsDone done);
void probeLspMemStats(EventLoop& loop, const std::string& socketPath, Usec timeout,
                      LspMemStatsDone done);

}  // namespace wslgo
