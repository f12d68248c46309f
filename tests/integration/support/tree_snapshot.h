// TreeSnapshot: what lies under a directory, to show that a fault left everything outside the
// guard's own directories as it was (issue 13: "nothing outside its own directories changed").
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace wslgo::test {

struct TreeEntry {
  mode_t mode = 0;         // type and permission bits
  uint64_t size = 0;       // 0 for directories: their size and times follow their entries,
  int64_t mtimeNs = 0;     // which are compared one by one
  std::string linkTarget;  // for symlinks

  bool operator==(const TreeEntry&) const = default;
};

// Every path under `root`, relative to it, except those at or under one of `skipped` (relative
// paths too). Symlinks are recorded, not followed.
using TreeSnapshot = std::map<std::string, TreeEntry>;
TreeSnapshot snapshotTree(const std::string& root, const std::vector<std::string>& skipped);

// One line per path added, removed or changed from `before` to `after`; "" when none.
std::string treeChanges(const TreeSnapshot& before, const TreeSnapshot& after);

}  // namespace wslgo::test
