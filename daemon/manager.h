// Manager: the guard's workspaces and its one tick — sample, ask the policy engine, hand
// actions to the ActionRunner, publish.
#pragma once

#include <sys/types.h>
#include <unistd.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "daemon/action_runner.h"
#include "daemon/gopls_debug.h"
#include "daemon/manager_observer.h"
#include "daemon/other_gopls.h"
#include "daemon/scheduler.h"
#include "daemon/views.h"
#include "daemon/wakeups.h"
#include "daemon/workspace.h"
#include "lib/cgroup_hierarchy.h"
#include "lib/config.h"
#include "lib/config_layers.h"
#include "lib/meminfo.h"
#include "lib/policy_engine.h"
#include "lib/policy_state.h"
#include "lib/psi.h"
#include "lib/result.h"
#include "lib/sample_history.h"
#include "lib/sys_roots.h"

namespace wslgo {

class SystemdClient;

// Where the guard keeps and finds things. main fills it from the environment (the XDG
// variables, $HOME, $GOMODCACHE, $GOPATH); the tests from a temporary tree. Nothing below main
// reads the environment.
struct ManagerPaths {
  std::vector<ConfigLayer> configLayers;  // default < /etc < user, see standardConfigLayers
  std::string stateDir;    // $XDG_STATE_HOME/wslgo-guard: state.json, profiles/, units/
  std::string runtimeDir;  // $XDG_RUNTIME_DIR: sockets go to <runtimeDir>/wslgo-guard/
  std::string home;        // $HOME, for "~/" in the config and the cache directories
  std::string cacheHome;   // $XDG_CACHE_HOME ("" = ~/.cache): gopls' file cache is below
  std::string goplsCache;  // $GOPLSCACHE, "" when unset (a workspace's env may set its own)
  std::string goModCache;  // $GOMODCACHE, "" when unset
  std::string goPath;      // $GOPATH, "" when unset
  // The guard's effective uid: a workspace directory must be this user's (see
  // checkWorkspaceOwner). Tests set another to see the refusal.
  uid_t user = ::geteuid();
};

// The manager's seams to the world: one real implementation each in the daemon, an in-process
// fake each in the unit tests.
struct ManagerServices {
  Scheduler& scheduler;
  SystemdClient& systemd;
  Wakeups& wakeups;
  GoplsDebugFactory debugClientFor;
};

// Options an AddWorkspace call may carry (a{sv} on the bus).
struct AddOptions {
  bool allowNonModule = false;
};

// The workspace an editor's folder belongs to, as AttachEditor answers it.
struct EditorAttachment {
  std::string root;    // canonical
  std::string socket;  // where its gopls listens
};

class Manager final : private ActionContext {
 public:
  using Done = std::function<void(Result<void>)>;
  using AddDone = std::function<void(Result<std::string>)>;
  using AttachDone = std::function<void(Result<EditorAttachment>)>;

  static Result<std::unique_ptr<Manager>> create(ManagerServices services, SysRoots roots,
                                                 ManagerPaths paths);
  ~Manager() override;
  Manager(const Manager&) = delete;
  Manager& operator=(const Manager&) = delete;

  void setObserver(ManagerObserver* observer) { observer_ = observer; }

  // Re-adopts the registry's units (running ones keep running) and starts sampling.
  Result<void> start();

  // Workspaces. `path` may be any directory inside a workspace for findWorkspace.
  // Adding waits for systemd's answer to starting the unit (asynchronously, on the loop), so
  // `done` hears whether it worked; a workspace whose unit cannot start is not kept. `done` may
  // run before the call returns.
  void addWorkspace(const std::string& path, const AddOptions& options, AddDone done);
  // Wins over an action in progress: the action is abandoned, the unit stopped (not waited for).
  // A workspace still being added is refused (EBUSY).
  Result<void> removeWorkspace(const std::string& path);
  Result<std::string> findWorkspace(const std::string& path) const;

  // For the session keeper. The workspace that holds `folder` (absolute), or else, when
  // keeper.auto_add is on, the folder's Go module (findGoModuleRoot) added as addWorkspace adds
  // one. ESRCH, saying what to do, when neither. Through `done`, which may run before the call
  // returns.
  void attachEditor(const std::string& folder, AttachDone done);
  // `reporter`'s whole picture of the editors it relays: root -> connections. It replaces that
  // reporter's previous one (an empty map clears it); roots nobody guards are ignored. More than
  // kMaxEditorReports entries are refused (EINVAL). Each workspace counts the sum over reporters.
  static constexpr size_t kMaxEditorReports = 1024;
  Result<void> reportEditors(const std::string& reporter,
                             const std::map<std::string, uint32_t>& editors);
  // The reporter is gone (it left the bus): its editors no longer count.
  void forgetEditorReporter(const std::string& reporter);
  std::vector<std::string> workspaceRoots() const;
  const WorkspaceView* workspaceView(const std::string& root) const;
  const ManagerView& managerView() const { return managerView_; }

