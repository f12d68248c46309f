#include "lib/file_path.h"

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

}  // namespace wslgo
