// `wslgo-guardctl watch` as text: one frame, the status (lib/ctl_status_render.h) plus a
// sparkline of each workspace's memory, a pure function of GetStatus' JSON and the histories.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "lib/ctl_status_render.h"
#include "lib/result.h"

namespace wslgo {

// One workspace's MemoryCurrent over the span shown, oldest first (GetHistory's samples).
struct MemoryHistory {
  std::string path;  // the workspace root, as GetStatus names it
  std::vector<uint64_t> memory;
};

struct WatchView {
  StatusView status;        // time, colour and the terminal's columns
  int height = 24;          // the terminal's rows: the frame is cut to them
  int intervalSeconds = 1;  // how often the frame is redrawn, for its header
  int spanMinutes = 5;      // how far back the histories reach, for their heading
};

// A header saying how often it refreshes and how to quit; the status; then one line per
// workspace in `statusJson`: its path, its sparkline scaled from 0 to its peak, and the peak.
// Lines end in "\n"; at most `view.height` of them. An error when `statusJson` is not GetStatus'
// JSON.
Result<std::string> renderWatchFrame(std::string_view statusJson,
                                     const std::vector<MemoryHistory>& histories,
                                     const WatchView& view);

}  // namespace wslgo
