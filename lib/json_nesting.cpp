#include "lib/json_nesting.h"

namespace wslgo {

// Over a well-formed prefix this counts exactly the depth a parser reaches: outside a string a
// '"' can only open one. A parser stops at the first syntax error, so what this scan makes of
// the text after it does not matter: a false there rejects a document the parser rejects too.
bool jsonNestingWithin(std::string_view text, size_t maxDepth) {
  size_t depth = 0;
  bool inString = false;
  bool escaped = false;
  for (char c : text) {
    if (inString) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        inString = false;
      }
      continue;
    }
    switch (c) {
      case '"':
        inString = true;
        break;
      case '[':
      case '{':
        if (++depth > maxDepth) return false;
        break;
      case ']':
      case '}':
        // A stray closer is a syntax error the parser reports; it must not buy room for more
        // openers.
        if (depth > 0) --depth;
        break;
      default:
        break;
    }
  }
  return true;
}

}  // namespace wslgo
