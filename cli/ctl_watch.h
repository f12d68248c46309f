// `wslgo-guardctl watch`: the status redrawn every interval on the terminal's alternate screen,
// with a sparkline of each workspace's memory (lib/ctl_watch_render.h), until q or Ctrl-C.
#pragma once

#include <CLI/CLI.hpp>

#include "cli/ctl_command.h"
#include "cli/ctl_guard.h"
#include "lib/ctl_status_render.h"

namespace wslgo::ctl {

// `watch [--interval S] [--minutes M]`. Refuses (ExitCode::Usage) unless stdin and stdout are
// a terminal. It asks `run.host`'s clock and the terminal's size at every frame (the window may
// be resized while it runs); `view` gives only the start.
void addWatchCommand(CLI::App& app, Run& run, Guard& guard, const StatusView& view);

}  // namespace wslgo::ctl
