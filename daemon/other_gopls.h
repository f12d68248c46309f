// OtherGoplsScan: the gopls processes on the machine, for GetStatus, walked from /proc at most
// once a second however often it is asked: the walk is most of a GetStatus call's cost.
#pragma once

#include <optional>
#include <vector>

#include "daemon/workspace_status.h"
#include "lib/sys_roots.h"
#include "lib/usec.h"

namespace wslgo {

class OtherGoplsScan {
 public:
  static constexpr Usec kMaxAge = std::chrono::seconds(1);

  explicit OtherGoplsScan(SysRoots roots) : roots_(std::move(roots)) {}

  // Every gopls process, the guard's own included (statusJson leaves those out).
  const std::vector<OtherGopls>& processes(Usec now);

 private:
  SysRoots roots_;
  std::vector<OtherGopls> processes_;
  std::optional<Usec> scannedAt_;
};

}  // namespace wslgo
