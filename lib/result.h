// Result<T>: a value or the reason it could not be had (errno, path, message).
#pragma once

#include <cerrno>
#include <exception>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace wslgo {

// An expected failure: a file that is missing, a process gone between readdir and read,
// a permission denied, a line that does not parse. Carried as a value, never thrown.
struct Error {
  int code = 0;         // errno, or EINVAL for content that does not parse
  std::string path;     // the file (or JSON pointer) the failure is about; may be empty
  std::string message;  // what went wrong, for a person

  // "PATH: MESSAGE (strerror)" with the parts that are present.
  std::string describe() const;

  // This error about `path`. Parsers know no path; the reader that fed them the text attaches
  // the file it read: `return parsed.error().withPath(path);`.
  Error withPath(std::string path) const;
};

Error errnoError(int code, std::string path, std::string message = {});
// What a caught exception says to a person: std::bad_alloc as "out of memory
// (std::bad_alloc)", anything else as its what().
std::string describeException(const std::exception& e);
Error parseError(std::string path, std::string message);
// A parse error (no path yet) about one named field of a text, quoting what was found:
// `WHERE FIELD: PROBLEM, got "VALUE"`, or `FIELD: PROBLEM, got "VALUE"` when `where` is empty.
Error fieldError(std::string_view where, std::string_view field, std::string_view value,
                 std::string_view problem);

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : state_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(state_); }
  const T& value() const& { return std::get<0>(state_); }
  T&& value() && { return std::get<0>(std::move(state_)); }
  const Error& error() const { return std::get<1>(state_); }

  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  T valueOr(T fallback) const { return ok() ? value() : std::move(fallback); }

 private:
  std::variant<T, Error> state_;
};

// Success without a value, or an Error.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error)
      : error_(std::move(error)), ok_(false) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return error_; }

 private:
  Error error_;
  bool ok_ = true;
};

}  // namespace wslgo