  // Operator actions on one workspace; each completes through `done` on the loop, within
  // kAnswerWithin: D-Bus callers give up after 25 s by default, and a GC that watches the memory
  // settle, or a profile of a large heap, can take longer. One still running then is answered
  // with EINPROGRESS and goes on; its outcome is the ActionTaken signal and the journal.
  static constexpr Usec kAnswerWithin = std::chrono::seconds(20);
  void collectGarbage(const std::string& root,
                      std::function<void(Result<std::pair<uint64_t, uint64_t>>)> done);
  void trimCache(const std::string& root, std::function<void(Result<uint64_t>)> done);
  void restart(const std::string& root, const std::string& reason, Done done);
  void captureHeapProfile(const std::string& root, std::function<void(Result<std::string>)> done);
  // The samples taken at or after `sinceWallUsec` (CLOCK_REALTIME µs), oldest first.
  Result<std::vector<HistorySample>> history(const std::string& root, uint64_t sinceWallUsec) const;

  void setDryRun(bool dryRun);
  // Re-reads the configuration; an invalid one keeps the old and says why.
  Result<void> reload();
  // JSON for GetStatus (schema in docs/dbus-api.md).
  std::string statusJson() const;
  // "ok: 2 workspaces, MemAvailable 80%" for sd_notify STATUS=.
  std::string statusLine() const;
  const PolicyState& policyState() const { return policyState_; }

  // One sampling tick; public so tests and the benchmark can drive it.
  void tick(Usec now);

 private:
  Manager(ManagerServices services, SysRoots roots, ManagerPaths paths, Config config);

  // ActionContext: what the ActionRunner sees of the guard.
  const Config& config() const override { return engine_->config(); }
  GoplsDebug* debugClient(const std::string& root) override;
  std::optional<uint64_t> effectFigure(const std::string& root, bool fresh) override;
  std::optional<ReclaimTarget> reclaimTarget(const std::string& root) override;
  std::string goplsFileCache(const std::string& root) override;
  std::string goModCache(const std::string& root) override;
  Result<void> refreshUnitEnvironment(const std::string& root) override;
  void restartImminent(const std::string& root, const std::string& reason) override;
  void unitRestarted(const std::string& root) override;
  void actionFinished(const ActionReport& report) override;

