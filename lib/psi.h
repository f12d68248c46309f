// Pressure stall information: /proc/pressure/{memory,cpu,io} and cgroup *.pressure files.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "lib/kept_file.h"
#include "lib/result.h"
#include "lib/sys_roots.h"

namespace wslgo {

// One line of a PSI file: the share of wall time (in percent) some or all tasks stalled.
struct PressureLine {
  double avg10 = 0;
  double avg60 = 0;
  double avg300 = 0;
  uint64_t totalUsec = 0;  // cumulative stall time in microseconds
};

struct Pressure {
  PressureLine some;
  // The system-wide cpu file only gained a "full" line in 5.13; absent means not reported.
  std::optional<PressureLine> full;
};

enum class PressureResource { Memory, Cpu, Io };

// The "some" line is required and must carry avg10, avg60, avg300 and total; "full" is optional.
// Lines of another kind and unknown keys are ignored so a future kernel's additions do not break
// sampling. Empty text, a missing "some" line or a value that does not parse is an error.
Result<Pressure> parsePressure(std::string_view text);

// Where the system-wide file of `resource` is: proc + "/pressure/memory" and so on.
std::string systemPressurePath(const SysRoots& roots, PressureResource resource);

// System-wide PSI. Absent PSI (kernel without CONFIG_PSI, or psi=0) is a normal state and
// reads as an empty optional, not an error; other failures are errors.
Result<std::optional<Pressure>> readSystemPressure(const SysRoots& roots,
                                                   PressureResource resource);

// A PSI file (system or cgroup) kept open for repeated sampling. An absent file (ENOENT, or
// EOPNOTSUPP as the kernel answers with PSI disabled) reads as an empty optional, like
// readSystemPressure. A successful read parses in place and allocates nothing.
class PressureReader {
 public:
  explicit PressureReader(std::string path);
  const std::string& path() const { return file_.path(); }
  Result<std::optional<Pressure>> read();

 private:
  KeptFile file_;
};

}  // namespace wslgo
