// TempDir: a fresh directory under $TMPDIR for one test, removed with everything in it.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>

#include <catch2/catch.hpp>

namespace wslgo::test {

class TempDir {
 public:
  // "wslgo-<prefix>-XXXXXX" under the temp directory, by its canonical name, so tests that
  // compare with realpath()'d results see the same string.
  explicit TempDir(std::string_view prefix) {
    std::string pattern =
        (std::filesystem::temp_directory_path() / ("wslgo-" + std::string(prefix) + "-XXXXXX"))
            .string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    path_ = std::filesystem::canonical(pattern);
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace wslgo::test
