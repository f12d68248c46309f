#include "lib/heap_stats.h"

#include <array>
#include <charconv>
#include <string>
#include <utility>

namespace wslgo {
namespace {

constexpr std::string_view kTrailer = "# runtime.MemStats";

struct Field {
  std::string_view name;
  uint64_t HeapStats::*member;
};

constexpr std::array kFields = {
    Field{"HeapAlloc", &HeapStats::heapAlloc}, Field{"HeapInuse", &HeapStats::heapInuse},
    Field{"HeapSys", &HeapStats::heapSys},     Field{"NextGC", &HeapStats::nextGC},
    Field{"NumGC", &HeapStats::numGC},         Field{"Sys", &HeapStats::sys},
};

std::string_view trimRight(std::string_view s) {
  while (!s.empty() && (s.back() == '\r' || s.back() == ' ')) s.remove_suffix(1);
  return s;
}

}  // namespace

Result<HeapStats> parsePprofHeapDebug1(std::string_view text) {
  // The trailer starts a line; the samples above it hold "#\t0x..." frames, never this text.
  size_t start = text.find(kTrailer);
  while (start != std::string_view::npos && start != 0 && text[start - 1] != '\n') {
    start = text.find(kTrailer, start + 1);
  }
  if (start == std::string_view::npos) {
    return parseError({},
                      "no \"# runtime.MemStats\" section: not the body of "
                      "/debug/pprof/heap?debug=1 from a Go program, or cut short");
  }
  std::string_view rest = text.substr(start);

  HeapStats stats;
  std::array<bool, kFields.size()> seen{};
  while (!rest.empty()) {
    size_t newline = rest.find('\n');
    std::string_view line = trimRight(rest.substr(0, newline));
    rest = newline == std::string_view::npos ? std::string_view() : rest.substr(newline + 1);

    if (!line.starts_with("# ")) continue;
    line.remove_prefix(2);
    // "Name = value"; a line cut right after "=" still names its field.
    size_t equals = line.find(" =");
    if (equals == std::string_view::npos) continue;
    std::string_view name = line.substr(0, equals);
    std::string_view value = line.substr(equals + 2);
    if (value.starts_with(' ')) value.remove_prefix(1);
    for (size_t i = 0; i < kFields.size(); ++i) {
      if (kFields[i].name != name) continue;
      uint64_t number = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), number);
      if (ec == std::errc::result_out_of_range) {
        return fieldError("runtime.MemStats", name, value, "the number does not fit in 64 bits");
      }
      if (ec != std::errc() || end != value.data() + value.size()) {
        return fieldError("runtime.MemStats", name, value, "expected a decimal number");
      }
      stats.*kFields[i].member = number;
      seen[i] = true;
    }
  }
  for (size_t i = 0; i < kFields.size(); ++i) {
    if (!seen[i]) {
      std::string message = "runtime.MemStats has no ";
      message += kFields[i].name;
      message += " line: the body was cut short or comes from an unknown Go version";
      return parseError({}, std::move(message));
    }
  }
  return stats;
}

}  // namespace wslgo
