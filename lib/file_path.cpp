#include "lib/file_path.h"

#include <cerrno>

namespace wslgo {

bool isAbsolutePath(std::string_view path) { return !path.empty() && path.front() == '/'; }

std::string joinPath(std::string_view base, std::string_view relative) {
  while (base.size() > 1 && base.back() == '/') base.remove_suffix(1);
  while (!relative.empty() && relative.front() == '/') relative.remove_prefix(1);
  std::string out(base);
  if (relative.empty()) return out;
  if (out != "/") out += '/';
  out += relative;
  return out;
}

Error unresolvablePathError(std::string path, int code, std::string_view hint) {
  switch (code) {
    case ENOENT:
      return errnoError(code, std::move(path), "does not exist; " + std::string(hint));
    case ENOTDIR:
      return errnoError(code, std::move(path),
                        "goes through a file, not a directory; " + std::string(hint));
    case EACCES:
      return errnoError(code, std::move(path),
                        "cannot be resolved: a directory on the way may not be searched; check "
                        "the permissions");
    default:
      return errnoError(code, std::move(path), "cannot be resolved to a real path");
  }
}

}  // namespace wslgo
