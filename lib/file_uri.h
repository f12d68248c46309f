// file:// URIs as LSP carries them (rootUri, workspace folders, documents) and the paths they
// name.
#pragma once

#include <string>
#include <string_view>

#include "lib/result.h"

namespace wslgo {

// "file:///home/me/src/a%20b" -> "/home/me/src/a b". Only local absolute file URIs: another
// scheme, a host other than "" or "localhost", a relative path, a bad %-escape or an escaped
// NUL is an error naming the URI.
Result<std::string> fileUriToPath(std::string_view uri);

}  // namespace wslgo
