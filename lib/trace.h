// Traces: the JSONL format the simulator replays (see
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
  // A GC frees this share of the workspace's memory, as much as Go has returned by the time the
  // GC is judged.
  double gcFrees = 0;
  double trimFrees = 0;                 // a cache trim frees this share
  std::optional<uint64_t> restartTo{};  // a restart brings memory back to this many bytes
  // A GC frees this share of the Go heap at once, and its outcome quotes the heap before and
  // after. Unset, the heap falls by the bytes the GC freed and the outcome quotes no heap: the
  // model as it was before GCs were judged on the heap too.
  std::optional<double> gcHeapFrees{};
  // A restart brings the Go heap to this many bytes; unset, it falls by the memory freed.
  std::optional<uint64_t> restartHeapTo{};
};

struct TraceLine {
  enum class Kind { Snapshot, Outcome, Model, Blank };
  Kind kind = Kind::Blank;
  Snapshot snapshot;
  ActionOutcome outcome;
  SimulationModel model;
};

// One line of a trace. Blank lines read as Kind::Blank. Errors name the JSON pointer; a key the
// line's type does not know is one, so that a misspelt key is not silently ignored.
Result<TraceLine> parseTraceLine(std::string_view line);

// One line of JSON without the trailing newline; parseTraceLine reads it back unchanged.
// Bytes of a workspace id that are not UTF-8 are written as U+FFFD.
std::string serializeSnapshot(const Snapshot& snapshot);
std::string serializeOutcome(const ActionOutcome& outcome);
std::string serializeModel(const SimulationModel& model);

}  // namespace wslgo
