#include "lib/ctl_watch_render.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "lib/doctor_status.h"
#include "lib/policy_format.h"
#include "lib/sparkline.h"

namespace wslgo {
namespace {

constexpr int kPathColumns = 24;
constexpr int kMinSparkline = 10;

// The number of columns `text` takes: UTF-8 continuation bytes take none.
int columnsOf(std::string_view text) {
  return static_cast<int>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

// `path` in `columns` columns: its end (the part that tells workspaces apart) after "…" when
// too long, padded with blanks when short.
std::string fitted(const std::string& path, int columns) {
  const int have = columnsOf(path);
  if (have <= columns) return path + std::string(static_cast<size_t>(columns - have), ' ');
  size_t start = path.size();
  for (int kept = 0; start > 0 && kept < columns - 1;) {
    --start;
    if ((static_cast<unsigned char>(path[start]) & 0xC0) != 0x80) ++kept;
  }
  return "…" + path.substr(start);
}

const MemoryHistory* historyOf(const std::vector<MemoryHistory>& histories,
                               const std::string& path) {
  auto it = std::find_if(histories.begin(), histories.end(),
                         [&](const MemoryHistory& history) { return history.path == path; });
  return it == histories.end() ? nullptr : &*it;
}

std::string historyLine(const std::string& path, const MemoryHistory* history, int width) {
  std::string line = "  " + fitted(path, kPathColumns) + "  ";
  if (history == nullptr || history->memory.empty()) return line + "no samples yet\n";
  const uint64_t peak = *std::max_element(history->memory.begin(), history->memory.end());
  const std::string tail = "  peak " + describeBytes(static_cast<double>(peak));
  const int room = std::max(width - columnsOf(line) - columnsOf(tail), kMinSparkline);
  return line + sparkline(history->memory, room, peak) + tail + "\n";
}

std::string cutToLines(const std::string& text, int height) {
  size_t end = 0;
  for (int line = 0; line < std::max(height, 1); ++line) {
    const size_t newline = text.find('\n', end);
    if (newline == std::string::npos) return text;
    end = newline + 1;
  }
  return text.substr(0, end);
}

}  // namespace

Result<std::string> renderWatchFrame(std::string_view statusJson,
                                     const std::vector<MemoryHistory>& histories,
                                     const WatchView& view) {
  auto status = renderStatus(statusJson, view.status);
  if (!status) return status.error();
  std::string frame =
      "Every " + std::to_string(view.intervalSeconds) + " s; q or Ctrl-C quits\n\n" + *status;
  const std::vector<std::string> paths = workspaceRootsIn(statusJson);
  if (!paths.empty()) {
    frame += "\nMemory, the last " + std::to_string(view.spanMinutes) +
             " min (from 0 to each workspace's peak)\n";
    for (const std::string& path : paths) {
      frame += historyLine(path, historyOf(histories, path), view.status.width);
    }
  }
  return cutToLines(frame, view.height);
}

}  // namespace wslgo
