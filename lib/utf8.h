// UTF-8 as Unicode defines it well formed (table 3-7): no overlong forms, no surrogates,
// nothing above U+10FFFF.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace wslgo {

// The length (1 to 4) of the well-formed UTF-8 sequence that starts at byte `at` of `text`, or
// 0 when the bytes there are not one (a stray continuation byte, a cut-off or overlong
// sequence, an encoded surrogate). `at` must be inside `text`.
size_t utf8SequenceLength(std::string_view text, size_t at);

// Whether all of `text` is well-formed UTF-8. D-Bus strings and JSON text must be; a file name
// need not be.
bool isValidUtf8(std::string_view text);

// `text` with every byte that is not part of well-formed UTF-8 replaced by U+FFFD: for showing
// a file name in a message that must be UTF-8 (a D-Bus error, the journal).
std::string utf8Lossy(std::string_view text);

}  // namespace wslgo
