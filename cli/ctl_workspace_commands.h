// The wslgo-guardctl commands that act on a workspace or on the guard: add, remove, gc, trim,
// restart, profile, logs, reload, dry-run, version.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "cli/ctl_command.h"
#include "cli/ctl_guard.h"

namespace wslgo::ctl {

// `cwd` is what a PATH argument is relative to, and the PATH when none is given.
void addWorkspaceCommands(CLI::App& app, Run& run, Guard& guard, const std::string& cwd);

// `path` made absolute against `cwd` and normalized ("." and ".." folded, no trailing '/');
// `cwd` itself when `path` is empty. Symlinks are left to the guard, which resolves them.
std::string absolutePath(const std::string& cwd, const std::string& path);

}  // namespace wslgo::ctl
