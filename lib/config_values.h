// Config values: sizes, durations and percentages as people write them in the configuration.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "lib/result.h"
#include "lib/usec.h"

namespace wslgo {

// A byte count: "1048576", "800M", "3G", "1.5G", "512MiB". Suffixes are binary (K = 1024) and the
// letter may be lower case; "KiB".."TiB" are accepted, "KB".."TB" are rejected because people
// mean 1000 by them as often as 1024. A fraction is allowed with a suffix ("1.5G", at most six
// decimals) and rounds down to whole bytes. Overflow of uint64 is an error, never a wrap.
Result<uint64_t> parseBytes(std::string_view text);

// A percentage: "40%", "12.5%"; must be above 0 and at most 100.
Result<double> parsePercentage(std::string_view text);

// A size as the configuration takes it: bytes (see parseBytes) or a percentage of memTotal,
// rounded down to whole bytes. A percentage with memTotal == 0 (unknown) is an error.
Result<uint64_t> parseSize(std::string_view text, uint64_t memTotal);

// A duration: one or more number+unit pairs, "500ms", "30s", "5m", "1h", "1h30m", "1.5s". Units:
// us, ms, s, m, h. A bare number is rejected: nobody can tell whether "30" means seconds or ms.
Result<Usec> parseDuration(std::string_view text);

// "1.5G", "512M", "4K", "300B": the largest binary unit that keeps one decimal honest; for
// messages, so a percentage can be shown with what it resolved to.
std::string formatBytes(uint64_t bytes);

// "1h30m", "2s", "250ms": for messages.
std::string formatDuration(Usec duration);

}  // namespace wslgo
