// Decision: one entry the policy engine reports — a level change, an action, or a notice.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "lib/levels.h"
#include "lib/usec.h"

namespace wslgo {

enum class DecisionKind {
  Level,       // a workspace's (or the system's) level changed
  Action,      // run `action` on `workspace` (or, in dry run, report that it would)
  Outcome,     // the effect an action had, as the daemon reported it
  Crash,       // the unit restarted without us: NRestarts rose
  CrashLoop,   // it did so repeatedly; our restarts stop until it settles
  Degraded,    // the restart limit is reached; no more restarts of this workspace for now
  Restored,    // a degraded or over-budget workspace may be restarted again
  OverBudget,  // it reloads past the level it was restarted for: restarts cannot help it
};

std::string_view toString(DecisionKind kind);

// A workspace's metrics, as the daemon's ThresholdCrossed signal names them.
enum class Metric { Memory, Rss, Heap };

std::string_view toString(Metric metric);  // "memory", "rss", "heap"

// Which metric put a workspace at a new level, its value and that level's threshold (bytes).
struct Crossing {
  Metric metric = Metric::Memory;
  uint64_t value = 0;
  uint64_t threshold = 0;
};

// An over-budget workspace: what it reloaded to after the guard's restart, against the line of
// the level it was restarted for.
struct Budget {
  Metric metric = Metric::Memory;
  Level level = Level::High;
  uint64_t loaded = 0;
  uint64_t threshold = 0;
};

// Decisions and outcomes are built with designated initializers that name only what they set;
// every member has an initializer so that GCC's -Wmissing-field-initializers accepts that.
struct Decision {
  Usec at{0};
  DecisionKind kind = DecisionKind::Level;
  std::string workspace{};  // empty: the system as a whole
  Level level = Level::Ok;
  std::optional<ActionKind> action{};  // set for Action and Outcome
  bool dryRun = false;                 // an Action to report as "would …", not to run
  bool systemRelief = false;           // an Action taken for the system, not the workspace
  std::string reason{};                // for a person; quotes the numbers
  std::optional<Crossing> crossed{};   // on a workspace's Level decision above Ok
  std::optional<Budget> budget{};      // on an OverBudget decision
};

// What an executed action did, reported back by whoever ran it.
struct ActionOutcome {
  std::string workspace{};
  ActionKind action = ActionKind::Gc;
  uint64_t before = 0;  // judged memory (see docs/policy.md) when the action started, bytes
  uint64_t after = 0;   // and once it finished (for a GC: once Go returned the freed pages)
  // A GC's Go heap in use before it and right after it: the heap falls at once, while the pages
  // reach the system only over the following seconds.
  std::optional<uint64_t> heapBefore{};
  std::optional<uint64_t> heapAfter{};
  bool success = true;
  Usec at{0};
};

}  // namespace wslgo
