// shellWord(): text as one word a POSIX shell reads back unchanged, for the command lines
// wslgo-guardctl prints for people to paste (a profile's path holds systemd's `\x2d` escapes,
// which an unquoted shell word would turn into `x2d`).
#pragma once

#include <string>
#include <string_view>

namespace wslgo {

// As is when every character is one a shell leaves alone (letters, digits, `_./:=@%+,-`);
// otherwise in single quotes, each `'` written as `'\''`. Empty text is `''`.
std::string shellWord(std::string_view text);

}  // namespace wslgo
