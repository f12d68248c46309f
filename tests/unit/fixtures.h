// Helpers for tests that read fixture trees under tests/fixtures.
#pragma once

#include <string>

#include <catch2/catch.hpp>

#include "lib/kept_file.h"
#include "lib/sys_roots.h"

namespace wslgo::test {

inline std::string fixturePath(const std::string& relative) {
  return std::string(WSLGO_FIXTURES_DIR) + "/" + relative;
}

// The whole text of tests/fixtures/<relative>; a missing fixture fails the test.
inline std::string readFixture(const std::string& relative) {
  std::string buffer;
  auto text = readFileInto(fixturePath(relative), buffer);
  REQUIRE(text.ok());
  return std::string(*text);
}

// SysRoots pointing at tests/fixtures/<tree>/proc and tests/fixtures/<tree>/sys.
inline SysRoots fixtureRoots(const std::string& tree) {
  return SysRoots{fixturePath(tree + "/proc"), fixturePath(tree + "/sys")};
}

}  // namespace wslgo::test
