// The answer to one LSP request, picked out of whatever the server sends.
#pragma once

#include <optional>
#include <string_view>

#include <nlohmann/json.hpp>

#include "lib/result.h"

namespace wslgo {

// If `body` is the response to request `id`: its result. Another message (a notification, a
// request from the server, an answer to another id) gives nothing, so the caller reads on. An
// error response is an error quoting the server's message, under `what` ("LSP initialize").
Result<std::optional<nlohmann::json>> lspResultFor(std::string_view body, int id,
                                                   std::string_view what);

}  // namespace wslgo
