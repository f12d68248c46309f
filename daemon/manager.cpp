#include "daemon/manager.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <new>

#include "daemon/logging.h"
#include "daemon/loopback_port.h"
#include "daemon/notify.h"
#include "daemon/systemd_client.h"
#include "daemon/workspace_status.h"
#include "lib/atomic_file.h"
#include "lib/file_path.h"
#include "lib/go_module_root.h"
#include "lib/gopls_process.h"
#include "lib/settings_file.h"
#include "lib/unit_environment.h"
#include "lib/unit_name.h"
#include "lib/workspace_path.h"
#include "lib/workspace_registry.h"
#include "lib/workspace_socket.h"

namespace wslgo {
namespace {

constexpr Usec kHeapRetry = std::chrono::seconds(1);
constexpr Usec kHeapReadTimeout = std::chrono::seconds(5);
constexpr Usec kDetectTimeout = std::chrono::seconds(5);

std::shared_ptr<spdlog::logger> log() {
  static auto logger = componentLogger("manager");
  return logger;
}

// Sized for the normal interval; near a threshold the guard samples faster and the ring then
// covers less than `history`, which is what matters least then.
size_t historySize(const Config& config) {
  return historyCapacity(config.guard.history, config.guard.sampleInterval);
}

constexpr const char* kOutcomeAsSignal =
    "its outcome comes as the workspace's ActionTaken signal and in the journal";

// An exception in a handler of systemd's answer, for whoever waits on it: the guard goes on.
Error failedWith(const std::string& root, const std::exception& e) {
  if (dynamic_cast<const std::bad_alloc*>(&e) != nullptr) {
    return errnoError(ENOMEM, root,
                      std::string("the guard ran out of memory (") + e.what() +
                          "); it keeps running and answering. Free some memory and try again; "
                          "if it persists, lower guard.history or remove workspaces");
  }
  return errnoError(EIO, root, describeException(e));
}

Error notGuarded(const std::string& root) {
  return errnoError(ESRCH, root, "is not a guarded workspace");
}

// "Too many users" stands for "too many workspaces": ENOSPC, which it was, now keeps its
// strerror on the bus, where it means a full disk.
constexpr int kWorkspaceLimitCode = EUSERS;

Error workspaceLimitReached(const std::string& root) {
  return errnoError(kWorkspaceLimitCode, root,
                    "cannot be added: the guard already guards " + std::to_string(kMaxWorkspaces) +
                        " workspaces, its limit; remove one you no longer use with "
                        "RemoveWorkspace first");
}

}  // namespace

Result<std::unique_ptr<Manager>> Manager::create(ManagerServices services, SysRoots roots,
                                                 ManagerPaths paths) {
  auto meminfo = readMeminfo(roots);
  if (!meminfo) return meminfo.error();
  auto config = loadConfig(paths.configLayers, meminfo->memTotal, paths.home);
  if (!config) return config.error();
  std::unique_ptr<Manager> manager(
      new Manager(std::move(services), std::move(roots), std::move(paths), std::move(*config)));
  manager->lastMeminfo_ = *meminfo;
  manager->loadRegistry();
  return manager;
}

void Manager::loadRegistry() {
  // A corrupt file is kept aside, never lost, and the guard starts empty.
  const std::string statePath = paths_.stateDir + "/state.json";
  try {
    std::string buffer;
    if (auto text = readSettingsFile(statePath, buffer)) {
      auto registry = parseRegistry(*text);
      if (registry) {
        loadWorkspaces(std::move(registry->workspaces), statePath);
      } else {
        auto aside = setAsideCorruptFile(statePath);
        stateSetAside_ = true;
        log()->error("{}: {}; kept as {}; the wslgo-gopls@ units still running are adopted again",
                     statePath, registry.error().describe(),
                     aside ? *aside : "(could not move it aside)");
      }
    } else if (text.error().code == EINVAL || text.error().code == EFBIG) {
      // Not a regular file, too large or too deeply nested: kept aside like a corrupt one, so
      // the next save does not write over it and the next start does not trip on it again.
      auto aside = setAsideCorruptFile(statePath);
      stateSetAside_ = true;
      log()->error("{}; kept as {}; the wslgo-gopls@ units still running are adopted again",
                   text.error().describe(), aside ? *aside : "(could not move it aside)");
    } else if (text.error().code != ENOENT) {
      log()->error("cannot read {}: {}", statePath, text.error().describe());
    }
  } catch (const std::exception& e) {
    // Out of memory, most likely: a guard that starts with fewer workspaces (or none) still
    // guards those, and says so; one that aborts guards nothing and restarts into the same.
    log()->error("{}: cannot load the workspaces ({}); starting with the {} loaded so far",
                 statePath, describeException(e), workspaces_.size());
  }
}

void Manager::loadWorkspaces(std::vector<WorkspaceRecord> records, const std::string& statePath) {
  std::vector<std::string> overLimit;
  for (WorkspaceRecord& record : records) {
    if (workspaces_.size() >= kMaxWorkspaces) {
      overLimit.push_back(record.path);
      continue;
    }
    const std::string root = record.path;
    try {
      insert(std::move(record));
    } catch (const std::exception& e) {
      logEvent(*log(), spdlog::level::err,
               statePath + ": workspace not loaded (" + describeException(e) +
                   "); its unit runs unguarded until it is added again",
               {{"WORKSPACE", root}});
    }
  }
  for (const std::string& root : overLimit) {
    logEvent(*log(), spdlog::level::err,
             statePath + " lists " + std::to_string(records.size()) +
                 " workspaces, more than the guard's limit of " + std::to_string(kMaxWorkspaces) +
                 "; this one is not loaded and its unit runs unguarded: remove a workspace "
                 "(RemoveWorkspace) and add it again",
             {{"WORKSPACE", root}});
  }
}

Manager::Manager(ManagerServices services, SysRoots roots, ManagerPaths paths, Config config)
    : scheduler_(services.scheduler),
      systemd_(services.systemd),
      wakeups_(services.wakeups),
      debugClientFor_(std::move(services.debugClientFor)),
      roots_(std::move(roots)),
      paths_(std::move(paths)),
      engine_(std::make_unique<PolicyEngine>(std::move(config))),
      meminfo_(roots_),
      pressure_(systemPressurePath(roots_, PressureResource::Memory)),
      otherGopls_(roots_) {
  if (auto layout = readCgroupLayout(roots_)) layout_ = *layout;
  managerView_.dryRun = engine_->config().guard.dryRun;
  managerView_.sampleIntervalUsec =
      static_cast<uint64_t>(engine_->config().guard.sampleInterval.count());
  ActionPaths actionPaths{.profileRoot = paths_.stateDir + "/profiles",
                          .caches = GoCacheEnv{.goplsCache = paths_.goplsCache,
                                               .xdgCacheHome = paths_.cacheHome,
                                               .goModCache = paths_.goModCache,
                                               .goPath = paths_.goPath,
                                               .home = paths_.home}};
  ActionContext& context = *this;
  actions_ = std::make_unique<ActionRunner>(context, scheduler_, systemd_, std::move(actionPaths));
}

Manager::~Manager() {
  // The client outlives the manager (main, the tests' worlds): its signals must not reach it.
  systemd_.onUnitChanged({});
  systemd_.onJobRemoved({});
  systemd_.onManagerReloaded({});
}

Workspace* Manager::find(const std::string& root) {
  auto it = workspaces_.find(root);
  return it == workspaces_.end() ? nullptr : it->second.get();
}

const Workspace* Manager::find(const std::string& root) const {
  auto it = workspaces_.find(root);
  return it == workspaces_.end() ? nullptr : it->second.get();
}

Workspace& Manager::insert(WorkspaceRecord record) {
  const Config& config = engine_->config();
  std::string root = record.path;
  auto workspace =
      std::make_unique<Workspace>(std::move(record), config.guard.history, historySize(config));
  // Pointed at the debug port by followGopls once the unit's gopls runs.
  workspace->debug = debugClientFor_(GoplsEndpoints{.socket = workspace->record.socket,
                                                    .debugAddress = {},
                                                    .mainPid = 0,
                                                    .noDebugServerWhy = "gopls is not running"});
  workspace->serial = nextWorkspaceSerial_++;
  Workspace& inserted = *workspace;
  workspaces_[root] = std::move(workspace);
  return inserted;
}

template <class T, class Answered, class Gone>
SystemdDone<T> Manager::whileGuarded(const Workspace& workspace, Answered answered, Gone gone) {
  return [this, alive = std::weak_ptr<const bool>(alive_), root = workspace.record.path,
          serial = workspace.serial, answered = std::move(answered),
          gone = std::move(gone)](Result<T> result) mutable {
    if (alive.expired()) return;
    Workspace* current = find(root);
    if (current == nullptr || current->serial != serial) return gone();
    answered(*current, std::move(result));
  };
}

template <class T, class Answered>
SystemdDone<T> Manager::whileGuarded(const Workspace& workspace, Answered answered) {
  return whileGuarded<T>(workspace, std::move(answered), [] {});
}

std::vector<std::string> Manager::workspaceRoots() const {
  std::vector<std::string> roots;
  roots.reserve(workspaces_.size());
  for (const auto& [root, workspace] : workspaces_) roots.push_back(root);
  return roots;
}

const WorkspaceView* Manager::workspaceView(const std::string& root) const {
  const Workspace* workspace = find(root);
  return workspace == nullptr ? nullptr : &workspace->view;
}

Result<void> Manager::saveRegistry() const {
  Registry registry;
  for (const auto& [root, workspace] : workspaces_) {
    registry.workspaces.push_back(workspace->record);
  }
  if (auto made = makeDirectories(paths_.stateDir, 0700); !made) return made.error();
  return writeFileAtomically(paths_.stateDir + "/state.json", serializeRegistry(registry), 0600);
}

Result<void> Manager::writeUnitEnvironment(const Workspace& workspace) const {
  const Config& config = engine_->config();
  const WorkspaceSettings& settings = config.forWorkspace(workspace.record.path);
  UnitEnvironment environment;
  environment.workspace = workspace.record.path;
  environment.socket = workspace.record.socket;
  environment.debugServer = config.gopls.debugServer;
  environment.goplsPath = config.gopls.path;
  environment.goplsArgs = config.gopls.args;
  environment.gomemlimit = gomemlimitFor(settings);
  environment.oomScoreAdjust = settings.oomScoreAdjust;
  environment.env = settings.env;
  auto text = renderUnitEnvironment(environment);
  if (!text) return text.error();
  auto file = unitEnvironmentFile(paths_.stateDir, workspace.record.path);
  if (!file) return file.error();
  if (auto made = makeDirectories(file->substr(0, file->rfind('/')), 0700); !made) {
    return made.error();
  }
  return writeFileAtomically(*file, *text, 0600);
}

void Manager::startUnit(Workspace& workspace, const std::optional<std::string>& restartReason,
                        Done done) {
  if (auto written = writeUnitEnvironment(workspace); !written) return done(written.error());
  // gopls creates its socket but not the directory it sits in.
  if (auto made = makeDirectories(paths_.runtimeDir + "/wslgo-guard", 0700); !made) {
    return done(made.error());
  }
  if (restartReason) restartImminent(workspace.record.path, *restartReason);
  auto queued = whileGuarded<std::string>(
      workspace,
      [this, done](Workspace& current, Result<std::string> job) {
        if (!job) return done(job.error());
        applyResourceControls(current);
        log()->info("{}: starting {} ({})", current.record.path, current.record.unit, *job);
        done({});
      },
      [done, root = workspace.record.path] {
        done(errnoError(ESRCH, root, "was removed before systemd answered"));
      });
  if (restartReason) {
    systemd_.restartUnit(workspace.record.unit, "replace", std::move(queued));
  } else {
    systemd_.startUnit(workspace.record.unit, "replace", std::move(queued));
  }
}

void Manager::applyResourceControls(const Workspace& workspace) {
  // Runtime properties (lost at reboot; recomputed at every start anyway). A limit the
  // configuration no longer has is set to infinity, so it does not linger from an earlier start.
  const ResourceControls controls =
      resourceControlsFor(engine_->config().forWorkspace(workspace.record.path));
  systemd_.setResourceControls(
      workspace.record.unit, controls, true,
      whileGuarded<void>(workspace, [this](Workspace& current, Result<void> applied) {
        if (!applied) {
          logEvent(*log(), spdlog::level::warn,
                   "resource controls not applied (MemoryHigh=, MemoryMax=, CPUWeight=, "
                   "IOWeight=): " +
                       applied.error().describe(),
                   {{"WORKSPACE", current.record.path}, {"UNIT", current.record.unit}});
          return;
        }
        // Not known before the unit's first cgroup: sampleWorkspace says it then.
        warnUnenforcedControls(current);
      }));
}

void Manager::warnUnenforcedControls(const Workspace& workspace) const {
  if (!workspace.readers.enforcement) return;
  const ResourceEnforcement& enforcement = *workspace.readers.enforcement;
  const WorkspaceSettings& settings = engine_->config().forWorkspace(workspace.record.path);
  auto warnUnenforced = [&](const ControlEnforcement& control, bool set) {
    if (!set || control.enforced) return;
    logEvent(*log(), spdlog::level::warn, control.why + "; the guard's ladder is what limits it",
             {{"WORKSPACE", workspace.record.path}, {"UNIT", workspace.record.unit}});
  };
  warnUnenforced(enforcement.memoryHigh, settings.memoryHigh.has_value());
  warnUnenforced(enforcement.memoryMax, settings.memoryMax.has_value());
}

void Manager::checkOomKills(Workspace& workspace, const UnitInfo& before) {
  const std::optional<ResourceEnforcement>& enforcement = workspace.readers.enforcement;
  // systemd's own word where it has one (cgroup v2): its Result turns "oom-kill" when the kernel
  // killed a process of the unit, once per run that ended so.
  const UnitInfo& now = workspace.unit;
  if (now.result == "oom-kill" &&
      (before.result != "oom-kill" || before.nRestarts != now.nRestarts)) {
    reportOomKill(workspace, before.mainPid, "systemd reports the unit's Result as oom-kill");
    return;
  }
  if (!enforcement || enforcement->systemdSeesOomKills || !enforcement->oomKillCounter) return;
  // Elsewhere the unit's cgroup counts the kills; read as soon as systemd says the process
  // changed, before the cgroup goes away with the unit's stop.
  const std::optional<uint64_t> counted = readOomKillCount(*enforcement->oomKillCounter);
  if (!counted) return;
  std::optional<uint64_t>& seen = workspace.oomKills.counterSeen;
  // A smaller figure is a new cgroup at the same path: its kills are all new.
  const bool more = seen && *counted > *seen;
  const bool freshCgroupWithKills = seen && *counted<*seen&& * counted> 0;
  const bool rose = more || freshCgroupWithKills;
  seen = counted;
  if (rose) {
    reportOomKill(workspace, before.mainPid != 0 ? before.mainPid : now.mainPid,
                  "the unit's cgroup counts oom_kill " + std::to_string(*counted));
  }
}

void Manager::reportOomKill(Workspace& workspace, uint32_t victimPid, const std::string& how) {
  OomKills& kills = workspace.oomKills;
  if (victimPid != 0 && victimPid == kills.reportedPid) return;
  kills.reportedPid = victimPid;
  ++kills.count;
  kills.lastWallUsec = scheduler_.wallNowUsec();
  const std::optional<uint64_t> memoryMax =
      engine_->config().forWorkspace(workspace.record.path).memoryMax;
  const std::string victim = victimPid != 0 ? "gopls (PID " + std::to_string(victimPid) + ")"
                                            : std::string("a process of the unit");
  kills.lastReason =
      victim + " was killed by the kernel's OOM killer (" + how + "); " +
      (memoryMax ? "the workspace's memory_max is " + std::to_string(*memoryMax) + " bytes"
                 : std::string("memory_max is off, so the system or an enclosing cgroup ran out "
                               "of memory"));
  logEvent(*log(), spdlog::level::warn, kills.lastReason,
           {{"WORKSPACE", workspace.record.path},
            {"UNIT", workspace.record.unit},
            {"ACTION", "oom-kill"}});
  if (observer_ != nullptr) observer_->oomKilled(workspace.record.path, kills.lastReason);
}

void Manager::refreshUnit(Workspace& workspace) {
  // One question at a time per unit: changes that arrive meanwhile ask once more after it.
  UnitRefresh& refresh = workspace.refresh;
  if (refresh.inFlight) {
    refresh.again = true;
    return;
  }
  refresh.inFlight = true;
  systemd_.unitInfo(
      workspace.record.unit,
      whileGuarded<UnitInfo>(workspace, [this](Workspace& current, Result<UnitInfo> info) {
        current.refresh.inFlight = false;
        takeUnitInfo(current, std::move(info));
        if (std::exchange(current.refresh.again, false)) refreshUnit(current);
      }));
}

void Manager::takeUnitInfo(Workspace& workspace, Result<UnitInfo> info) {
  if (!info) {
    log()->warn("{}: cannot read {}: {}", workspace.record.path, workspace.record.unit,
                info.error().describe());
    return;
  }
  const UnitInfo before = std::move(workspace.unit);
  workspace.unit = std::move(*info);
  checkOomKills(workspace, before);
  followGopls(workspace);
}

void Manager::followGopls(Workspace& workspace) {
  const uint32_t pid = workspace.unit.mainPid;
  if (pid == workspace.debugFor) return;
  GoplsEndpoints endpoints{.socket = workspace.record.socket,
                           .debugAddress = {},
                           .mainPid = pid,
                           .noDebugServerWhy = "gopls is not running"};
  if (pid != 0) {
    auto argv = readCmdline(roots_, static_cast<pid_t>(pid));
    if (!argv) return;  // gone: systemd will say what runs instead
    const GoplsInvocation gopls = classifyGoplsCommand(*argv, {});
    // Until the launcher has exec'd gopls, MainPID runs the launcher: looked at again next tick.
    if (gopls.role == GoplsRole::NotGopls) return;
    if (auto port = loopbackDebugPort(gopls.debugAddress)) {
      endpoints.debugAddress = "127.0.0.1:" + std::to_string(*port);
    } else {
      endpoints.noDebugServerWhy =
          engine_->config().gopls.debugServer
              ? "gopls (PID " + std::to_string(pid) +
                    ") runs without a loopback -debug address; restart the unit so the guard's "
                    "launcher starts it with one"
              : std::string("gopls runs without a debug server (gopls.debug_server is false)");
    }
  }
  workspace.debugFor = pid;
  if (endpoints.debugAddress != workspace.debug->debugAddress() || pid == 0) {
    log()->debug("{}: gopls PID {}, debug server {}", workspace.record.path, pid,
                 endpoints.debugAddress.empty() ? "none" : endpoints.debugAddress);
  }
  // Requests in flight finish against the old gopls; the heap figures were its.
  workspace.debug->retarget(endpoints);
  workspace.figures.heap.reset();
}

void Manager::watch(Workspace& workspace) {
  systemd_.watchUnit(workspace.record.unit,
                     whileGuarded<void>(workspace, [](Workspace& current, Result<void> watched) {
                       if (watched) return;
                       log()->warn("{}: cannot watch {}: {}", current.record.path,
                                   current.record.unit, watched.error().describe());
                     }));
}

void Manager::adopt(Workspace& workspace) {
  watch(workspace);
  systemd_.unitInfo(
      workspace.record.unit,
      whileGuarded<UnitInfo>(workspace, [this](Workspace& current, Result<UnitInfo> info) {
        takeUnitInfo(current, std::move(info));
        publish();  // GetStatus shows what systemd said, not the empty unit before it
        const std::string& state = current.unit.activeState;
        if (state == "active" || state == "activating") {
          log()->info("{}: adopted running {} (MainPID {})", current.record.path,
                      current.record.unit, current.unit.mainPid);
          // The configuration may have changed while the guard was away; the file is what
          // systemd's own restarts (Restart=on-failure) start gopls with.
          rewriteUnitEnvironment(current, "at adoption");
          applyResourceControls(current);
          return;
        }
        startUnit(current, std::nullopt,
                  [root = current.record.path, unit = current.record.unit](Result<void> started) {
                    if (started) return;
                    log()->error("{}: cannot start {}: {}", root, unit, started.error().describe());
                  });
      }));
}

Result<void> Manager::start() {
  systemd_.onUnitChanged([this](const std::string& unit) {
    for (auto& [root, workspace] : workspaces_) {
      if (workspace->record.unit == unit) refreshUnit(*workspace);
    }
  });
  systemd_.onJobRemoved([this](uint32_t, const std::string&, const std::string& unit,
                               const std::string& result) {
    for (auto& [root, workspace] : workspaces_) {
      if (workspace->record.unit != unit) continue;
      if (result != "done") {
        logEvent(*log(), spdlog::level::warn, "job for " + unit + " ended with result " + result,
                 {{"WORKSPACE", root}, {"UNIT", unit}});
      }
      refreshUnit(*workspace);
    }
  });
  systemd_.onManagerReloaded([this] {
    for (auto& [root, workspace] : workspaces_) refreshUnit(*workspace);
  });
  for (auto& [root, workspace] : workspaces_) adopt(*workspace);
  if (stateSetAside_) adoptOrphanedUnits();

  auto timer = scheduler_.addRepeatingTimer(engine_->config().guard.sampleInterval,
                                            [this](Usec now) { tick(now); });
  if (!timer) return timer.error();
  sampleTimer_ = std::move(*timer);
  armSystemWakeups();
  tick(scheduler_.now());
  return {};
}

void Manager::adoptOrphanedUnits() {
  // The state file is gone, the units it listed are not: ask systemd which still run, so none
  // is left unguarded. Each goes through AddWorkspace's checks; one that fails them stays
  // unguarded, and the log says which and why.
  const std::string pattern =
      std::string(kWorkspaceUnitPrefix) + "*" + std::string(kWorkspaceUnitSuffix);
  systemd_.listUnits(
      {"active", "activating"}, {pattern},
      [this, alive = std::weak_ptr<const bool>(alive_),
       pattern](Result<std::vector<ListedUnit>> units) {
        if (alive.expired()) return;
        if (!units) {
          log()->error(
              "cannot ask systemd which {} units still run after the state file was set aside: "
              "{}; add each workspace again with AddWorkspace",
              pattern, units.error().describe());
          return;
        }
        for (const ListedUnit& unit : *units) {
          if (unit.activeState != "active" && unit.activeState != "activating") continue;
          adoptOrphanedUnit(unit.name, [unit](Result<std::string> adopted) {
            if (adopted) {
              logEvent(*log(), spdlog::level::info,
                       "adopted " + unit.name + ", still " + unit.activeState +
                           " after the state file was set aside",
                       {{"WORKSPACE", *adopted}, {"UNIT", unit.name}});
            } else {
              logEvent(*log(), spdlog::level::warn,
                       unit.name + " still runs but is not guarded: " + adopted.error().describe() +
                           "; stop it (systemctl --user stop) or fix that and AddWorkspace its "
                           "directory",
                       {{"UNIT", unit.name}});
            }
          });
        }
      });
}

void Manager::adoptOrphanedUnit(const std::string& unit, AddDone done) {
  std::string_view instance = unit;
  if (!instance.starts_with(kWorkspaceUnitPrefix) || !instance.ends_with(kWorkspaceUnitSuffix)) {
    return done(errnoError(EINVAL, unit, "is not a wslgo-gopls@ service"));
  }
  instance.remove_prefix(kWorkspaceUnitPrefix.size());
  instance.remove_suffix(kWorkspaceUnitSuffix.size());
  auto path = unescapeUnitPath(instance);
  if (!path) return done(path.error());
  // A running unit is guarded whether or not its directory holds a module: it may have been
  // added with allow_non_module, an option the lost state file kept. The other checks hold.
  auto root = resolveWorkspaceRoot(*path, /*allowNonModule=*/true);
  if (!root) return done(root.error());
  const AddOptions options{.allowNonModule = !resolveWorkspaceRoot(*root, false).ok()};
  // A directory below a module, or a symlink, resolves to another workspace: that one's unit
  // would be guarded, and this one still not.
  auto derived = workspaceUnitName(*root);
  if (!derived) return done(derived.error());
  if (*derived != unit) {
    return done(errnoError(EINVAL, *path,
                           "resolves to the workspace " + *root + ", whose unit is " + *derived));
  }
  addWorkspace(*root, options, std::move(done));
}

void Manager::addWorkspace(const std::string& path, const AddOptions& options, AddDone done) {
  const Config& config = engine_->config();
  auto root = resolveWorkspaceRoot(path, options.allowNonModule || config.gopls.allowNonModule);
  if (!root) return done(root.error());
  if (find(*root) != nullptr) {
    return done(
        errnoError(EEXIST, *root, "is already guarded; RemoveWorkspace it first to re-add it"));
  }
  if (adding_.count(*root) != 0) {
    return done(errnoError(EEXIST, *root, "is being added already"));
  }
  const size_t notYetInserted =
      static_cast<size_t>(std::count_if(adding_.begin(), adding_.end(), [this](const auto& entry) {
        return find(entry.first) == nullptr;
      }));
  if (workspaces_.size() + notYetInserted >= kMaxWorkspaces) {
    return done(workspaceLimitReached(*root));
  }
  if (auto owned = checkWorkspaceOwner(*root, paths_.user); !owned) return done(owned.error());
  auto unit = workspaceUnitName(*root);
  if (!unit) return done(unit.error());
  auto socket = workspaceSocketPath(paths_.runtimeDir, *root);
  if (!socket) return done(socket.error());

  WorkspaceRecord record{.path = *root,
                         .unit = *unit,
                         .socket = *socket,
                         .addedUsec = scheduler_.wallNowUsec(),
                         .options = {}};
  if (options.allowNonModule) record.options["allow_non_module"] = "true";
  adding_[*root];
  struct NotAdding {  // unless systemd was asked, and its answer will end the add
    std::map<std::string, std::vector<AddDone>>& adding;
    std::string root;
    bool asked = false;
    ~NotAdding() {
      if (!asked) adding.erase(root);
    }
  } notAdding{adding_, *root};
  // A unit already running (started by hand, say) keeps its gopls and its editors: the guard
  // takes the socket that gopls runs with (and, as for every gopls, its debug port), since
  // StartUnit would not make it read a new environment file. If the socket cannot be read, the
  // unit is restarted once instead.
  systemd_.unitInfo(*unit, [this, alive = std::weak_ptr<const bool>(alive_),
                            record = std::move(record),
                            done = std::move(done)](Result<UnitInfo> running) mutable {
    if (alive.expired()) return;
    const std::string root = record.path;
    // Out of memory here is the caller's error, never an AddWorkspace left unanswered.
    try {
      std::optional<std::string> restartReason;
      const bool wasRunning = running && running->activeState == "active" && running->mainPid > 0;
      if (wasRunning) {
        auto gopls = inspectGoplsProcess(roots_, static_cast<pid_t>(running->mainPid));
        if (gopls && gopls->invocation.listen.network == GoplsNetwork::Unix) {
          record.socket = gopls->invocation.listen.address;
        } else {
          restartReason =
              "its gopls was already running without the guard's settings (its socket could "
              "not be read), so it restarts with them";
        }
      }
      registerAndStart(std::move(record), restartReason, wasRunning, done);
    } catch (const std::exception& e) {
      finishAdd(root, failedWith(root, e), done);
    }
  });
  notAdding.asked = true;
}

void Manager::registerAndStart(WorkspaceRecord record,
                               const std::optional<std::string>& restartReason, bool wasRunning,
                               const AddDone& done) {
  const std::string root = record.path;
  Workspace& added = insert(std::move(record));
  if (auto saved = saveRegistry(); !saved) return finishAdd(root, saved.error(), done);
  watch(added);
  startUnit(added, restartReason,
            [this, root, serial = added.serial, wasRunning, done](Result<void> started) {
              try {
                Workspace* current = find(root);
                if (current == nullptr || current->serial != serial) {
                  return finishAdd(
                      root, errnoError(ESRCH, root, "was removed while it was being added"), done);
                }
                if (!started) {
                  // A manager that did not answer in time may still run the start later: the
                  // stop queued behind it keeps that gopls from running unguarded. One that ran
                  // before is left alone.
                  if (started.error().code == ETIMEDOUT && !wasRunning) {
                    stopAbandonedUnit(root, current->record.unit);
                  }
                  return finishAdd(root, started.error(), done);
                }
                announceAdded(*current, done);
              } catch (const std::exception& e) {
                finishAdd(root, failedWith(root, e), done);
              }
            });
}

void Manager::announceAdded(Workspace& workspace, const AddDone& done) {
  // The answer waits for what systemd says of the unit now, so the new workspace's object
  // already shows its state and MainPID to whoever asks first.
  const std::string root = workspace.record.path;
  systemd_.unitInfo(
      workspace.record.unit,
      whileGuarded<UnitInfo>(
          workspace,
          [this, done](Workspace& current, Result<UnitInfo> info) {
            const std::string root = current.record.path;
            try {
              takeUnitInfo(current, std::move(info));
              publish();
              if (observer_ != nullptr) observer_->workspaceAdded(root);
              logEvent(*log(), spdlog::level::info, "workspace added",
                       {{"WORKSPACE", root}, {"UNIT", current.record.unit}});
              finishAdd(root, root, done);
            } catch (const std::exception& e) {
              finishAdd(root, failedWith(root, e), done);
            }
          },
          [this, root, done] {
            finishAdd(root, errnoError(ESRCH, root, "was removed while it was being added"), done);
          }));
}

void Manager::stopAbandonedUnit(const std::string& root, const std::string& unit) {
  systemd_.stopUnit(unit, "replace", [root, unit](Result<std::string> stopped) {
    if (stopped) return;
    log()->warn("{}: {} may start late and unguarded: stopping it failed too: {}", root, unit,
                stopped.error().describe());
  });
}

void Manager::finishAdd(const std::string& root, Result<std::string> outcome, const AddDone& done) {
  auto adding = adding_.find(root);
  if (adding == adding_.end()) return;  // answered already
  std::vector<AddDone> waiting = std::move(adding->second);
  adding_.erase(adding);
  if (!outcome) {
    // Keep nothing half-registered: the caller sees why and can fix it and add again. While
    // it was being added, a workspace at this root can only be this one.
    if (Workspace* added = find(root); added != nullptr) {
      systemd_.unwatchUnit(added->record.unit);
      workspaces_.erase(root);
      (void)saveRegistry();
    }
  }
  // Everyone waiting for this root (AttachEditor calls that came meanwhile) hears the outcome.
  for (AddDone& waiter : waiting) waiter(outcome);
  done(std::move(outcome));
}

Result<std::string> Manager::findWorkspace(const std::string& path) const {
  std::error_code ignored;
  std::filesystem::path canonical = std::filesystem::weakly_canonical(path, ignored);
  std::string dir = canonical.empty() ? path : canonical.string();
  auto root = workspaceContaining(workspaceRoots(), dir);
  if (!root) {
    return errnoError(ESRCH, path,
                      "is not inside any guarded workspace; add one with AddWorkspace");
  }
  return *root;
}

void Manager::attachEditor(const std::string& folder, AttachDone done) {
  if (!isAbsolutePath(folder)) {
    return done(errnoError(EINVAL, folder,
                           "is a relative path; the guard does not share the editor's working "
                           "directory, so pass an absolute one"));
  }
  auto attachment = [this](const std::string& root) {
    return EditorAttachment{.root = root, .socket = find(root)->record.socket};
  };
  if (auto held = findWorkspace(folder)) return done(attachment(*held));

  auto module = findGoModuleRoot(folder);
  const std::string addDir = module && *module ? (*module)->dir : std::string("DIR");
  const std::string addCommand =
      "`busctl --user call org.wslgo.Guard1 /org/wslgo/Guard1 org.wslgo.Guard1.Manager "
      "AddWorkspace 'sa{sv}' " +
      addDir + " 0`";
  if (!engine_->config().keeper.autoAdd) {
    return done(errnoError(ESRCH, folder,
                           "is not inside a guarded workspace, and keeper.auto_add is off in the "
                           "guard's configuration, so none is added for it; add it with " +
                               addCommand + ", or set keeper.auto_add to true"));
  }
  if (!module) return done(module.error());
  if (!*module) {
    return done(errnoError(ESRCH, folder,
                           "is not inside a guarded workspace and holds no go.mod or go.work "
                           "above it; open a module folder, or add it with " +
                               addCommand));
  }
  auto attached = [this, alive = std::weak_ptr<const bool>(alive_), folder, attachment,
                   done = std::move(done)](Result<std::string> added) {
    if (alive.expired()) return;
    if (!added) return done(added.error());
    if (find(*added) == nullptr) return done(notGuarded(*added));
    done(attachment(*added));
  };
  // Editors opening the same module at once: the first adds it, the others wait for that.
  if (auto adding = adding_.find((*module)->dir); adding != adding_.end()) {
    adding->second.push_back(std::move(attached));
    return;
  }
  addWorkspace((*module)->dir, AddOptions{},
               [folder, attached = std::move(attached)](Result<std::string> added) mutable {
                 if (added) {
                   logEvent(*log(), spdlog::level::info,
                            "workspace added for an editor's folder " + folder,
                            {{"WORKSPACE", *added}});
                 }
                 attached(std::move(added));
               });
}

Result<void> Manager::reportEditors(const std::string& reporter,
                                    const std::map<std::string, uint32_t>& editors) {
  if (editors.size() > kMaxEditorReports) {
    return errnoError(EINVAL, reporter,
                      "reported editors for " + std::to_string(editors.size()) +
                          " workspaces; one report takes at most " +
                          std::to_string(kMaxEditorReports));
  }
  for (auto& [root, workspace] : workspaces_) {
    auto reported = editors.find(root);
    if (reported == editors.end() || reported->second == 0) {
      workspace->editors.byReporter.erase(reporter);
    } else {
      workspace->editors.byReporter[reporter] = reported->second;
    }
  }
  publish();
  return {};
}

void Manager::forgetEditorReporter(const std::string& reporter) {
  for (auto& [root, workspace] : workspaces_) workspace->editors.byReporter.erase(reporter);
  publish();
}

Result<void> Manager::removeWorkspace(const std::string& path) {
  auto root = findWorkspace(path);
  if (!root) return root.error();
  if (adding_.count(*root) != 0) {
    return errnoError(EBUSY, *root,
                      "is still being added (systemd has not answered yet); remove it once "
                      "AddWorkspace has answered");
  }
  Workspace& workspace = *find(*root);
  // Removal wins over an action in progress: whoever removes it wants gopls gone, and the
  // action's result would describe a workspace nobody guards any more.
  actions_->abandon(*root);
  std::string unit = workspace.record.unit;
  // Not waited for: the workspace is gone from the guard whatever systemd says.
  systemd_.stopUnit(unit, "replace", [root = *root, unit](Result<std::string> stopped) {
    if (!stopped) log()->warn("{}: stopping {} failed: {}", root, unit, stopped.error().describe());
  });
  systemd_.unwatchUnit(unit);
  wakeups_.disarmWorkspace(*root);
  if (auto file = unitEnvironmentFile(paths_.stateDir, *root)) {
    std::error_code ignored;
    std::filesystem::remove(*file, ignored);
  }
  workspaces_.erase(*root);
  policyState_.workspaces.erase(*root);
  if (auto saved = saveRegistry(); !saved) {
    log()->error("cannot save the registry: {}", saved.error().describe());
  }
  if (observer_ != nullptr) observer_->workspaceRemoved(*root);
  logEvent(*log(), spdlog::level::info, "workspace removed",
           {{"WORKSPACE", *root}, {"UNIT", unit}});
  return {};
}

void Manager::sampleSystem(Snapshot& snapshot) {
  if (auto meminfo = meminfo_.read()) {
    lastMeminfo_ = *meminfo;
  } else {
    log()->warn("{}", meminfo.error().describe());
  }
  std::optional<Pressure> pressure;
  if (auto read = pressure_.read()) pressure = *read;
  if (lastMeminfo_) {
    snapshot.system = systemSnapshotFrom(*lastMeminfo_, pressure);
    managerView_.memTotal = lastMeminfo_->memTotal;
    managerView_.memAvailable = lastMeminfo_->memAvailable;
    managerView_.swapTotal = lastMeminfo_->swapTotal;
    managerView_.swapFree = lastMeminfo_->swapFree;
  }
  managerView_.pressureAvg10 = pressure ? pressure->some.avg10 : 0;
  managerView_.pressureAvg60 = pressure ? pressure->some.avg60 : 0;
  managerView_.pressureAvg300 = pressure ? pressure->some.avg300 : 0;
}

void Manager::readHeapIfDue(Workspace& workspace, Usec now, bool force) {
  WorkspaceFigures& figures = workspace.figures;
  if (!workspace.debug || figures.heapReadInFlight) return;
  if (workspace.unit.activeState != "active") return;
  // Until a starting gopls has answered once, ask again soon rather than in 30 s; one that never
  // answers (no debug server) is asked at the normal rate once its start-up grace is over.
  const bool starting = PolicyEngine::inStartupGrace(figures.snapshot, now);
  const Usec heapInterval = engine_->config().guard.heapInterval;
  const Usec interval = starting ? std::min(kHeapRetry, heapInterval) : heapInterval;
  if (!force && figures.heapReadAt && now - *figures.heapReadAt < interval) return;
  // Routine refreshes are spread over the ticks of a heap interval instead of all landing on one
  // (each starts an HTTP request); a starting gopls and reads around an action are not held back.
  if (!force && !starting) {
    if (heapRefreshesLeft_ == 0) return;
    --heapRefreshesLeft_;
  }
  figures.heapReadAt = now;
  // Only when a read is due, so a MainPID that is not gopls (the launcher before its exec, a
  // unit run by hand) costs a look at its command line per read, not per tick.
  followGopls(workspace);
  if (workspace.debugFor != workspace.unit.mainPid) return;
  figures.heapReadInFlight = true;
  probeGopls(workspace);
  std::string root = workspace.record.path;
  workspace.debug->readHeapStats(kHeapReadTimeout, [this, root](Result<HeapStats> stats) {
    Workspace* current = find(root);
    if (current == nullptr) return;
    current->figures.heapReadInFlight = false;
    if (stats) {
      current->figures.heap = *stats;
      return;
    }
    const int code = stats.error().code;
    if (code != EPERM && code != EACCES) {
      log()->debug("{}: heap figures: {}", root, stats.error().describe());
      return;
    }
    // Someone else holds gopls' debug port: its figures would be theirs.
    current->figures.heap.reset();
    if (current->squatWarnedFor != current->debugFor) {
      current->squatWarnedFor = current->debugFor;
      logEvent(*log(), spdlog::level::warn,
               "gopls' heap figures are unknown: " + stats.error().describe(),
               {{"WORKSPACE", root}, {"UNIT", current->record.unit}});
    }
  });
}

void Manager::probeGopls(Workspace& workspace) {
  const uint32_t pid = workspace.unit.mainPid;
  if (workspace.goplsProbeInFlight || (workspace.gopls && workspace.gopls->mainPid == pid)) return;
  workspace.goplsProbeInFlight = true;
  std::string root = workspace.record.path;
  workspace.debug->detect(
      [this, root, pid](Result<GoplsDebugFeatures> features) {
        Workspace* current = find(root);
        if (current == nullptr) return;
        current->goplsProbeInFlight = false;
        if (!features) {
          // A gopls still starting has no debug server yet: asked again with the next heap read.
          log()->debug("{}: what gopls offers: {}", root, features.error().describe());
          return;
        }
        const std::string fileCache = goplsFileCacheOf(*current, features->build, pid);
        logEvent(*log(), spdlog::level::info,
                 "gopls " +
                     (features->build.version.empty()
                          ? std::string("(version unknown without a debug server)")
                          : features->build.version + " (" + features->build.goVersion + ")") +
                     ": GC via " +
                     (features->gcRoute.empty() ? std::string("nothing") : features->gcRoute) +
                     ", gopls.mem_stats " +
                     (features->memStats ? (*features->memStats ? "yes" : "no") : "unknown") +
                     ", file cache " + (fileCache.empty() ? "none" : fileCache),
                 {{"WORKSPACE", root}, {"UNIT", current->record.unit}});
        current->gopls = GoplsOffer{.features = *features, .mainPid = pid, .fileCache = fileCache};
      },
      kDetectTimeout);
}

std::string Manager::goplsFileCacheOf(const Workspace& workspace, const GoplsBuild& build,
                                      uint32_t pid) const {
  // A release says whether it keeps one (v0.12 on). A build that is not a release (Debian's
  // "master", a local "(devel)") is not assumed to: the directory may be another gopls'.
  if (!releaseHasFileCache(build.version).value_or(false)) return {};
  // gopls' own environment is the truth: the unit's environment file, the launcher, a drop-in
  // or the user's manager environment may each have set GOPLSCACHE or XDG_CACHE_HOME.
  if (pid != 0) {
    auto own = goplsCacheDirOfProcess(roots_, static_cast<pid_t>(pid));
    if (own) return *own;
    log()->debug("{}: gopls' file cache from the configuration, not its environment: {}",
                 workspace.record.path, own.error().describe());
  }
  const WorkspaceSettings& settings = engine_->config().forWorkspace(workspace.record.path);
  auto configured = settings.env.find("GOPLSCACHE");
  return goplsCacheDir(GoCacheEnv{
      .goplsCache = configured != settings.env.end() ? configured->second : paths_.goplsCache,
      .xdgCacheHome = paths_.cacheHome,
      .goModCache = {},
      .goPath = {},
      .home = paths_.home});
}

void Manager::judgeRungs(Workspace& workspace, Usec now) {
  const WorkspaceSnapshot& snapshot = workspace.figures.snapshot;
  GoplsOffer* gopls = workspace.gopls && workspace.gopls->mainPid == workspace.unit.mainPid
                          ? &*workspace.gopls
                          : nullptr;
  const bool answered = workspace.figures.heap || gopls != nullptr;
  const bool young = !snapshot.processSince || now - *snapshot.processSince < kStartupGrace;
  if (gopls != nullptr && !gopls->fileCacheOnDisk && !gopls->fileCache.empty()) {
    std::error_code ignored;
    gopls->fileCacheOnDisk = std::filesystem::is_directory(gopls->fileCache, ignored);
  }
  const bool debugServerOff = workspace.unit.mainPid != 0 &&
                              workspace.debugFor == workspace.unit.mainPid &&
                              workspace.debug->debugAddress().empty();
  RungFacts facts{
      .debugServerAnswers = answered || young,
      .debugServerOff = debugServerOff,
      .memStats = gopls != nullptr ? gopls->features.memStats : std::nullopt,
      .reclaimAvailable = workspace.figures.sample && workspace.figures.sample->reclaimAvailable,
      .fileCache = gopls != nullptr && gopls->fileCacheOnDisk,
      .goplsVersion = gopls != nullptr ? gopls->features.build.version : std::string()};
  // The reasons are text: built when the facts change, not every tick.
  if (facts != workspace.rungFacts) {  // an unset optional differs from any facts
    workspace.rungs = rungAvailability(facts);
    workspace.rungFacts = std::move(facts);
  }
  workspace.figures.snapshot.rungs = workspace.rungs.rungs;
}

std::string Manager::goplsFileCache(const std::string& root) {
  Workspace* workspace = find(root);
  return workspace != nullptr && workspace->gopls ? workspace->gopls->fileCache : std::string();
}

std::string Manager::goModCache(const std::string& root) {
  Workspace* workspace = find(root);
  if (workspace == nullptr || workspace->unit.mainPid == 0) return {};
  auto environment = readProcessEnviron(roots_, static_cast<pid_t>(workspace->unit.mainPid));
  return environment ? goModCacheDir(goCacheEnvOf(*environment)) : std::string();
}

void Manager::readFigures(Workspace& workspace) {
  WorkspaceFigures& figures = workspace.figures;
  WorkspaceSnapshot& snapshot = figures.snapshot;
  figures.sample.reset();
  if (workspace.readers.cgroup && snapshot.unit == UnitState::Active) {
    if (auto sample = workspace.readers.cgroup->read()) figures.sample = std::move(*sample);
  }
  snapshot.memoryCurrent = figures.sample ? figures.sample->current : std::nullopt;
  snapshot.inactiveFile = figures.sample ? figures.sample->stat.inactiveFile : std::nullopt;
  if (figures.sample) explainMemorySource(workspace, figures.sample->currentSource);
  figures.rss.reset();
  if (workspace.unit.mainPid > 0 && workspace.readers.mainProcess) {
    if (auto status = workspace.readers.mainProcess->readStatus()) figures.rss = status->vmRss;
  }
  snapshot.rss = figures.rss;
}

void Manager::explainMemorySource(Workspace& workspace, MemorySource source) {
  if (source == workspace.memorySourceSaid) return;
  workspace.memorySourceSaid = source;
  if (source != MemorySource::ProcessRss) {
    log()->debug("{}: memory figure from {}", workspace.record.path, toString(source));
    return;
  }
  logEvent(*log(), spdlog::level::info,
           "the unit has no memory cgroup of its own (a normal user's units get none on a host "
           "with v1 memory controllers): the workspace's memory figure is the summed RSS of the "
           "unit's processes (its cgroup.procs), and MemoryHigh=/MemoryMax= cannot act on it; "
           "the guard's ladder still does",
           {{"WORKSPACE", workspace.record.path}, {"UNIT", workspace.record.unit}});
}

void Manager::sampleWorkspace(Workspace& workspace, Usec now) {
  WorkspaceFigures& figures = workspace.figures;
  WorkspaceSnapshot& snapshot = figures.snapshot;
  snapshot.id = workspace.record.path;
  snapshot.unit = parseUnitState(workspace.unit.activeState).value_or(UnitState::Unknown);
  snapshot.nRestarts = workspace.unit.nRestarts;
  snapshot.inFlight = actions_->inFlight(workspace.record.path);

  const std::string& controlGroup = workspace.unit.controlGroup;
  if (!controlGroup.empty() && layout_ && workspace.readers.cgroupFor != controlGroup) {
    workspace.readers.cgroup.emplace(roots_, cgroupDirsFor(*layout_, controlGroup, roots_));
    workspace.readers.cgroupFor = controlGroup;
    const bool firstJudged = !workspace.readers.enforcement;
    workspace.readers.enforcement = judgeEnforcement(*layout_, controlGroup, roots_);
    // The unit's first start applied its controls before anyone could tell which take effect.
    if (firstJudged) warnUnenforcedControls(workspace);
  }
  if (snapshot.unit == UnitState::Active && !controlGroup.empty()) {
    // A restarted unit gets a new cgroup at the same path: the MainPID tells them apart.
    // Compared field by field: this runs every tick and must not allocate.
    ArmedFor& armed = workspace.wakeupsFor;
    if (armed.controlGroup != controlGroup || armed.mainPid != workspace.unit.mainPid ||
        armed.configGeneration != configGeneration_) {
      armed = {controlGroup, workspace.unit.mainPid, configGeneration_};
      armWorkspaceWakeups(workspace);
    }
  }
  const auto pid = static_cast<pid_t>(workspace.unit.mainPid);
  if (pid > 0 && (!workspace.readers.mainProcess || workspace.readers.mainProcess->pid() != pid)) {
    workspace.readers.mainProcess.emplace(roots_, pid);
    // A new gopls: the old one's heap figures say nothing about it.
    snapshot.processSince = now;
    figures.heap.reset();
    figures.heapReadAt.reset();
  }
  // Read every tick: the launcher sets it after systemd already reported the MainPID.
  figures.oomScoreAdj = pid > 0 ? readOomScoreAdj(roots_, pid) : std::nullopt;
  checkOomKills(workspace, workspace.unit);  // a kill systemd did not report as a change
  readFigures(workspace);
  readHeapIfDue(workspace, now, false);
  snapshot.heapInUse =
      figures.heap ? std::optional<uint64_t>(figures.heap->heapInuse) : std::nullopt;
  judgeRungs(workspace, now);
  workspace.history.add(HistorySample{.usec = scheduler_.wallNowUsec(),
                                      .memoryCurrent = snapshot.memoryCurrent.value_or(0),
                                      .rss = snapshot.rss.value_or(0),
                                      .heapInUse = snapshot.heapInUse.value_or(0)});
}

void Manager::tick(Usec now) {
  Snapshot snapshot;
  snapshot.now = now;
  sampleSystem(snapshot);
  snapshot.workspaces.reserve(workspaces_.size());
  // Enough refreshes per tick that every workspace gets one per heap interval, and no more.
  const GuardSettings& guard = engine_->config().guard;
  const auto ticksPerHeapInterval =
      static_cast<size_t>(std::max<Usec::rep>(1, guard.heapInterval / guard.sampleInterval));
  heapRefreshesLeft_ = (workspaces_.size() + ticksPerHeapInterval - 1) / ticksPerHeapInterval;
  for (auto& [root, workspace] : workspaces_) {
    sampleWorkspace(*workspace, now);
    snapshot.workspaces.push_back(workspace->figures.snapshot);
  }
  decisions_.clear();
  engine_->evaluate(snapshot, policyState_, decisions_);
  for (const Decision& decision : decisions_) applyDecision(decision);
  publish();
  adjustSampleInterval();
  scheduleDueTick(now);
}

void Manager::applyDecision(const Decision& decision) {
  Workspace* workspace = decision.workspace.empty() ? nullptr : find(decision.workspace);
  std::string unit = workspace != nullptr ? workspace->record.unit : "";
  std::string action = decision.action ? std::string(toString(*decision.action)) : "";
  auto level = decision.kind == DecisionKind::Action || decision.kind == DecisionKind::Level
                   ? spdlog::level::info
                   : spdlog::level::warn;
  logEvent(*log(), level, std::string(toString(decision.kind)) + ": " + decision.reason,
           {{"WORKSPACE", decision.workspace.empty() ? "system" : decision.workspace},
            {"UNIT", unit},
            {"ACTION", action}});

  if (decision.crossed && workspace != nullptr && observer_ != nullptr) {
    observer_->thresholdCrossed(decision.workspace, decision.level, *decision.crossed);
  }
  if (decision.budget && workspace != nullptr && observer_ != nullptr) {
    observer_->overBudget(decision.workspace, *decision.budget, decision.reason);
  }
  if (decision.kind != DecisionKind::Action || workspace == nullptr || !decision.action) return;
  if (decision.dryRun) {
    uint64_t judged = policyState_.workspaces[decision.workspace].judgedMemory.value_or(0);
    workspace->lastAction = {.name = "would " + action, .wallUsec = scheduler_.wallNowUsec()};
    if (observer_ != nullptr) {
      observer_->actionTaken(ActionTaken{.root = decision.workspace,
                                         .action = *decision.action,
                                         .result = "dry-run",
                                         .before = judged,
                                         .after = judged,
                                         .reason = decision.reason});
    }
    return;
  }
  runAction(*workspace, *decision.action, decision.reason, nullptr);
}

void Manager::runAction(Workspace& workspace, ActionKind action, const std::string& reason,
                        ActionRunner::Done done) {
  actions_->run(workspace.record.path, workspace.record.unit, action, reason, std::move(done));
  // "restarting" shows while the restart runs.
  publish();
}

GoplsDebug* Manager::debugClient(const std::string& root) {
  Workspace* workspace = find(root);
  return workspace == nullptr ? nullptr : workspace->debug.get();
}

std::optional<uint64_t> Manager::effectFigure(const std::string& root, bool fresh) {
  Workspace* workspace = find(root);
  if (workspace == nullptr) return std::nullopt;
  if (fresh) readFigures(*workspace);  // the last tick's reading is from before the action
  // The judged cgroup memory, or gopls' RSS where the unit has no cgroup figure (no v1 memory
  // cgroup of its own for a non-root user, say).
  const WorkspaceSnapshot& snapshot = workspace->figures.snapshot;
  if (auto judged = PolicyEngine::judgedMemory(snapshot, engine_->config().forWorkspace(root))) {
    return *judged;
  }
  return snapshot.rss.value_or(0);
}

std::optional<ReclaimTarget> Manager::reclaimTarget(const std::string& root) {
  Workspace* workspace = find(root);
  if (workspace == nullptr || !workspace->figures.sample ||
      !workspace->figures.sample->reclaimAvailable || !workspace->readers.cgroup ||
      !workspace->readers.cgroup->dirs().unified) {
    return std::nullopt;
  }
  return ReclaimTarget{.unifiedDir = *workspace->readers.cgroup->dirs().unified,
                       .current = workspace->figures.sample->current.value_or(0)};
}

Result<void> Manager::refreshUnitEnvironment(const std::string& root) {
  const Workspace* workspace = find(root);
  if (workspace == nullptr) return notGuarded(root);
  return writeUnitEnvironment(*workspace);
}

void Manager::rewriteUnitEnvironment(const Workspace& workspace, const std::string& when) {
  if (auto written = writeUnitEnvironment(workspace); !written) {
    logEvent(
        *log(), spdlog::level::warn,
        "the unit's environment file was not rewritten " + when +
            ", so its next start still has the previous settings: " + written.error().describe(),
        {{"WORKSPACE", workspace.record.path}, {"UNIT", workspace.record.unit}});
  }
}

void Manager::restartImminent(const std::string& root, const std::string& reason) {
  if (find(root) == nullptr || observer_ == nullptr) return;
  observer_->restarting(root, reason);
}

void Manager::unitRestarted(const std::string& root) {
  Workspace* workspace = find(root);
  if (workspace == nullptr) return;
  workspace->figures.heap.reset();
  workspace->figures.heapReadAt.reset();
}

void Manager::actionFinished(const ActionReport& report) {
  Workspace* workspace = find(report.root);
  if (workspace == nullptr) return;
  const std::string name(toString(report.action));
  workspace->lastAction = {.name = name, .wallUsec = scheduler_.wallNowUsec()};
  Decision judged =
      engine_->recordOutcome(policyState_, ActionOutcome{.workspace = report.root,
                                                         .action = report.action,
                                                         .before = report.before,
                                                         .after = report.after,
                                                         .heapBefore = report.heapBefore,
                                                         .heapAfter = report.heapAfter,
                                                         .success = report.result.ok(),
                                                         .at = scheduler_.now()});
  const std::string resultText =
      report.result ? "done" : "failed: " + report.result.error().describe();
  logEvent(*log(), report.result ? spdlog::level::info : spdlog::level::warn,
           name + " " + resultText + "; " + judged.reason,
           {{"WORKSPACE", report.root}, {"UNIT", report.unit}, {"ACTION", name}});
  if (observer_ != nullptr) {
    observer_->actionTaken(ActionTaken{.root = report.root,
                                       .action = report.action,
                                       .result = resultText,
                                       .before = report.before,
                                       .after = report.after,
                                       .reason = report.reason});
  }
  publish();
}

template <class T>
std::function<void(Result<T>)> Manager::answerWithin(const std::string& root,
                                                     const std::string& what,
                                                     const std::string& afterwards,
                                                     std::function<void(Result<T>)> done) {
  struct Pending {
    std::function<void(Result<T>)> done;
    Timer deadline;
  };
  auto pending = std::make_shared<Pending>();
  pending->done = std::move(done);
  auto answer = [](Pending& p, Result<T> result) {
    if (!p.done) return;
    auto once = std::move(p.done);
    p.done = nullptr;
    once(std::move(result));
  };
  // The timer holds the state weakly: once the action has answered and let go of it, it is gone.
  auto deadline = scheduler_.addOneShotTimer(
      kAnswerWithin,
      [answer, weak = std::weak_ptr<Pending>(pending), root, what, afterwards](Usec) {
        auto p = weak.lock();
        if (!p) return;
        const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(kAnswerWithin);
        answer(*p, errnoError(EINPROGRESS, root,
                              what + " is still running after " + std::to_string(seconds.count()) +
                                  " s and goes on; " + afterwards));
      });
  if (deadline) pending->deadline = std::move(*deadline);
  return [answer, pending](Result<T> result) {
    pending->deadline.reset();
    answer(*pending, std::move(result));
  };
}

void Manager::collectGarbage(const std::string& root,
                             std::function<void(Result<std::pair<uint64_t, uint64_t>>)> done) {
  Workspace* workspace = find(root);
  if (workspace == nullptr) return done(notGuarded(root));
  done = answerWithin(root, "the GC", kOutcomeAsSignal, std::move(done));
  runAction(*workspace, ActionKind::Gc, "requested over D-Bus",
            [done](Result<ActionReport> report) {
              if (!report) return done(report.error());
              done(std::make_pair(report->before, report->after));
            });
}

void Manager::trimCache(const std::string& root, std::function<void(Result<uint64_t>)> done) {
  Workspace* workspace = find(root);
  if (workspace == nullptr) return done(notGuarded(root));
  done = answerWithin(root, "the trim", kOutcomeAsSignal, std::move(done));
  runAction(*workspace, ActionKind::Trim, "requested over D-Bus",
            [done](Result<ActionReport> report) {
              if (!report) return done(report.error());
              done(report->before > report->after ? report->before - report->after : 0);
            });
}

void Manager::restart(const std::string& root, const std::string& reason, Done done) {
  Workspace* workspace = find(root);
  if (workspace == nullptr) return done(notGuarded(root));
  // An operator's restart also lifts a degraded state: they asked for it knowingly.
  if (auto restored = engine_->resetDegraded(policyState_, root, scheduler_.now())) {
    applyDecision(*restored);
  }
  done = answerWithin(root, "the restart", kOutcomeAsSignal, std::move(done));
  runAction(*workspace, ActionKind::Restart, reason, [done](Result<ActionReport> report) {
    if (!report) return done(report.error());
    done(Result<void>());
  });
}

void Manager::captureHeapProfile(const std::string& root,
                                 std::function<void(Result<std::string>)> done) {
  if (find(root) == nullptr) return done(notGuarded(root));
  done = answerWithin(root, "writing the heap profile",
                      "the profile appears in " + paths_.stateDir + "/profiles when written",
                      std::move(done));
  actions_->captureProfile(root, /*requested=*/true, std::move(done));
}

Result<std::vector<HistorySample>> Manager::history(const std::string& root,
                                                    uint64_t sinceWallUsec) const {
  const Workspace* workspace = find(root);
  if (workspace == nullptr) return notGuarded(root);
  return workspace->history.since(sinceWallUsec);
}

void Manager::setDryRun(bool dryRun) {
  dryRunOverride_ = dryRun;
  Config config = engine_->config();
  config.guard.dryRun = dryRun;
  engine_ = std::make_unique<PolicyEngine>(std::move(config));
  managerView_.dryRun = dryRun;
  publish();
}

Result<void> Manager::reload() {
  notifyReloading();
  auto config = loadConfig(paths_.configLayers, managerView_.memTotal, paths_.home);
  if (!config) {
    std::string message = config.error().describe();
    log()->error("reload rejected, the previous configuration stays: {}", message);
    notifyReady();
    if (observer_ != nullptr) observer_->configReloaded(false, message);
    return config.error();
  }
  if (dryRunOverride_) config->guard.dryRun = *dryRunOverride_;
  engine_ = std::make_unique<PolicyEngine>(std::move(*config));
  managerView_.dryRun = engine_->config().guard.dryRun;
  sampleTimer_.setInterval(engine_->config().guard.sampleInterval);
  managerView_.sampleIntervalUsec =
      static_cast<uint64_t>(engine_->config().guard.sampleInterval.count());
  ++configGeneration_;
  armSystemWakeups();
  // What the user set reaches every gopls at its next start: the guard's restarts, systemd's,
  // and whoever runs systemctl.
  for (const auto& [root, workspace] : workspaces_) {
    rewriteUnitEnvironment(*workspace, "on reload");
    applyResourceControls(*workspace);
  }
  std::string message = "loaded";
  for (const std::string& file : engine_->config().files) message += " " + file;
  log()->info("configuration reloaded: {}", message);
  notifyReady();
  publish();
  if (observer_ != nullptr) observer_->configReloaded(true, message);
  return {};
}

WorkspaceFacts Manager::factsOf(const Workspace& workspace) const {
  const std::string& root = workspace.record.path;
  auto state = policyState_.workspaces.find(root);
  const WorkspaceFigures& figures = workspace.figures;
  return WorkspaceFacts{
      .record = workspace.record,
      .unit = workspace.unit,
      .debugAddress = workspace.debug ? workspace.debug->debugAddress() : std::string(),
      .snapshot = figures.snapshot,
      .settings = engine_->config().forWorkspace(root),
      .policy = state == policyState_.workspaces.end() ? nullptr : &state->second,
      .inFlight = actions_->inFlight(root),
      .lastAction = workspace.lastAction,
      .gopls = workspace.gopls ? &*workspace.gopls : nullptr,
      .rungs = workspace.rungs,
      .enforcement = workspace.readers.enforcement ? &*workspace.readers.enforcement : nullptr,
      .oomScoreAdj = figures.oomScoreAdj,
      .oomKills = workspace.oomKills,
      .memorySource = figures.sample ? figures.sample->currentSource : MemorySource::None,
      .editors = workspace.editors.total()};
}

void Manager::publish() {
  Level worst = policyState_.system.level;
  for (auto& [root, workspace] : workspaces_) {
    const WorkspaceFacts facts = factsOf(*workspace);
    if (facts.policy != nullptr) worst = std::max(worst, facts.policy->level);
    workspace->view = wslgo::workspaceView(facts);
    auto changed = changedProperties(workspace->announced, workspace->view);
    if (!changed.empty()) {
      workspace->announced = workspace->view;
      if (observer_ != nullptr) observer_->workspacePropertiesChanged(root, changed);
    }
  }
  managerView_.state = std::string(toString(worst));
  auto changed = changedProperties(announcedManagerView_, managerView_);
  if (!changed.empty()) {
    announcedManagerView_ = managerView_;
    if (observer_ != nullptr) observer_->managerPropertiesChanged(changed);
  }
  notifyStatus(statusLine());
}

void Manager::adjustSampleInterval() {
  // Near a threshold, sample faster (earlyoom's idea): a crossing is then seen in a fraction of
  // the normal interval. "Near" is 90% of any workspace's warning line, or any level above ok.
  const Config& config = engine_->config();
  bool near = policyState_.system.level != Level::Ok;
  for (const auto& [root, workspace] : workspaces_) {
    const WorkspaceSettings& settings = config.forWorkspace(root);
    auto judged = PolicyEngine::judgedMemory(workspace->figures.snapshot, settings);
    if (judged && settings.memory.warning && *judged >= *settings.memory.warning * kNearThreshold) {
      near = true;
    }
    auto state = policyState_.workspaces.find(root);
    if (state != policyState_.workspaces.end() && state->second.level != Level::Ok) near = true;
  }
  Usec interval = near ? config.guard.fastSampleInterval : config.guard.sampleInterval;
  if (sampleTimer_ && sampleTimer_.interval() != interval) sampleTimer_.setInterval(interval);
}

void Manager::armSystemWakeups() {
  auto plan = systemWakeupPlan(engine_->config().system,
                               systemPressurePath(roots_, PressureResource::Memory));
  for (const Error& failed :
       wakeups_.armSystem(plan, [this](const std::string& why) { wakeUp(why); })) {
    log()->warn("no early wake-up on memory pressure, sampling only: {}", failed.describe());
  }
}

void Manager::armWorkspaceWakeups(Workspace& workspace) {
  if (!workspace.readers.cgroup) {
    wakeups_.disarmWorkspace(workspace.record.path);
    return;
  }
  auto plan = workspaceWakeupPlan(engine_->config().forWorkspace(workspace.record.path).memory,
                                  workspace.readers.cgroup->dirs());
  for (const Error& failed : wakeups_.armWorkspace(
           workspace.record.path, plan, [this](const std::string& why) { wakeUp(why); })) {
    // Not fatal: a user without a v1 memory cgroup of its own, say. Sampling still works.
    // Said once per workspace; a crash-looping unit would otherwise repeat it every start.
    logEvent(*log(), workspace.wakeupsExplained ? spdlog::level::debug : spdlog::level::info,
             "no early wake-up, sampling only: " + failed.describe(),
             {{"WORKSPACE", workspace.record.path}, {"UNIT", workspace.record.unit}});
    workspace.wakeupsExplained = true;
  }
}

void Manager::wakeUp(const std::string& why) {
  log()->debug("woken by {}", why);
  if (wakeTimer_ && wakeTimer_.pending()) return;  // one early tick serves every wake-up
  auto timer = scheduler_.addOneShotTimer(Usec(0), [this](Usec now) { tick(now); });
  if (!timer) {
    log()->warn("cannot schedule an early look: {}", timer.error().describe());
    return;
  }
  wakeTimer_ = std::move(*timer);
}

void Manager::scheduleDueTick(Usec now) {
  // A level is entered by the first tick after its sustain time ends; without this, that tick
  // comes up to one interval late.
  const Config& config = engine_->config();
  std::optional<Usec> due;
  auto consider = [&](const ThresholdTracker& tracker, const Thresholds& thresholds) {
    auto at = tracker.nextEntryDue(thresholds);
    if (at && (!due || *at < *due)) due = at;
  };
  const SystemState& system = policyState_.system;
  consider(system.memAvailable, config.system.memAvailable);
  consider(system.pressureSome, config.system.pressureSomeAvg10);
  consider(system.pressureFull, config.system.pressureFullAvg10);
  for (const auto& [root, state] : policyState_.workspaces) {
    const WorkspaceSettings& settings = config.forWorkspace(root);
    consider(state.memory, settings.memory);
    consider(state.rss, settings.rss);
    consider(state.heap, settings.heap);
  }
  if (!due || *due <= now || *due - now >= sampleTimer_.interval()) {
    dueTimer_.reset();  // the regular tick comes first, or nothing is pending
    return;
  }
  auto timer = scheduler_.addOneShotTimer(*due - now, [this](Usec at) { tick(at); });
  if (!timer) {
    log()->warn("cannot schedule the look at a sustain's end: {}", timer.error().describe());
    return;
  }
  dueTimer_ = std::move(*timer);
}

std::string Manager::statusLine() const {
  return wslgo::statusLine(managerView_, workspaces_.size());
}

std::string Manager::statusJson() const {
  std::vector<WorkspaceFacts> facts;
  facts.reserve(workspaces_.size());
  for (const auto& [root, workspace] : workspaces_) facts.push_back(factsOf(*workspace));
  return wslgo::statusJson(StatusFacts{.manager = managerView_,
                                       .configFiles = engine_->config().files,
                                       .workspaces = facts,
                                       .otherGopls = otherGopls_.processes(scheduler_.now())});
}

}  // namespace wslgo
