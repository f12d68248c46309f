// A sparkline: a row of numbers drawn as the block characters ▁▂▃▄▅▆▇█, one per column.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace wslgo {

// `values`, oldest first, in `width` columns (always that many), drawn from 0 (▁) to `max` (█;
// unset: the largest value), values above it as █. More values than columns: each column shows
// the largest value of its share of them (a peak must not vanish between columns). Fewer:
// right-aligned, newest in the last column, blanks before. A max of 0 (all values 0) draws ▁
// throughout. UTF-8; each character is one column.
std::string sparkline(const std::vector<uint64_t>& values, int width,
                      std::optional<uint64_t> max = std::nullopt);

}  // namespace wslgo
