#include "lib/result.h"

#include <cstring>
#include <new>
#include <utility>

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

Error Error::withPath(std::string path) const {
  Error error = *this;
  error.path = std::move(path);
  return error;
}

Error errnoError(int code, std::string path, std::string message) {
  return Error{code, std::move(path), std::move(message)};
}

std::string describeException(const std::exception& e) {
  if (dynamic_cast<const std::bad_alloc*>(&e) != nullptr) {
    return std::string("out of memory (") + e.what() + ")";
  }
  return e.what();
}

Error parseError(std::string path, std::string message) {
  return Error{EINVAL, std::move(path), std::move(message)};
}

Error fieldError(std::string_view where, std::string_view field, std::string_view value,
                 std::string_view problem) {
  std::string message(where);
  if (!message.empty()) message += ' ';
  message += field;
  message += ": ";
  message += problem;
  message += ", got \"";
  message += value;
  message += '"';
  return parseError({}, std::move(message));
}

}  // namespace wslgo
