#include "lib/result.h"

#include <cstring>

namespace wslgo {

std::string Error::describe() const {
  std::string out;
  if (!path.empty()) {
    out += path;
    out += ": ";
  }
  out += message;
  if (code != 0 && code != EINVAL) {
    if (!message.empty()) out += " (";
    out += std::strerror(code);
    if (!message.empty()) out += ")";
  }
  return out;
}

Error errnoError(int code, std::string path, std::string message) {
  return Error{code, std::move(path), std::move(message)};
}

Error parseError(std::string path, std::string message) {
  return Error{EINVAL, std::move(path), std::move(message)};
}

}  // namespace wslgo
