// LspCommandProbe: asks a gopls daemon over its unix socket which workspace commands it offers
// (an initialize request on a fresh connection, then the connection is closed), on the loop.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "daemon/event_loop.h"
#include "lib/result.h"
#include "lib/usec.h"

namespace wslgo {

using LspCommandsDone = std::function<void(Result<std::vector<std::string>>)>;

// `done` runs once, on the loop, never from inside this call: with the commands, or an error
// naming the socket (nothing listening, no answer within `timeout`, a malformed answer).
void probeLspCommands(EventLoop& loop, const std::string& socketPath, Usec timeout,
                      LspCommandsDone done);

}  // namespace wslgo