  Workspace* find(const std::string& root);
  const Workspace* find(const std::string& root) const;
  Workspace& insert(WorkspaceRecord record);
  // Reads state.json into workspaces_ at start: a corrupt file is set aside, and running out of
  // memory (or any exception) is logged, never fatal.
  void loadRegistry();
  // Inserts the records, at most kMaxWorkspaces; those over the limit, or that could not be
  // inserted, are logged by path.
  void loadWorkspaces(std::vector<WorkspaceRecord> records, const std::string& statePath);
  void adoptOrphanedUnits();
  void adoptOrphanedUnit(const std::string& unit, AddDone done);
  // AddWorkspace once systemd said whether the unit already runs: registers the workspace,
  // starts (or restarts) its unit, and keeps it only if systemd accepted that.
  void registerAndStart(WorkspaceRecord record, const std::optional<std::string>& restartReason,
                        bool wasRunning, const AddDone& done);
  // The end of an AddWorkspace, once: a failure unregisters what was registered; `done` and the
  // AttachEditor calls waiting for `root` hear `outcome`.
  void finishAdd(const std::string& root, Result<std::string> outcome, const AddDone& done);
  // Its unit started: reads the unit's state, then tells the observer and `done`.
  void announceAdded(Workspace& workspace, const AddDone& done);
  // Stops a unit whose start systemd did not answer in time, so a late start leaves nothing
  // running unguarded.
  void stopAbandonedUnit(const std::string& root, const std::string& unit);
  // Wraps a handler of systemd's answer about `workspace`: `answered(workspace, result)` runs only
  // while the guard and that very workspace (not one removed and added again) are still there;
  // otherwise `gone()`.
  template <class T, class Answered, class Gone>
  SystemdDone<T> whileGuarded(const Workspace& workspace, Answered answered, Gone gone);
  template <class T, class Answered>
  SystemdDone<T> whileGuarded(const Workspace& workspace, Answered answered);
  Result<void> saveRegistry() const;
  Result<void> writeUnitEnvironment(const Workspace& workspace) const;
  // writeUnitEnvironment, a failure logged (`when`: "on reload") rather than returned.
  void rewriteUnitEnvironment(const Workspace& workspace, const std::string& when);
  // Writes the unit's environment file, then starts the unit, or, given a `restartReason`,
  // restarts it (so that a running gopls picks the file up) once the observer heard why. `done`
  // hears systemd's answer (the job queued, not the unit started).
  void startUnit(Workspace& workspace, const std::optional<std::string>& restartReason, Done done);
  void watch(Workspace& workspace);
  // Takes over a registry workspace at start: a running unit is kept, a stopped one started.
  void adopt(Workspace& workspace);
  // Asks systemd about the unit again; one question in flight per workspace.
  void refreshUnit(Workspace& workspace);
  // What systemd answered about the unit, or a warning that it could not be read (the unit
  // then keeps what was known).
  void takeUnitInfo(Workspace& workspace, Result<UnitInfo> info);
  // Points the workspace's debug client at the gopls its unit runs now: the debug address is
  // read from MainPID's command line (the launcher picks a fresh port at every start), never
  // remembered from an earlier run.
  void followGopls(Workspace& workspace);
  void sampleSystem(Snapshot& snapshot);
  void sampleWorkspace(Workspace& workspace, Usec now);
  void readFigures(Workspace& workspace);
  // Says, when it changes, where the workspace's memory figure comes from: plainly when it is the
  // summed RSS of the unit's processes because the unit has no memory cgroup.
  void explainMemorySource(Workspace& workspace, MemorySource source);
  // Which rungs can work for the workspace now (snapshot.rungs), and why not.
  void judgeRungs(Workspace& workspace, Usec now);
  // The workspace's MemoryHigh=, MemoryMax=, CPUWeight= and IOWeight=, at every start of its
  // unit, at adoption and on reload.
  void applyResourceControls(const Workspace& workspace);
  // Logs each of memory_high and memory_max that is set but that the unit's cgroup cannot
  // enforce, and why; once its cgroup is known.
  void warnUnenforcedControls(const Workspace& workspace) const;
  // The kernel's OOM killer took the workspace's gopls: systemd's Result says so (cgroup v2), or
  // the unit's cgroup counts a new kill (v1, where systemd cannot see it). Reported once per
  // process; `victimPid` is the MainPID that was killed, 0 when unknown.
  void checkOomKills(Workspace& workspace, const UnitInfo& before);
  void reportOomKill(Workspace& workspace, uint32_t victimPid, const std::string& how);
  void readHeapIfDue(Workspace& workspace, Usec now, bool force);
  // Finds out, once per gopls process, what it offers (GC page, mem_stats, file cache).
  void probeGopls(Workspace& workspace);
  // Where the gopls `pid` keeps its file cache: from its own environment, else from the
  // workspace's configuration and the guard's environment; "" when its build keeps none.
  std::string goplsFileCacheOf(const Workspace& workspace, const GoplsBuild& build,
                               uint32_t pid) const;
  // `done`, answered by kAnswerWithin at the latest: then with EINPROGRESS, `what` (" the GC")
  // and `afterwards` (where the outcome will show) in the message, and the real answer dropped.
  template <class T>
  std::function<void(Result<T>)> answerWithin(const std::string& root, const std::string& what,
                                              const std::string& afterwards,
                                              std::function<void(Result<T>)> done);
  void applyDecision(const Decision& decision);
  void runAction(Workspace& workspace, ActionKind action, const std::string& reason,
                 ActionRunner::Done done);
  WorkspaceFacts factsOf(const Workspace& workspace) const;
  void publish();
  void adjustSampleInterval();
  // Event-driven looks between ticks: kernel wake-ups, and the moment a pending level
  // completes its sustain time.
  void armSystemWakeups();
  void armWorkspaceWakeups(Workspace& workspace);
  void wakeUp(const std::string& why);
  void scheduleDueTick(Usec now);

  Scheduler& scheduler_;
  SystemdClient& systemd_;
  Wakeups& wakeups_;
  GoplsDebugFactory debugClientFor_;
  SysRoots roots_;
  ManagerPaths paths_;
  std::unique_ptr<PolicyEngine> engine_;
  PolicyState policyState_;
  std::map<std::string, std::unique_ptr<Workspace>> workspaces_;
  uint64_t nextWorkspaceSerial_ = 1;
  // Roots between AddWorkspace and systemd's answer to starting the unit, with the AttachEditor
  // calls waiting for the same root.
  std::map<std::string, std::vector<AddDone>> adding_;
  // Expires with the manager: systemd's answers arriving later are dropped.
  std::shared_ptr<const bool> alive_ = std::make_shared<const bool>(true);
  // The state file was corrupt and set aside: start() adopts the units still running.
  bool stateSetAside_ = false;
  std::unique_ptr<ActionRunner> actions_;
  ManagerObserver* observer_ = nullptr;
  ManagerView managerView_;
  ManagerView announcedManagerView_;
  // The system's readers; the last meminfo read stands in for one that fails.
  MeminfoReader meminfo_;
  PressureReader pressure_;
  std::optional<CgroupLayout> layout_;
  std::optional<Meminfo> lastMeminfo_;
  Timer sampleTimer_;
  Timer wakeTimer_;  // the early tick a kernel wake-up asked for
  Timer dueTimer_;   // the tick at which a pending level's sustain time ends
  // Bumped by reload, so wake-ups re-arm with the new thresholds.
  uint64_t configGeneration_ = 0;
  // Routine heap reads this tick may still start (they are spread over a heap interval).
  size_t heapRefreshesLeft_ = 0;
  std::vector<Decision> decisions_;     // reused every tick
  std::optional<bool> dryRunOverride_;  // set over the bus; survives reloads
  mutable OtherGoplsScan otherGopls_;
};

}  // namespace wslgo
