#include "lib/workspace_path.h"

#include <sys/stat.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <memory>

#include "lib/file_path.h"
#include "lib/go_module_root.h"
#include "lib/utf8.h"

namespace wslgo {
namespace {

std::string_view withoutTrailingSlashes(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  return path;
}

// "/" and the kernel's trees: gopls would walk them, and a trim or a removal must never touch
// them.
bool isSystemDirectory(std::string_view root) {
  if (root == "/") return true;
  for (std::string_view tree : {"/proc", "/sys", "/dev"}) {
    if (root == tree || (root.size() > tree.size() && root.substr(0, tree.size()) == tree &&
                         root[tree.size()] == '/')) {
      return true;
    }
  }
  return false;
}

}  // namespace

Result<std::string> resolveWorkspaceRoot(std::string_view path, bool allowNonModule) {
  if (path.size() >= PATH_MAX) {
    // Only a prefix: the whole string may be megabytes, and a message is for reading.
    return errnoError(EINVAL, std::string(path.substr(0, 64)) + "...",
                      "path too long (" + std::to_string(path.size()) + " bytes; the limit is " +
                          std::to_string(PATH_MAX - 1) + "); pass the workspace's real path");
  }
  std::string given(path);
  if (path.empty()) return errnoError(EINVAL, given, "no workspace path given; pass its directory");
  if (path.find('\0') != std::string_view::npos) {
    return errnoError(EINVAL, given, "the path contains a NUL byte, which no path can hold");
  }
  if (path.front() != '/') {
    return errnoError(EINVAL, given,
                      "is a relative path; the guard does not share your working directory, so "
                      "use an absolute path");
  }

  std::unique_ptr<char, decltype(&std::free)> resolved(::realpath(given.c_str(), nullptr),
                                                       &std::free);
  if (!resolved) {
    return unresolvablePathError(given, errno, "check the path of the workspace");
  }
  std::string root(resolved.get());
  // D-Bus strings and the state file are UTF-8: a root that is not could be added but never
  // shown, saved or removed again. Refused before anything happens, given or resolved.
  if (!isValidUtf8(given) || !isValidUtf8(root)) {
    return errnoError(EILSEQ, utf8Lossy(root),
                      "is not valid UTF-8 (shown with U+FFFD for the bad bytes); the guard's "
                      "bus API and state file carry UTF-8 names only: rename the directory");
  }
  if (isSystemDirectory(root)) {
    return errnoError(EPERM, root,
                      "is a system directory, not a Go workspace; pass a module under your "
                      "home directory");
  }

  struct stat info {};
  if (::stat(root.c_str(), &info) != 0) return errnoError(errno, root, "cannot stat");
  if (!S_ISDIR(info.st_mode)) {
    return errnoError(ENOTDIR, root, "is a file; pass the directory that holds go.mod");
  }
  if (!allowNonModule) {
    if (!marksGoModule(root)) {
      return errnoError(ENOENT, root,
                        "has no go.mod or go.work; pass the module root, or set "
                        "allow_non_module");
    }
  }
  return root;
}

Result<void> checkWorkspaceOwner(const std::string& root, uid_t user) {
  struct stat info {};
  if (::stat(root.c_str(), &info) != 0) return errnoError(errno, root, "cannot stat");
  if (info.st_uid == user) return {};
  return errnoError(EPERM, root,
                    "is owned by uid " + std::to_string(info.st_uid) +
                        ", not by the guard's user (uid " + std::to_string(user) +
                        "); gopls would run as uid " + std::to_string(user) +
                        " what its go.mod toolchain line and gopls settings name, so another "
                        "user's files could run code as you. Add a copy you own instead");
}

std::optional<std::string> workspaceContaining(const std::vector<std::string>& roots,
                                               std::string_view dir) {
  dir = withoutTrailingSlashes(dir);
  const std::string* best = nullptr;
  size_t bestLength = 0;
  for (const auto& candidate : roots) {
    std::string_view root = withoutTrailingSlashes(candidate);
    if (root.empty()) continue;
    bool holds = false;
    if (root == "/") {
      holds = !dir.empty() && dir.front() == '/';
    } else {
      holds = dir.substr(0, root.size()) == root &&
              (dir.size() == root.size() || dir[root.size()] == '/');
    }
    if (holds && (best == nullptr || root.size() > bestLength)) {
      best = &candidate;
      bestLength = root.size();
    }
  }
  if (best == nullptr) return std::nullopt;
  return *best;
}

}  // namespace wslgo
