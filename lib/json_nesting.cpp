#include "lib/json_nesting.h"

namespace wslgo {

// Over a well-formed prefix this counts exactly the depth a parser reaches: outside a string a
// '"' can only open one. A parser stops at the first syntax error, so what this scan makes of
// the text after it does not matter: a false there rejects a document the parser rejects too.
//
// Comments (// to the end of the line, /* to */) are skipped: the configuration's parser ignores
// them, and a '"' in one must not open a string that hides the brackets after it. A strict
// parser stops at a comment's first '/', so for strict JSON what a comment holds does not matter.
bool jsonNestingWithin(std::string_view text, size_t maxDepth) {
  size_t depth = 0;
  bool inString = false;
  bool escaped = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
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
      case '/':
        if (i + 1 < text.size() && (text[i + 1] == '/' || text[i + 1] == '*')) {
          // nlohmann ends a line comment at '\n', '\r' or '\0', and a block comment at "*/".
          const bool toLineEnd = text[i + 1] == '/';
          const size_t end = toLineEnd ? text.find_first_of(std::string_view("\n\r\0", 3), i + 2)
                                       : text.find("*/", i + 2);
          if (end == std::string_view::npos) return true;  // the rest is comment
          i = toLineEnd ? end : end + 1;
        }
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
