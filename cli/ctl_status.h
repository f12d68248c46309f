// `wslgo-guardctl status`: the guard's state, rendered (lib/ctl_status_render.h) or as JSON.
#pragma once

#include <CLI/CLI.hpp>

#include "cli/ctl_command.h"
#include "cli/ctl_guard.h"
#include "lib/ctl_status_render.h"

namespace wslgo::ctl {

// Prints GetStatus: as is with `json`, else rendered for `view` (its colour comes from
// run.output). Sets run.exitCode on failure.
void showStatus(Run& run, Guard& guard, StatusView view, bool json);

// `status [--json]`; main also runs it when no command is given.
void addStatusCommand(CLI::App& app, Run& run, Guard& guard, const StatusView& view);

}  // namespace wslgo::ctl
