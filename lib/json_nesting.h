// A guard to run before parsing outside JSON: how deep its arrays and objects nest, found
// without recursion.
#pragma once

#include <cstddef>
#include <string_view>

namespace wslgo {

// True when `text` (JSON, possibly malformed) never nests arrays/objects deeper than `maxDepth`
// ("1" is depth 0, "[]" and "{}" depth 1, "[{}]" depth 2). A linear scan that knows strings,
// escapes and comments, so a '[' inside a string or a comment does not count, and that stops at
// the first level too deep.
// Why: nlohmann::json 3.11 parses and destroys without recursion, but copies and dumps
// recursively, so a hostile 300,000-deep message parses fine and then overflows the stack as
// soon as it is copied, forwarded or logged (older releases may already overflow while
// parsing). Call this first on anything that comes from outside.
bool jsonNestingWithin(std::string_view text, size_t maxDepth);

}  // namespace wslgo
