// A process' environment as the kernel keeps it: /proc/PID/environ, NUL-separated NAME=VALUE.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "lib/result.h"
#include "lib/sys_roots.h"

namespace wslgo {

// The environment a process was started with (what execve gave it; a later setenv in the
// process is not in /proc/PID/environ, and gopls sets none of the variables the guard asks for).
struct ProcessEnviron {
  std::map<std::string, std::string, std::less<>> variables;

  // The value of `name`, "" when unset: the way Go's os.Getenv answers, and gopls treats an
  // empty value as unset.
  std::string value(std::string_view name) const;
};

// More than any environment a unit gives gopls (a few KiB); the kernel allows up to a quarter of
// the stack limit, 2 MiB by default.
inline constexpr size_t kMaxEnvironBytes = size_t{1} << 20;

// NUL-separated NAME=VALUE strings; the last may lack its NUL. When a name comes twice the
// first wins, as in Go's syscall.Getenv (and glibc's getenv). Strings without '=' or with an
// empty name are not variables and are left out. Text longer than kMaxEnvironBytes is refused.
Result<ProcessEnviron> parseProcessEnviron(std::string_view text);

// /proc/PID/environ under `roots`, reading at most kMaxEnvironBytes. Only the process' own user
// (or root) may read it: another user's process is an EACCES error.
Result<ProcessEnviron> readProcessEnviron(const SysRoots& roots, pid_t pid);

}  // namespace wslgo
