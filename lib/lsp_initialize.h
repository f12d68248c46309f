// The LSP initialize exchange, as far as the guard needs it: asking a gopls which workspace
// commands it offers (gopls.mem_stats among them) without opening a workspace.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/result.h"

namespace wslgo {

// An initialize request with no root and no folders: gopls answers with its capabilities and
// loads nothing.
std::string lspInitializeRequest(int id);

// If `body` is the response to request `id`: the commands of its
// capabilities.executeCommandProvider (empty when it has none). Another message (a
// notification, a request from the server) gives nothing, so the caller reads on; an error
// response or a malformed body is an error.
Result<std::optional<std::vector<std::string>>> parseInitializeCommands(std::string_view body,
                                                                        int id);

}  // namespace wslgo
