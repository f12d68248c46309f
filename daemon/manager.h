// Manager: the guard's state and its one tick: sample, ask the policy engine, act, publish.
#pragma once

#include <sys/types.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "daemon/event_loop.h"
#include "daemon/manager_observer.h"
#include "daemon/memory_wakeup.h"
#include "daemon/views.h"
#include "lib/config.h"
#include "lib/policy_engine.h"
#include "lib/policy_state.h"
#include "lib/result.h"
#include "lib/sys_roots.h"

namespace wslgo {

class HttpClient;
class SystemdClient;
struct Workspace;

// Where the guard keeps and finds things; filled from the XDG variables by main, from a
// temporary tree by the tests.
struct ManagerPaths {
  std::string defaultConfig;              // the shipped default.json
  std::vector<ConfigLayer> configLayers;  // default < /etc < user, see standardConfigLayers
  std::string stateDir;    // $XDG_STATE_HOME/wslgo-guard: state.json, profiles/, units/
  std::string runtimeDir;  // $XDG_RUNTIME_DIR: sockets go to <runtimeDir>/wslgo-guard/
  std::string home;        // $HOME, for "~/" in the config and the cache directories
  std::string cacheHome;   // $XDG_CACHE_HOME ("" = ~/.cache): gopls' file cache is below
};

// Options an AddWorkspace call may carry (a{sv} on the bus).
struct AddOptions {
  bool allowNonModule = false;
};

class Manager {
 public:
  using Done = std::function<void(Result<void>)>;

  static Result<std::unique_ptr<Manager>> create(EventLoop& loop, SystemdClient& systemd,
                                                 HttpClient& http, SysRoots roots,
                                                 ManagerPaths paths);
  ~Manager();
  Manager(const Manager&) = delete;
  Manager& operator=(const Manager&) = delete;

  void setObserver(ManagerObserver* observer) { observer_ = observer; }

  // Re-adopts the registry's units (running ones keep running) and starts sampling.
  Result<void> start();

  // Workspaces. `path` may be any directory inside a workspace for findWorkspace.
  Result<std::string> addWorkspace(const std::string& path, const AddOptions& options);
  Result<void> removeWorkspace(const std::string& path);
  Result<std::string> findWorkspace(const std::string& path) const;
  std::vector<std::string> workspaceRoots() const;
  const WorkspaceView* workspaceView(const std::string& root) const;
  const ManagerView& managerView() const { return managerView_; }

  // Operator actions on one workspace; each completes through `done` on the loop.
  void collectGarbage(const std::string& root,
                      std::function<void(Result<std::pair<uint64_t, uint64_t>>)> done);
  void trimCache(const std::string& root, std::function<void(Result<uint64_t>)> done);
  void restart(const std::string& root, const std::string& reason, Done done);
  void captureHeapProfile(const std::string& root, std::function<void(Result<std::string>)> done);
  // (time µs since the epoch, memory current, rss, heap in use) since `sinceUsec`.
  Result<std::vector<std::tuple<uint64_t, uint64_t, uint64_t, uint64_t>>> history(
      const std::string& root, uint64_t sinceUsec) const;

  void setDryRun(bool dryRun);
  // Re-reads the configuration; an invalid one keeps the old and says why.
  Result<void> reload();
  // JSON for GetStatus (schema in docs/dbus-api.md).
  std::string statusJson() const;
  // "ok: 2 workspaces, MemAvailable 80%" for sd_notify STATUS=.
  std::string statusLine() const;

  // One sampling tick; public so tests and the benchmark can drive it.
  void tick(Usec now);

 private:
  Manager(EventLoop& loop, SystemdClient& systemd, HttpClient& http, SysRoots roots,
          ManagerPaths paths, Config config);

  Workspace* find(const std::string& root);
  const Workspace* find(const std::string& root) const;
  Result<void> saveRegistry() const;
  Result<void> writeUnitEnvironment(const Workspace& workspace) const;
  // Writes the unit's environment file, then starts the unit (or restarts it, so that a running
  // gopls picks the file up).
  Result<void> startUnit(Workspace& workspace, bool restart = false);
  void adopt(Workspace& workspace);
  void refreshUnit(Workspace& workspace);
  void sampleSystem(Snapshot& snapshot);
  void sampleWorkspace(Workspace& workspace, Usec now);
  void readHeapIfDue(Workspace& workspace, Usec now, bool force);
  // What an action did: judged memory before and after, and for a restart the heap profile
  // saved first (empty if none).
  struct ActionFigures {
    uint64_t before = 0;
    uint64_t after = 0;
    std::string detail;
  };
  using ActionDone = std::function<void(Result<ActionFigures>)>;

  void applyDecision(const Decision& decision);
  // Runs one action (policy's or an operator's); `done` may be empty. One action per workspace
  // at a time: a second is refused with EBUSY.
  void runAction(Workspace& workspace, ActionKind action, const std::string& reason,
                 ActionDone done);
  void finishAction(Workspace& workspace, ActionKind action, const std::string& reason,
                    uint64_t before, Result<std::string> result, ActionDone done);
  Result<std::string> trimNow(Workspace& workspace);
  void captureProfile(Workspace& workspace, bool requested,
                      std::function<void(Result<std::string>)> done);
  void afterDelay(std::function<void()> then);
  void publish();
  void adjustSampleInterval();
  // Event-driven looks between ticks: kernel wake-ups, and the moment a pending level
  // completes its sustain time.
  void armSystemWakeups();
  void armWorkspaceWakeups(Workspace& workspace);
  void wakeUp(const std::string& why);
  void scheduleDueTick(Usec now);

  EventLoop& loop_;
  SystemdClient& systemd_;
  HttpClient& http_;
  SysRoots roots_;
  ManagerPaths paths_;
  std::unique_ptr<PolicyEngine> engine_;
  PolicyState policyState_;
  std::map<std::string, std::unique_ptr<Workspace>> workspaces_;
  ManagerObserver* observer_ = nullptr;
  ManagerView managerView_;
  ManagerView announcedManagerView_;
  Timer sampleTimer_;
  Timer wakeTimer_;  // the early tick a kernel wake-up asked for
  Timer dueTimer_;   // the tick at which a pending level's sustain time ends
  std::vector<MemoryWakeup> systemWakeups_;
  uint64_t configGeneration_ = 0;
  size_t heapRefreshesLeft_ = 0;  // routine heap reads this tick may still start       // bumped by
                                  // reload, so wake-ups re-arm with new thresholds
  std::vector<Timer> pendingTimers_;    // one-shot "measure after the action" timers
  std::vector<Decision> decisions_;     // reused every tick
  std::optional<bool> dryRunOverride_;  // set over the bus; survives reloads
  struct SystemReaders;
  std::unique_ptr<SystemReaders> systemReaders_;
  // gopls processes the guard did not start, for GetStatus: a cache of the /proc walk.
  struct OtherGopls {
    pid_t pid;
    std::string role;
    std::string directory;
    std::optional<uint64_t> rss;
  };
  mutable std::vector<OtherGopls> otherGopls_;
  mutable std::optional<Usec> otherGoplsAt_;
};

}  // namespace wslgo
