// Helpers for tests that read fixture trees under tests/fixtures.
#pragma once

#include <string>

#include "lib/sys_roots.h"

namespace wslgo::test {

inline std::string fixturePath(const std::string& relative) {
  return std::string(WSLGO_FIXTURES_DIR) + "/" + relative;
}

// SysRoots pointing at tests/fixtures/<tree>/proc and tests/fixtures/<tree>/sys.
inline SysRoots fixtureRoots(const std::string& tree) {
  return SysRoots{fixturePath(tree + "/proc"), fixturePath(tree + "/sys")};
}

}  // namespace wslgo::test
