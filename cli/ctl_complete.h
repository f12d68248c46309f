// Hidden wslgo-guardctl commands for the shell completions (completions/): `__workspaces`
// prints the guarded workspaces' roots, one per line.
#pragma once

#include <chrono>

#include <CLI/CLI.hpp>

#include "cli/ctl_command.h"
#include "cli/ctl_guard.h"

namespace wslgo::ctl {

// How long a Tab waits for the guard's list: a running guard answers GetStatus in
// milliseconds; one that does not answer within this gives no candidates, not a frozen shell.
inline constexpr std::chrono::milliseconds kCompletionCallTimeout{1500};

// `__workspaces`: one workspace root per line, from GetStatus. A completion must never print
// errors into the user's command line, so when the guard is not reachable (or answers
// something unreadable) it prints nothing and exits 0. Hidden from --help.
void addCompletionHelpers(CLI::App& app, Run& run, Guard& guard);

}  // namespace wslgo::ctl
