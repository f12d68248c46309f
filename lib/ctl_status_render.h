// `wslgo-guardctl status` as text: GetStatus' JSON rendered for a person, a pure function of
// the JSON, the time, colour and width, so it can be golden-tested.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "lib/result.h"

namespace wslgo {

struct StatusView {
  uint64_t nowUsec = 0;  // CLOCK_REALTIME µs, what "3 min ago" is measured from
  bool colour = false;   // ANSI SGR colours
  int width = 80;        // the terminal's columns; the bars grow with it
};

// The whole status: a header with the guard's state, a system line (MemAvailable, swap,
// memory PSI avg10), then a block per workspace (path; state; memory against its limits with
// a bar; Go heap, RSS, restarts, editors; last action and when), then the gopls processes the
// guard does not run. An error when `statusJson` is not GetStatus' JSON (schema_version 1).
Result<std::string> renderStatus(std::string_view statusJson, const StatusView& view);

// "just now", "42 s ago", "3 min ago", "5 h ago", "2 days ago"; "never" for 0.
std::string describeAgo(uint64_t thenUsec, uint64_t nowUsec);

}  // namespace wslgo
