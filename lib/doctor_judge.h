// judge(): the checks of `wslgo-guardctl doctor`, each a verdict with a one-line fix, computed
// from DoctorFacts alone.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "lib/doctor_facts.h"

namespace wslgo {

// Skip: the check could not be made here (no hardware clock to compare with); it neither passes
// nor counts against the machine.
enum class Verdict { Pass, Warn, Fail, Skip };

std::string_view toString(Verdict verdict);  // "PASS", "WARN", "FAIL", "SKIP"

struct DoctorCheck {
  std::string name = {};       // stable id: "wsl", "user-manager", "memory", "controls"...
  std::string workspace = {};  // the workspace root for per-workspace checks; empty otherwise
  Verdict verdict = Verdict::Pass;
  std::string message = {};  // what was found, one line
  std::string fix = {};      // what to do, one line; empty for PASS
};

// The memory doctor asks of a machine (a WSL VM's `memory=8GB`): gopls on a large module wants
// several GiB, and the guard's default lines are shares of MemTotal. MemTotal counts RAM less
// what the kernel reserved, so a machine is judged against 90 % of it.
inline constexpr uint64_t kDoctorWantedMemory = uint64_t{8} << 30;
// The system clock this far from the hardware clock is a skew worth fixing.
inline constexpr int64_t kDoctorClockSkewSeconds = 5;

// Every check, system ones first, then per workspace of GetStatus (when the guard answered).
std::vector<DoctorCheck> judge(const DoctorFacts& facts);

// True when any check failed: the command then exits 1.
bool anyFailed(const std::vector<DoctorCheck>& checks);

}  // namespace wslgo
