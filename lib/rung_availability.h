// Which rungs of the ladder can do anything for one workspace on this host with its gopls, and
// why not: a rung that cannot work is skipped, not spent (#10).
#pragma once

#include <array>
#include <optional>
#include <string>

#include "lib/levels.h"
#include "lib/policy_snapshot.h"

namespace wslgo {

// What the daemon knows about a workspace that decides its rungs.
struct RungFacts {
  // gopls' debug server has answered for the current process, or it is still in its start-up
  // grace (then the engine does not act anyway).
  bool debugServerAnswers = true;
  // gopls runs without a debug server (gopls.debug_server false): GC only through
  // gopls.mem_stats, where `memStats` says gopls offers it (unset: not known yet).
  bool debugServerOff = false;
  std::optional<bool> memStats{};
  bool reclaimAvailable = false;  // memory.reclaim in the unit's cgroup (v2, Linux 5.19+)
  bool fileCache = false;         // this gopls keeps a file cache, and it is on disk
  std::string goplsVersion{};     // for the reason, "" when unknown

  bool operator==(const RungFacts&) const = default;
};

struct RungAvailability {
  RungSet rungs;
  std::array<std::string, 3> why;  // per ActionKind: empty when the rung can work

  const std::string& whyNot(ActionKind action) const { return why.at(static_cast<size_t>(action)); }
};

RungAvailability rungAvailability(const RungFacts& facts);

}  // namespace wslgo
