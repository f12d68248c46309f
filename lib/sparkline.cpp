#include "lib/sparkline.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>

namespace wslgo {
namespace {

constexpr std::array<const char*, 8> kBlocks = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};

// The largest value of each of `columns` equal shares of `values` (columns < values.size()).
std::vector<uint64_t> peaksPerColumn(const std::vector<uint64_t>& values, size_t columns) {
  std::vector<uint64_t> peaks(columns, 0);
  const size_t count = values.size();
  for (size_t column = 0; column < columns; ++column) {
    const size_t begin = column * count / columns;
    const size_t end = (column + 1) * count / columns;
    peaks[column] = *std::max_element(values.begin() + static_cast<std::ptrdiff_t>(begin),
                                      values.begin() + static_cast<std::ptrdiff_t>(end));
  }
  return peaks;
}

// 0 is ▁, (0, max/8] too, up to (7/8 max, max] and above as █: every step is an eighth.
const char* blockFor(uint64_t value, uint64_t max) {
  if (max == 0 || value == 0) return kBlocks.front();
  if (value >= max) return kBlocks.back();
  const auto eighths = static_cast<size_t>(std::ceil(
      static_cast<double>(value) * static_cast<double>(kBlocks.size()) / static_cast<double>(max)));
  return kBlocks[std::clamp<size_t>(eighths, 1, kBlocks.size()) - 1];
}

}  // namespace

std::string sparkline(const std::vector<uint64_t>& values, int width, std::optional<uint64_t> max) {
  if (width <= 0) return {};
  const auto columnCount = static_cast<size_t>(width);
  const std::vector<uint64_t> columns =
      values.size() > columnCount ? peaksPerColumn(values, columnCount) : values;
  const uint64_t top =
      max.value_or(columns.empty() ? 0 : *std::max_element(columns.begin(), columns.end()));
  std::string out(columnCount - columns.size(), ' ');
  for (uint64_t value : columns) out += blockFor(value, top);
  return out;
}

}  // namespace wslgo
