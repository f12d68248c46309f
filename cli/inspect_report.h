// The inspect report: what the guard sees on this machine (memory, PSI, cgroups, gopls
// processes), shared by wslgo-inspect and `wslgo-guardctl inspect`. Read-only.
#pragma once

#include <iosfwd>
#include <string_view>

#include "lib/sys_roots.h"

namespace wslgo {

// Writes the report for the machine under `roots` to `out`, as text or as one JSON document.
// Returns 0, or 1 after one "PROGRAM: what could not be read" line on `err`.
int writeInspectReport(const SysRoots& roots, bool json, std::string_view program,
                       std::ostream& out, std::ostream& err);

}  // namespace wslgo
