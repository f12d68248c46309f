// RateLimiter: at most N events within a sliding time window (restarts per 30 minutes).
#pragma once

#include <cstddef>
#include <optional>
#include <vector>

#include "lib/usec.h"

namespace wslgo {

class RateLimiter {
 public:
  // How many recorded events lie within (now - window, now].
  size_t count(Usec now, Usec window) const;
  bool allows(Usec now, Usec window, size_t limit) const { return count(now, window) < limit; }
  void record(Usec now, Usec window);
  // When the oldest event inside the window leaves it; unset when there is none.
  std::optional<Usec> oldestExpiresAt(Usec now, Usec window) const;
  void clear() { events_.clear(); }

 private:
  std::vector<Usec> events_;  // oldest first; pruned on record, so it stays small
};

}  // namespace wslgo
