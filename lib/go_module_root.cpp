#include "lib/go_module_root.h"

#include <cerrno>
#include <filesystem>
#include <system_error>

namespace wslgo {
namespace {

namespace fs = std::filesystem;

// A go.mod or go.work that is a directory marks nothing: the go command reads it as a file.
bool holdsFile(const fs::path& dir, const char* name) {
  std::error_code ignored;
  fs::file_status status = fs::status(dir / name, ignored);
  return fs::exists(status) && !fs::is_directory(status);
}

Error unresolvable(const std::string& folder, const std::error_code& error) {
  switch (error.value()) {
    case ENOENT:
      return errnoError(ENOENT, folder, "does not exist; pass the folder the editor opened");
    case ENOTDIR:
      return errnoError(ENOTDIR, folder, "goes through a file, not a directory");
    case EACCES:
      return errnoError(EACCES, folder,
                        "cannot be resolved: a directory on the way may not be searched; check "
                        "the permissions");
    default:
      return errnoError(error.value(), folder, "cannot be resolved to a real path");
  }
}

// `path` as seen from `base` ("/" for base itself).
std::string underBase(const fs::path& path, const fs::path& base) {
  fs::path relative = path.lexically_relative(base);
  if (relative.empty() || relative == ".") return "/";
  return "/" + relative.string();
}

}  // namespace

Result<std::optional<GoModuleRoot>> findGoModuleRoot(std::string_view folder,
                                                     const std::string& fsRoot) {
  const std::string given(folder);
  if (folder.empty() || folder.front() != '/') {
    return errnoError(EINVAL, given,
                      "is not an absolute path; the guard does not share the editor's working "
                      "directory");
  }
  if (folder.find('\0') != std::string_view::npos) {
    return errnoError(EINVAL, given, "the path contains a NUL byte, which no path can hold");
  }
  std::error_code error;
  const fs::path base = fsRoot.empty() ? fs::path("/") : fs::canonical(fsRoot, error);
  if (error) return errnoError(error.value(), fsRoot, "cannot be resolved as the filesystem root");
  const fs::path resolved = fs::canonical(fsRoot + given, error);
  if (error) return unresolvable(given, error);
  const fs::path relative = resolved.lexically_relative(base);
  if (relative.empty() || *relative.begin() == "..") {
    return errnoError(EXDEV, given, "leads out of " + base.string() + " through a symlink");
  }
  if (!fs::is_directory(resolved, error)) {
    return errnoError(ENOTDIR, given, "is a file; pass the folder the editor opened");
  }

  std::optional<fs::path> nearestGoMod;
  for (fs::path dir = resolved;; dir = dir.parent_path()) {
    if (holdsFile(dir, "go.work")) {
      return std::optional(GoModuleRoot{.dir = underBase(dir, base), .file = GoModuleFile::GoWork});
    }
    if (!nearestGoMod && holdsFile(dir, "go.mod")) nearestGoMod = dir;
    if (dir == base || dir == dir.parent_path()) break;
  }
  if (!nearestGoMod) return std::optional<GoModuleRoot>();
  return std::optional(
      GoModuleRoot{.dir = underBase(*nearestGoMod, base), .file = GoModuleFile::GoMod});
}

}  // namespace wslgo
