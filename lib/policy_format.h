// Human-readable figures for decision reasons: "3.20 GiB", "-40.0 MiB", "12.5%".
#pragma once

#include <string>

namespace wslgo {

// Two decimals in GiB, so a value and the threshold it crossed never print alike. Signed: a
// negative number of bytes freed means memory grew. Durations use formatDuration
// (lib/config_values.h).
std::string describeBytes(double bytes);      // "812 KiB", "96.0 MiB", "3.20 GiB"
std::string describePercent(double percent);  // "12.5%"

}  // namespace wslgo
