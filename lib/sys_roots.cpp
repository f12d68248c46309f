#include "lib/sys_roots.h"

#include "lib/file_path.h"

namespace wslgo {
namespace {

// True when `path` is `dir` itself or lies below it ("/sys" and "/sys/x", not "/system").
bool isUnder(std::string_view path, std::string_view dir) {
  return path.substr(0, dir.size()) == dir &&
         (path.size() == dir.size() || path[dir.size()] == '/');
}

}  // namespace

std::string SysRoots::rebase(std::string_view absolutePath) const {
  if (isUnder(absolutePath, "/proc")) return joinPath(proc, absolutePath.substr(5));
  if (isUnder(absolutePath, "/sys")) return joinPath(sys, absolutePath.substr(4));
  return std::string(absolutePath);
}

std::string SysRoots::procPath(std::string_view relative) const { return joinPath(proc, relative); }
std::string SysRoots::sysPath(std::string_view relative) const { return joinPath(sys, relative); }

}  // namespace wslgo
