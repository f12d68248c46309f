// Usec: time as the guard counts it, microseconds on the caller's clock.
#pragma once

#include <chrono>

namespace wslgo {

// Monotonic time and durations alike: the event loop's clock counts in microseconds, and a
// plain duration type keeps synthetic time in tests as easy as real time.
using Usec = std::chrono::microseconds;

}  // namespace wslgo
