// `wslgo-guardctl editor-config`: the exact editor settings for a workspace's gopls: the
// session keeper's socket (every module) and the workspace's own socket.
#pragma once

#include <functional>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/ctl_command.h"
#include "lib/result.h"

namespace wslgo::ctl {

// `guardStatus` answers GetStatus' JSON, or an error saying the guard is not reachable (exit 3).
void addEditorConfigCommand(CLI::App& app, Run& run,
                            std::function<Result<std::string>()> guardStatus);

}  // namespace wslgo::ctl
