// Traces: the JSONL format the simulator replays and the daemon records (see
// tests/traces/README.md).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "lib/policy_decision.h"
#include "lib/policy_snapshot.h"
#include "lib/result.h"

namespace wslgo {

// How the simulated gopls answers the guard's actions, for synthetic traces whose figures
// cannot know when the guard will act. A recorded trace has none: its figures already show
// what the actions did, and its outcome lines say so.
struct SimulationModel {
  double gcFrees = 0;                 // a GC frees this share of the workspace's memory
  double trimFrees = 0;               // a cache trim frees this share
  std::optional<uint64_t> restartTo;  // a restart brings memory back to this many bytes
};

struct TraceLine {
  enum class Kind { Snapshot, Outcome, Model, Blank };
  Kind kind = Kind::Blank;
  Snapshot snapshot;
  ActionOutcome outcome;
  SimulationModel model;
};

// One line of a trace. Blank lines read as Kind::Blank. Errors name the JSON pointer.
Result<TraceLine> parseTraceLine(std::string_view line);

// One line of JSON without the trailing newline; parseTraceLine reads it back unchanged.
// Bytes of a workspace id that are not UTF-8 are written as U+FFFD.
std::string serializeSnapshot(const Snapshot& snapshot);
std::string serializeOutcome(const ActionOutcome& outcome);
std::string serializeModel(const SimulationModel& model);

}  // namespace wslgo
