#include "lib/go_module_root.h"

#include "lib/file_path.h"

#include <cerrno>
#include <filesystem>
#include <system_error>

namespace wslgo {
namespace {

namespace fs = std::filesystem;

bool holdsFile(const fs::path& dir, const char* name) {
  std::error_code ignored;
  fs::file_status status = fs::status(dir / name, ignored);
  return fs::exists(status) && !fs::is_directory(status);
}

// `path` as seen from `base` ("/" for base itself).
std::string underBase(const fs::path& path, const fs::path& base) {
  fs::path relative = path.lexically_relative(base);
  if (relative.empty() || relative == ".") return "/";
  return "/" + relative.string();
}

}  // namespace

bool marksGoModule(const std::string& dir) {
  return holdsFile(dir, "go.mod") || holdsFile(dir, "go.work");
}

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
  if (error)
    return unresolvablePathError(given, error.value(), "pass the folder the editor opened");
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
