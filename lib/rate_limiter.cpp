#include "lib/rate_limiter.h"

#include <algorithm>

namespace wslgo {

size_t RateLimiter::count(Usec now, Usec window) const {
  return static_cast<size_t>(
      std::count_if(events_.begin(), events_.end(), [&](Usec at) { return now - at < window; }));
}

void RateLimiter::record(Usec now, Usec window) {
  std::erase_if(events_, [&](Usec at) { return now - at >= window; });
  events_.push_back(now);
}

std::optional<Usec> RateLimiter::oldestExpiresAt(Usec now, Usec window) const {
  for (Usec at : events_) {
    if (now - at < window) return at + window;
  }
  return std::nullopt;
}

}  // namespace wslgo
