#include "daemon/other_gopls.h"

#include "lib/gopls_process.h"
#include "lib/process.h"

namespace wslgo {

const std::vector<OtherGopls>& OtherGoplsScan::processes(Usec now) {
  if (scannedAt_ && now - *scannedAt_ < kMaxAge) return processes_;
  scannedAt_ = now;
  processes_.clear();
  if (auto found = findGoplsProcesses(roots_)) {
    for (const GoplsProcess& gopls : *found) {
      OtherGopls other{.pid = gopls.pid,
                       .parent = 0,
                       .role = std::string(toString(gopls.invocation.role)),
                       .directory = gopls.workingDirectory,
                       .rss = std::nullopt};
      if (auto status = readProcessStatus(roots_, gopls.pid)) {
        other.parent = status->ppid;
        other.rss = status->vmRss;
      }
      processes_.push_back(std::move(other));
    }
  }
  return processes_;
}

}  // namespace wslgo
