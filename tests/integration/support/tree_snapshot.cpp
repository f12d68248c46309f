#include "tests/integration/support/tree_snapshot.h"

#include <sys/stat.h>

#include <filesystem>
#include <sstream>
#include <system_error>

namespace wslgo::test {
namespace fs = std::filesystem;
namespace {

bool isSkipped(const std::string& relative, const std::vector<std::string>& skipped) {
  for (const auto& prefix : skipped) {
    if (relative == prefix || relative.rfind(prefix + "/", 0) == 0) return true;
  }
  return false;
}

}  // namespace

TreeSnapshot snapshotTree(const std::string& root, const std::vector<std::string>& skipped) {
  TreeSnapshot snapshot;
  std::error_code error;
  fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, error);
  for (; !error && it != fs::recursive_directory_iterator(); it.increment(error)) {
    const std::string relative = fs::relative(it->path(), root).string();
    if (isSkipped(relative, skipped)) {
      if (it->is_directory(error) && !it->is_symlink(error)) it.disable_recursion_pending();
      continue;
    }
    struct stat st {};
    if (::lstat(it->path().c_str(), &st) != 0) continue;  // gone meanwhile: absent from this one
    TreeEntry entry;
    entry.mode = st.st_mode;
    if (!S_ISDIR(st.st_mode)) {
      entry.size = static_cast<uint64_t>(st.st_size);
      entry.mtimeNs = st.st_mtim.tv_sec * 1'000'000'000LL + st.st_mtim.tv_nsec;
    }
    if (S_ISLNK(st.st_mode)) entry.linkTarget = fs::read_symlink(it->path(), error).string();
    snapshot.emplace(relative, std::move(entry));
  }
  return snapshot;
}

std::string treeChanges(const TreeSnapshot& before, const TreeSnapshot& after) {
  std::ostringstream out;
  for (const auto& [path, entry] : before) {
    auto now = after.find(path);
    if (now == after.end()) {
      out << "removed " << path << "\n";
    } else if (!(now->second == entry)) {
      out << "changed " << path << " (mode " << std::oct << entry.mode << " -> " << now->second.mode
          << std::dec << ", size " << entry.size << " -> " << now->second.size << ")\n";
    }
  }
  for (const auto& [path, entry] : after) {
    if (before.find(path) == before.end()) out << "added " << path << "\n";
  }
  return out.str();
}

}  // namespace wslgo::test
