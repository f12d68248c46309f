// How `wslgo-guardctl doctor` shows its checks: aligned text lines (coloured on a terminal) or
// JSON for scripts.
#pragma once

#include <string>
#include <vector>

#include "lib/doctor_judge.h"

namespace wslgo {

// One line per check, "PASS  name: message", workspace checks as "name (ROOT)", and under each
// WARN or FAIL an indented "fix: ..." line; then a summary line. `colour` wraps the verdicts in
// ANSI colours (green, yellow, red).
std::string renderDoctorText(const std::vector<DoctorCheck>& checks, bool colour);

// {"checks": [{"name", "workspace" (null for system checks), "verdict" ("pass", "warn",
// "fail"), "message", "fix" (null for PASS)}], "summary": {"pass", "warn", "fail"}}, with a
// trailing newline.
std::string renderDoctorJson(const std::vector<DoctorCheck>& checks);

}  // namespace wslgo
