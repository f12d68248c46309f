#include "lib/cgroup_memory.h"
#include "lib/text_lines.h"

#include <charconv>

namespace wslgo {
namespace {

// The v1 memory controller reports "no limit" as PAGE_COUNTER_MAX pages in bytes:
// 9223372036854771712 with 4 KiB pages, other values with other page sizes. Nothing real is
// limited to 4 EiB or more, so any such value means unlimited.
constexpr uint64_t kUnlimitedFrom = uint64_t{1} << 62;

std::string quoted(std::string_view text) {
  constexpr size_t kShown = 40;
  std::string out = "'";
  out += text.substr(0, kShown);
  if (text.size() > kShown) out += "...";
  out += "'";
  return out;
}

// A whole-field unsigned number; overflow is reported, not wrapped.
Result<uint64_t> parseNumber(std::string_view text) {
  uint64_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec == std::errc::result_out_of_range) {
    return parseError({}, "the number " + quoted(text) + " does not fit in 64 bits");
  }
  if (text.empty() || ec != std::errc() || ptr != end) {
    return parseError({}, "expected a number, found " + quoted(text));
  }
  return value;
}

// Walks "KEY VALUE" lines (memory.stat, memory.events), handing each numeric value to `assign`.
// Every line must have a numeric value: a line cut short by a truncated read would otherwise
// pass for a complete one.
template <class Assign>
Result<void> forEachKeyValue(std::string_view text, Assign&& assign) {
  for (const TextLine& numbered : TextLines(text)) {
    std::string_view line = numbered.text;
    if (line.empty()) continue;
    size_t space = line.find(' ');
    if (space == std::string_view::npos) {
      return parseError({}, "line " + std::to_string(numbered.number) +
                                ": expected 'KEY VALUE', found " + quoted(line));
    }
    auto value = parseNumber(line.substr(space + 1));
    if (!value) {
      return parseError({}, "line " + std::to_string(numbered.number) + " (" +
                                std::string(line.substr(0, space)) + "): " + value.error().message);
    }
    assign(line.substr(0, space), *value);
  }
  return {};
}

Result<void> requireLines(std::initializer_list<std::pair<std::string_view, bool>> lines) {
  for (const auto& [key, present] : lines) {
    if (!present) return parseError({}, "no '" + std::string(key) + "' line (truncated?)");
  }
  return {};
}

}  // namespace

std::string_view toString(MemorySource source) {
  switch (source) {
    case MemorySource::None:
      return "none";
    case MemorySource::CgroupV2:
      return "cgroup-v2";
    case MemorySource::CgroupV1:
      return "cgroup-v1";
    case MemorySource::ProcessRss:
      return "process-rss";
  }
  return "unknown";
}

Result<uint64_t> parseCgroupValue(std::string_view text) {
  return parseNumber(trimWhitespace(text));
}

Result<MemoryLimit> parseMemoryLimit(std::string_view text) {
  std::string_view value = trimWhitespace(text);
  if (value == "max") return MemoryLimit::unlimited();
  auto bytes = parseNumber(value);
  if (!bytes) return parseError({}, "expected 'max' or a number of bytes, found " + quoted(value));
  if (*bytes >= kUnlimitedFrom) return MemoryLimit::unlimited();
  return MemoryLimit::of(*bytes);
}

Result<CgroupMemoryStat> parseCgroupV2MemoryStat(std::string_view text) {
  CgroupMemoryStat stat;
  auto parsed = forEachKeyValue(text, [&stat](std::string_view key, uint64_t value) {
    if (key == "anon") {
      stat.anon = value;
    } else if (key == "file") {
      stat.file = value;
    } else if (key == "kernel") {
      stat.kernel = value;
    } else if (key == "shmem") {
      stat.shmem = value;
    } else if (key == "sock") {
      stat.sock = value;
    } else if (key == "inactive_file") {
      stat.inactiveFile = value;
    } else if (key == "active_file") {
      stat.activeFile = value;
    }
  });
  if (!parsed) return parsed.error();
  // Every v2 kernel with memory.stat has these; their absence means a cut-off or foreign file.
  if (auto required = requireLines({{"anon", stat.anon.has_value()},
                                    {"file", stat.file.has_value()},
                                    {"inactive_file", stat.inactiveFile.has_value()}});
      !required) {
    return required.error();
  }
  return stat;
}

Result<CgroupMemoryStat> parseCgroupV1MemoryStat(std::string_view text) {
  CgroupMemoryStat stat;
  // The total_* lines include descendants, which is what a unit's figure must be; the plain
  // lines count only tasks directly in the cgroup.
  auto parsed = forEachKeyValue(text, [&stat](std::string_view key, uint64_t value) {
    if (key == "total_rss") {
      stat.anon = value;
    } else if (key == "total_cache") {
      stat.file = value;
    } else if (key == "total_shmem") {
      stat.shmem = value;
    } else if (key == "total_inactive_file") {
      stat.inactiveFile = value;
    } else if (key == "total_active_file") {
      stat.activeFile = value;
    } else if (key == "total_swap") {
      stat.swap = value;
    }
  });
  if (!parsed) return parsed.error();
  if (auto required = requireLines({{"total_rss", stat.anon.has_value()},
                                    {"total_cache", stat.file.has_value()},
                                    {"total_inactive_file", stat.inactiveFile.has_value()}});
      !required) {
    return required.error();
  }
  return stat;
}

Result<MemoryEvents> parseMemoryEvents(std::string_view text) {
  MemoryEvents events;
  bool low = false, high = false, max = false, oom = false;
  auto parsed = forEachKeyValue(text, [&](std::string_view key, uint64_t value) {
    if (key == "low") {
      events.low = value;
      low = true;
    } else if (key == "high") {
      events.high = value;
      high = true;
    } else if (key == "max") {
      events.max = value;
      max = true;
    } else if (key == "oom") {
      events.oom = value;
      oom = true;
    } else if (key == "oom_kill") {
      events.oomKill = value;
    }
  });
  if (!parsed) return parsed.error();
  if (auto required = requireLines({{"low", low}, {"high", high}, {"max", max}, {"oom", oom}});
      !required) {
    return required.error();
  }
  return events;
}

std::optional<uint64_t> MemorySample::workingSet() const {
  if (!current) return std::nullopt;
  // memory.stat is read a moment after memory.current, so inactive_file may briefly exceed it.
  uint64_t inactive = stat.inactiveFile.value_or(0);
  return *current > inactive ? *current - inactive : 0;
}

}  // namespace wslgo
