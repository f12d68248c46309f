// LSP base-protocol framing: "Content-Length: N\r\n" (other headers allowed) "\r\n", then N
// bytes of JSON. Pure: the socket work is the caller's.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "lib/result.h"

namespace wslgo {

// One message with its header.
std::string frameLspMessage(std::string_view json);

struct LspFrame {
  std::string_view body;  // points into the buffer given
  size_t consumed = 0;    // header and body: drop this much before looking for the next
};

// The first complete message at the start of `buffer`; nothing while it is still incomplete.
// A header without Content-Length, a length that is not a number, or a body over `maxBodyBytes`
// is an error: the stream cannot be resynchronised after it.
Result<std::optional<LspFrame>> splitLspFrame(std::string_view buffer, size_t maxBodyBytes);

}  // namespace wslgo
