// `wslgo-guardctl inspect`, `simulate` and `config check`: the commands that need no running
// guard (what this machine offers, a trace replayed through the policy engine, a configuration
// checked with the guard's own validator).
#pragma once

#include <CLI/CLI.hpp>

#include "cli/ctl_command.h"

namespace wslgo::ctl {

void addOfflineCommands(CLI::App& app, Run& run);

}  // namespace wslgo::ctl
