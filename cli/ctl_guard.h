// Guard: wslgo-guardctl's link to org.wslgo.Guard1 on the user bus, every call's failure
// turned into one line a person can act on.
#pragma once

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "cli/ctl_command.h"
#include "lib/result.h"
#include "lib/sample_history.h"

namespace sdbus {
class IConnection;
}

namespace wslgo::ctl {

// The guard answers every method within 20 s (StillRunning for an action that goes on); 25 s
// leaves it room to say so before the bus gives up on it.
inline constexpr std::chrono::seconds kCallTimeout{25};

// Which failure an Error returned by Guard is, in its `code` (the errnos the guard itself maps
// to its bus errors). Its `message` is the whole line for a person, with what to do: print it
// as is (describe() would append strerror, which says nothing more here).
inline constexpr int kGuardUnreachable = EHOSTUNREACH;  // nobody answers for org.wslgo.Guard1
inline constexpr int kNoSuchWorkspace = ESRCH;          // org.wslgo.Guard1.Error.NotFound
inline constexpr int kStillRunning = EINPROGRESS;       // org.wslgo.Guard1.Error.StillRunning
inline constexpr int kCallFailed = EIO;                 // anything else the guard or bus said

// The exit code a command ends with when a guard call failed with `error`.
ExitCode exitCodeFor(const Error& error);

// A workspace as the guard names it: its object and its root.
struct WorkspaceRef {
  std::string object;  // /org/wslgo/Guard1/workspace/…
  std::string path;    // the workspace root (its Path property)
};

struct GcOutcome {
  uint64_t before = 0;
  uint64_t after = 0;
};

// Connects on the first call, so commands that need no guard (--help, the CLI's own version)
// never touch the bus. Not thread-safe; one per run.
class Guard {
 public:
  Guard();
  ~Guard();
  Guard(const Guard&) = delete;
  Guard& operator=(const Guard&) = delete;

  // Every call from now on gives up after `timeout` (kCallTimeout until then). For callers that
  // must not wait on a hung guard, such as a shell completing a Tab.
  void limitCallsTo(std::chrono::milliseconds timeout);

  // org.wslgo.Guard1.Manager
  Result<std::string> status();   // GetStatus' JSON
  Result<std::string> version();  // the Version property
  Result<void> reload();
  Result<bool> dryRun();
  Result<void> setDryRun(bool on);
  Result<WorkspaceRef> addWorkspace(const std::string& absolutePath);
  Result<void> removeWorkspace(const std::string& path);
  // The workspace that holds `path` (GetWorkspace), with its root.
  Result<WorkspaceRef> workspaceHolding(const std::string& path);

  // org.wslgo.Guard1.Workspace
  Result<std::string> unit(const WorkspaceRef& workspace);
  Result<GcOutcome> collectGarbage(const WorkspaceRef& workspace);
  Result<uint64_t> trimCache(const WorkspaceRef& workspace);
  Result<void> restart(const WorkspaceRef& workspace, const std::string& reason);
  Result<std::string> captureHeapProfile(const WorkspaceRef& workspace);
  // GetHistory: the samples taken at or after `sinceWallUsec` (CLOCK_REALTIME µs), oldest first.
  Result<std::vector<HistorySample>> history(const WorkspaceRef& workspace, uint64_t sinceWallUsec);

 private:
  Result<sdbus::IConnection*> connection();

  std::unique_ptr<sdbus::IConnection> connection_;
  std::chrono::milliseconds callTimeout_ = kCallTimeout;
};

}  // namespace wslgo::ctl
