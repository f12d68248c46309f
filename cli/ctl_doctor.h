// `wslgo-guardctl doctor`: checks what wslgo-guard needs on this machine (WSL, systemd, memory,
// swap, cgroups, the clock, gopls) and what the guard can do for each workspace, PASS / WARN /
// FAIL with a fix each; exit 1 when any check fails.
#pragma once

#include <functional>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/ctl_command.h"
#include "lib/result.h"

namespace wslgo::ctl {

// `guardStatus` answers GetStatus' JSON, or an error saying the guard is not reachable; doctor
// then still runs every other check.
void addDoctorCommand(CLI::App& app, Run& run, std::function<Result<std::string>()> guardStatus);

}  // namespace wslgo::ctl
