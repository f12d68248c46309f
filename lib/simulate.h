// The trace simulator: replays a JSONL trace through the policy engine and renders the timeline.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "lib/policy_decision.h"
#include "lib/policy_engine.h"
#include "lib/result.h"

namespace wslgo {

// One line of the timeline: time since `origin`, workspace (or "system"), level, what, reason.
// "00:04:12  /home/dev/app          warning   gc          memory 2.05 GiB above warning …"
std::string renderDecision(const Decision& decision, Usec origin);

// Replays `trace` (the text of a .jsonl file) and returns the timeline, one decision per line,
// then a summary line. Executed actions (not dry-run ones) act on later snapshots through the
// trace's model line if it has one, until the trace shows a new process (NRestarts changed, or
// a process first seen after them), and their outcomes go back to the engine; outcome lines in
// the trace go back to the engine as they come. The first malformed line is the error.
Result<std::string> simulateTrace(const PolicyEngine& engine, std::string_view trace);

// MemTotal of the trace's first snapshot, which percentages in the config resolve against.
std::optional<uint64_t> traceMemTotal(std::string_view trace);

// The config a replay uses: `defaultsFile` (the shipped default.json), then `overrideFile`
// when not empty. Not /etc or the user's file: a replay must not depend on the machine.
Result<Config> loadSimulationConfig(const std::string& defaultsFile,
                                    const std::string& overrideFile, std::string_view trace,
                                    const std::string& home);

}  // namespace wslgo
