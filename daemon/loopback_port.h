// pickLoopbackPort: a TCP port on 127.0.0.1 that is free right now, for gopls' debug server.
#pragma once

#include <cstdint>

#include "lib/result.h"

namespace wslgo {

// Binds 127.0.0.1:0, reads the port the kernel chose, and closes the socket. The port is free
// at that moment; the unit's launcher picks one at every start of gopls, never reusing one.
Result<uint16_t> pickLoopbackPort();

}  // namespace wslgo
