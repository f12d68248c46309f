#include "daemon/manager.h"

#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "daemon/cache_trim.h"
#include "daemon/gopls_debug_client.h"
#include "daemon/http_client.h"
#include "daemon/logging.h"
#include "daemon/loopback_port.h"
#include "daemon/memory_wakeup.h"
#include "daemon/notify.h"
#include "daemon/profile_store.h"
#include "daemon/systemd_client.h"
#include "lib/atomic_file.h"
#include "lib/cgroup_hierarchy.h"
#include "lib/cgroup_memory_reader.h"
#include "lib/gopls_process.h"
#include "lib/heap_stats.h"
#include "lib/meminfo.h"
#include "lib/policy_format.h"
#include "lib/process.h"
#include "lib/psi.h"
#include "lib/sample_history.h"
#include "lib/unit_environment.h"
#include "lib/unit_name.h"
#include "lib/workspace_path.h"
#include "lib/workspace_registry.h"
#include "lib/workspace_socket.h"

namespace wslgo {

namespace {

uint64_t realtimeUsec() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000u + static_cast<uint64_t>(ts.tv_nsec) / 1000u;
}

uint64_t toBytes(std::optional<double> value) { return value ? static_cast<uint64_t>(*value) : 0; }

std::string levelState(Level level) {
  return level == Level::Ok ? "running" : std::string(toString(level));
}

// Gives the transient figures time to settle before "after" is measured: a GC's freed pages
// reach the cgroup once the Go scavenger returns them, a restart's once the old process is gone.
// "Near" a threshold, for faster sampling and an extra kernel wake-up: 90% of the warning line.
constexpr double kNearThreshold = 0.9;
constexpr Usec kStartupGrace = std::chrono::seconds(10);
constexpr Usec kOtherGoplsMaxAge = std::chrono::seconds(1);
constexpr Usec kHeapRetry = std::chrono::seconds(1);
constexpr Usec kAfterActionDelay = std::chrono::seconds(2);
// A trim walks the caches on the loop thread; it must not stall sampling and the bus.
constexpr Usec kTrimWalkBudget = std::chrono::milliseconds(200);
constexpr size_t kTrimWalkMaxFiles = 20000;

}  // namespace

// What a workspace's kernel wake-ups were armed for; any change re-arms them.
struct ArmedFor {
  std::string controlGroup;
  uint32_t mainPid = 0;
  uint64_t configGeneration = 0;
};

// What the manager knows about one workspace beyond its registry record.
struct Workspace {
  WorkspaceRecord record;
  UnitInfo unit;
  std::optional<CgroupMemoryReader> cgroup;
  std::string cgroupFor;  // the ControlGroup the reader was made for
  std::optional<ProcessMemoryReader> mainProcess;
  std::unique_ptr<GoplsDebugClient> debug;
  std::optional<HeapStats> heap;
  std::optional<Usec> heapReadAt;
  bool heapReadInFlight = false;
  std::optional<MemorySample> sample;
  std::optional<uint64_t> rss;
  std::optional<ActionKind> inFlight;
  std::optional<Usec> processSince;   // when the current MainPID was first seen
  std::vector<MemoryWakeup> wakeups;  // kernel notifications on the unit's cgroup
  ArmedFor wakeupsFor;                // the cgroup, MainPID and config they were armed for
  bool wakeupsExplained = false;      // why there are none has been logged
  SampleHistory history;
  WorkspaceView view;
  WorkspaceView announced;  // what the bus was last told
  WorkspaceSnapshot snapshot;

  Workspace(WorkspaceRecord r, Usec historyRetention, size_t historyCapacity)
      : record(std::move(r)), history(historyRetention, historyCapacity) {}
};

namespace {

// The figure an action's effect is judged by: the judged cgroup memory, or gopls' RSS where the
// unit has no cgroup figure (no v1 memory cgroup of its own for a non-root user, say).
uint64_t effectFigure(const Workspace& workspace, const WorkspaceSettings& settings) {
  if (auto judged = PolicyEngine::judgedMemory(workspace.snapshot, settings)) return *judged;
  return workspace.rss.value_or(0);
}

}  // namespace

struct Manager::SystemReaders {
  MeminfoReader meminfo;
  PressureReader pressure;
  std::optional<CgroupLayout> layout;
  std::optional<Meminfo> lastMeminfo;

  explicit SystemReaders(const SysRoots& roots)
      : meminfo(roots), pressure(systemPressurePath(roots, PressureResource::Memory)) {}
};

namespace {

std::shared_ptr<spdlog::logger> log() {
  static auto logger = componentLogger("manager");
  return logger;
}

// Sized for the normal interval; near a threshold the guard samples faster and the ring then
// covers less than `history`, which is what matters least then.
size_t historySize(const Config& config) {
  return historyCapacity(config.guard.history, config.guard.sampleInterval);
}

}  // namespace

Result<std::unique_ptr<Manager>> Manager::create(EventLoop& loop, SystemdClient& systemd,
                                                 HttpClient& http, SysRoots roots,
                                                 ManagerPaths paths) {
  auto meminfo = readMeminfo(roots);
  if (!meminfo) return meminfo.error();
  auto config = loadConfig(paths.configLayers, meminfo->memTotal, paths.home);
  if (!config) return config.error();
  std::unique_ptr<Manager> manager(
      new Manager(loop, systemd, http, std::move(roots), std::move(paths), std::move(*config)));
  manager->systemReaders_->lastMeminfo = *meminfo;

  // The registry: a corrupt file is kept aside, never lost, and the guard starts empty.
  std::string statePath = manager->paths_.stateDir + "/state.json";
  std::string buffer;
  if (auto text = readFileInto(statePath, buffer)) {
    auto registry = parseRegistry(*text);
    if (registry) {
      for (WorkspaceRecord& record : registry->workspaces) {
        std::string root = record.path;
        manager->workspaces_[root] =
            std::make_unique<Workspace>(std::move(record), manager->engine_->config().guard.history,
                                        historySize(manager->engine_->config()));
      }
    } else {
      auto aside = setAsideCorruptFile(statePath);
      log()->error("{}: {}; kept as {} and starting with no workspaces", statePath,
                   registry.error().describe(), aside ? *aside : "(could not move it aside)");
    }
  } else if (text.error().code != ENOENT) {
    log()->error("cannot read {}: {}", statePath, text.error().describe());
  }
  return manager;
}

Manager::Manager(EventLoop& loop, SystemdClient& systemd, HttpClient& http, SysRoots roots,
                 ManagerPaths paths, Config config)
    : loop_(loop),
      systemd_(systemd),
      http_(http),
      roots_(std::move(roots)),
      paths_(std::move(paths)),
      engine_(std::make_unique<PolicyEngine>(std::move(config))),
      systemReaders_(std::make_unique<SystemReaders>(roots_)) {
  if (auto layout = readCgroupLayout(roots_)) systemReaders_->layout = *layout;
  managerView_.dryRun = engine_->config().guard.dryRun;
  managerView_.sampleIntervalUsec =
      static_cast<uint64_t>(engine_->config().guard.sampleInterval.count());
}

Manager::~Manager() = default;

Workspace* Manager::find(const std::string& root) {
  auto it = workspaces_.find(root);
  return it == workspaces_.end() ? nullptr : it->second.get();
}

const Workspace* Manager::find(const std::string& root) const {
  auto it = workspaces_.find(root);
  return it == workspaces_.end() ? nullptr : it->second.get();
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
  for (const auto& [root, workspace] : workspaces_)
    registry.workspaces.push_back(workspace->record);
  if (auto made = makeDirectories(paths_.stateDir, 0700); !made) return made.error();
  return writeFileAtomically(paths_.stateDir + "/state.json", serializeRegistry(registry), 0600);
}

Result<void> Manager::writeUnitEnvironment(const Workspace& workspace) const {
  const Config& config = engine_->config();
  const WorkspaceSettings& settings = config.forWorkspace(workspace.record.path);
  UnitEnvironment environment;
  environment.workspace = workspace.record.path;
  environment.socket = workspace.record.socket;
  environment.debugAddress = "127.0.0.1:" + std::to_string(workspace.record.debugPort);
  environment.goplsPath = config.gopls.path;
  environment.goplsArgs = config.gopls.args;
  environment.gomemlimit = gomemlimitFor(settings);
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

Result<void> Manager::startUnit(Workspace& workspace, bool restart) {
  if (auto written = writeUnitEnvironment(workspace); !written) return written.error();
  // gopls creates its socket but not the directory it sits in.
  if (auto made = makeDirectories(paths_.runtimeDir + "/wslgo-guard", 0700); !made) {
    return made.error();
  }
  auto job = restart ? systemd_.restartUnit(workspace.record.unit)
                     : systemd_.startUnit(workspace.record.unit);
  if (!job) return job.error();
  // The optional runtime MemoryHigh= (the "limit" action): the kernel throttles and reclaims
  // above it on cgroup v2. On a hybrid host's v1 memory controller it has no effect.
  if (auto memoryHigh = engine_->config().forWorkspace(workspace.record.path).memoryHigh) {
    if (auto limited = systemd_.setMemoryHigh(workspace.record.unit, *memoryHigh); !limited) {
      log()->warn("{}: MemoryHigh={} not applied: {}", workspace.record.path, *memoryHigh,
                  limited.error().describe());
    }
  }
  log()->info("{}: starting {} ({})", workspace.record.path, workspace.record.unit, *job);
  return {};
}

void Manager::refreshUnit(Workspace& workspace) {
  auto info = systemd_.unitInfo(workspace.record.unit);
  if (!info) {
    log()->warn("{}: cannot read {}: {}", workspace.record.path, workspace.record.unit,
                info.error().describe());
    return;
  }
  workspace.unit = *info;
}

void Manager::adopt(Workspace& workspace) {
  if (auto watched = systemd_.watchUnit(workspace.record.unit); !watched) {
    log()->warn("{}: cannot watch {}: {}", workspace.record.path, workspace.record.unit,
                watched.error().describe());
  }
  refreshUnit(workspace);
  workspace.debug = std::make_unique<GoplsDebugClient>(
      http_, "127.0.0.1:" + std::to_string(workspace.record.debugPort));
  if (workspace.unit.activeState == "active" || workspace.unit.activeState == "activating") {
    log()->info("{}: adopted running {} (MainPID {})", workspace.record.path, workspace.record.unit,
                workspace.unit.mainPid);
    return;
  }
  if (auto started = startUnit(workspace); !started) {
    log()->error("{}: cannot start {}: {}", workspace.record.path, workspace.record.unit,
                 started.error().describe());
  }
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

  auto timer = loop_.addRepeatingTimer(engine_->config().guard.sampleInterval,
                                       [this](Usec now) { tick(now); });
  if (!timer) return timer.error();
  sampleTimer_ = std::move(*timer);
  armSystemWakeups();
  tick(loop_.now());
  return {};
}

Result<std::string> Manager::addWorkspace(const std::string& path, const AddOptions& options) {
  const Config& config = engine_->config();
  auto root = resolveWorkspaceRoot(path, options.allowNonModule || config.gopls.allowNonModule);
  if (!root) return root.error();
  if (find(*root) != nullptr) {
    return errnoError(EEXIST, *root, "is already guarded; RemoveWorkspace it first to re-add it");
  }
  auto unit = workspaceUnitName(*root);
  if (!unit) return unit.error();
  auto socket = workspaceSocketPath(paths_.runtimeDir, *root);
  if (!socket) return socket.error();
  auto port = pickLoopbackPort();
  if (!port) return port.error();

  WorkspaceRecord record;
  record.path = *root;
  record.unit = *unit;
  record.socket = *socket;
  record.debugPort = *port;
  // A unit already running (started by hand, say) keeps its gopls and its editors: the guard
  // takes the socket and debug port that gopls runs with, since StartUnit would not make it read
  // a new environment file. If they cannot be read, the unit is restarted once instead.
  bool restart = false;
  if (auto running = systemd_.unitInfo(*unit);
      running && running->activeState == "active" && running->mainPid > 0) {
    auto gopls = inspectGoplsProcess(roots_, static_cast<pid_t>(running->mainPid));
    auto debugPort = gopls ? loopbackDebugPort(gopls->invocation.debugAddress) : std::nullopt;
    if (gopls && debugPort && gopls->invocation.listen.network == GoplsNetwork::Unix) {
      record.socket = gopls->invocation.listen.address;
      record.debugPort = *debugPort;
    } else {
      restart = true;
    }
  }
  record.addedUsec = realtimeUsec();
  if (options.allowNonModule) record.options["allow_non_module"] = "true";
  auto workspace =
      std::make_unique<Workspace>(std::move(record), config.guard.history, historySize(config));
  Workspace& added = *workspace;
  workspaces_[*root] = std::move(workspace);
  if (auto saved = saveRegistry(); !saved) {
    workspaces_.erase(*root);
    return saved.error();
  }
  if (auto watched = systemd_.watchUnit(added.record.unit); !watched) {
    log()->warn("{}: cannot watch {}: {}", *root, added.record.unit, watched.error().describe());
  }
  added.debug = std::make_unique<GoplsDebugClient>(
      http_, "127.0.0.1:" + std::to_string(added.record.debugPort));
  if (auto started = startUnit(added, restart); !started) {
    // Keep nothing half-registered: the caller sees why and can fix it and add again.
    systemd_.unwatchUnit(added.record.unit);
    workspaces_.erase(*root);
    (void)saveRegistry();
    return started.error();
  }
  refreshUnit(added);
  added.view = {};
  publish();
  if (observer_ != nullptr) observer_->workspaceAdded(*root);
  logEvent(*log(), spdlog::level::info, "workspace added",
           {{"WORKSPACE", *root}, {"UNIT", added.record.unit}});
  return *root;
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

Result<void> Manager::removeWorkspace(const std::string& path) {
  auto root = findWorkspace(path);
  if (!root) return root.error();
  Workspace& workspace = *find(*root);
  if (workspace.inFlight) {
    return errnoError(EBUSY, *root,
                      "has a " + std::string(toString(*workspace.inFlight)) +
                          " in progress; try again when it finished");
  }
  std::string unit = workspace.record.unit;
  auto stopped = systemd_.stopUnit(unit);
  if (!stopped) {
    log()->warn("{}: stopping {} failed: {}", *root, unit, stopped.error().describe());
  }
  systemd_.unwatchUnit(unit);
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
  SystemReaders& readers = *systemReaders_;
  if (auto meminfo = readers.meminfo.read()) {
    readers.lastMeminfo = *meminfo;
  } else {
    log()->warn("{}", meminfo.error().describe());
  }
  std::optional<Pressure> pressure;
  if (auto read = readers.pressure.read()) pressure = *read;
  if (readers.lastMeminfo) snapshot.system = systemSnapshotFrom(*readers.lastMeminfo, pressure);

  if (readers.lastMeminfo) {
    managerView_.memTotal = readers.lastMeminfo->memTotal;
    managerView_.memAvailable = readers.lastMeminfo->memAvailable;
    managerView_.swapTotal = readers.lastMeminfo->swapTotal;
    managerView_.swapFree = readers.lastMeminfo->swapFree;
  }
  managerView_.pressureAvg10 = pressure ? pressure->some.avg10 : 0;
  managerView_.pressureAvg60 = pressure ? pressure->some.avg60 : 0;
  managerView_.pressureAvg300 = pressure ? pressure->some.avg300 : 0;
}

void Manager::readHeapIfDue(Workspace& workspace, Usec now, bool force) {
  if (!workspace.debug || workspace.heapReadInFlight) return;
  if (workspace.unit.activeState != "active") return;
  // Until a starting gopls has answered once, ask again soon rather than in 30 s; one that never
  // answers (no debug server) is asked at the normal rate once its start-up grace is over.
  const bool starting =
      !workspace.heap && workspace.processSince && now - *workspace.processSince < kStartupGrace;
  Usec interval = starting ? std::min(kHeapRetry, engine_->config().guard.heapInterval)
                           : engine_->config().guard.heapInterval;
  if (!force && workspace.heapReadAt && now - *workspace.heapReadAt < interval) return;
  // Routine refreshes are spread over the ticks of a heap interval instead of all landing on one
  // (each starts an HTTP request); a starting gopls and reads around an action are not held back.
  if (!force && !starting) {
    if (heapRefreshesLeft_ == 0) return;
    --heapRefreshesLeft_;
  }
  workspace.heapReadAt = now;
  workspace.heapReadInFlight = true;
  std::string root = workspace.record.path;
  if (!workspace.debug->features()) {
    // Which GC route this gopls has (/gc on newer ones); until known, the pprof one serves.
    workspace.debug->detect([root](Result<GoplsDebugFeatures> features) {
      if (features) log()->debug("{}: gopls debug server: gc via {}", root, features->gcRoute);
    });
  }
  workspace.debug->readHeapStats(std::chrono::seconds(5), [this, root](Result<HeapStats> stats) {
    Workspace* current = find(root);
    if (current == nullptr) return;
    current->heapReadInFlight = false;
    if (stats) {
      current->heap = *stats;
    } else {
      log()->debug("{}: heap figures: {}", root, stats.error().describe());
    }
  });
}

void Manager::sampleWorkspace(Workspace& workspace, Usec now) {
  WorkspaceSnapshot& snapshot = workspace.snapshot;
  snapshot.id = workspace.record.path;
  snapshot.unit = parseUnitState(workspace.unit.activeState).value_or(UnitState::Unknown);
  snapshot.nRestarts = workspace.unit.nRestarts;
  snapshot.inFlight = workspace.inFlight;

  if (!workspace.unit.controlGroup.empty() && systemReaders_->layout &&
      workspace.cgroupFor != workspace.unit.controlGroup) {
    workspace.cgroup.emplace(
        roots_, cgroupDirsFor(*systemReaders_->layout, workspace.unit.controlGroup, roots_));
    workspace.cgroupFor = workspace.unit.controlGroup;
  }
  if (snapshot.unit == UnitState::Active && !workspace.unit.controlGroup.empty()) {
    // A restarted unit gets a new cgroup at the same path: the MainPID tells them apart.
    // Compared field by field: this runs every tick and must not allocate.
    ArmedFor& armed = workspace.wakeupsFor;
    if (armed.controlGroup != workspace.unit.controlGroup ||
        armed.mainPid != workspace.unit.mainPid || armed.configGeneration != configGeneration_) {
      armed = {workspace.unit.controlGroup, workspace.unit.mainPid, configGeneration_};
      armWorkspaceWakeups(workspace);
    }
  }
  workspace.sample.reset();
  if (workspace.cgroup && snapshot.unit == UnitState::Active) {
    if (auto sample = workspace.cgroup->read()) workspace.sample = std::move(*sample);
  }
  snapshot.memoryCurrent = workspace.sample ? workspace.sample->current : std::nullopt;
  snapshot.inactiveFile = workspace.sample ? workspace.sample->stat.inactiveFile : std::nullopt;

  pid_t pid = static_cast<pid_t>(workspace.unit.mainPid);
  if (pid > 0 && (!workspace.mainProcess || workspace.mainProcess->pid() != pid)) {
    workspace.mainProcess.emplace(roots_, pid);
    // A new gopls: the old one's heap figures say nothing about it.
    workspace.processSince = now;
    workspace.heap.reset();
    workspace.heapReadAt.reset();
  }
  workspace.rss.reset();
  if (pid > 0 && workspace.mainProcess) {
    if (auto status = workspace.mainProcess->readStatus()) workspace.rss = status->vmRss;
  }
  snapshot.rss = workspace.rss;
  readHeapIfDue(workspace, now, false);
  snapshot.heapInUse =
      workspace.heap ? std::optional<uint64_t>(workspace.heap->heapInuse) : std::nullopt;
  // A gopls that has just started is not acted on until its debug server answered (a GC would
  // only fail) or the grace has passed without it (then restarts still work).
  if (snapshot.unit == UnitState::Active && !workspace.heap && workspace.processSince &&
      now - *workspace.processSince < kStartupGrace) {
    snapshot.unit = UnitState::Activating;
  }
  workspace.history.add(HistorySample{realtimeUsec(), snapshot.memoryCurrent.value_or(0),
                                      snapshot.rss.value_or(0), snapshot.heapInUse.value_or(0)});
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
    snapshot.workspaces.push_back(workspace->snapshot);
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

  if (decision.kind == DecisionKind::Level && workspace != nullptr && observer_ != nullptr &&
      decision.level != Level::Ok) {
    // Which metric crossed: the one whose own tracker sits at the new level.
    const WorkspaceState& state = policyState_.workspaces.find(decision.workspace)->second;
    const WorkspaceSettings& settings = engine_->config().forWorkspace(decision.workspace);
    struct Metric {
      const char* name;
      const ThresholdTracker& tracker;
      const Thresholds& thresholds;
    };
    for (const Metric& metric :
         {Metric{"memory", state.memory, settings.memory}, Metric{"rss", state.rss, settings.rss},
          Metric{"heap", state.heap, settings.heap}}) {
      if (metric.tracker.level() != decision.level) continue;
      observer_->thresholdCrossed(decision.workspace, std::string(toString(decision.level)),
                                  metric.name, toBytes(metric.tracker.lastValue()),
                                  toBytes(metric.thresholds.at(decision.level)));
      break;
    }
  }
  if (decision.kind != DecisionKind::Action || workspace == nullptr || !decision.action) return;
  if (decision.dryRun) {
    uint64_t judged = policyState_.workspaces[decision.workspace].judgedMemory.value_or(0);
    workspace->view.lastAction = "would " + action;
    workspace->view.lastActionUsec = realtimeUsec();
    if (observer_ != nullptr) {
      observer_->actionTaken(decision.workspace, action, "dry-run", judged, judged,
                             decision.reason);
    }
    return;
  }
  runAction(*workspace, *decision.action, decision.reason, nullptr);
}

void Manager::runAction(Workspace& workspace, ActionKind action, const std::string& reason,
                        ActionDone done) {
  if (workspace.inFlight) {
    if (done) {
      done(errnoError(EBUSY, workspace.record.path,
                      "has a " + std::string(toString(*workspace.inFlight)) +
                          " in progress; try again when it finished"));
    }
    return;
  }
  workspace.inFlight = action;
  uint64_t before = effectFigure(workspace, engine_->config().forWorkspace(workspace.record.path));
  std::string root = workspace.record.path;
  const Config& config = engine_->config();

  // Every path ends in finish(), which re-finds the workspace: it may be gone by then.
  auto finish = [this, root, action, reason, before, done](Result<std::string> result) {
    Workspace* current = find(root);
    if (current == nullptr) {
      if (done) done(errnoError(ESRCH, root, "was removed while the action ran"));
      return;
    }
    finishAction(*current, action, reason, before, std::move(result), done);
  };

  switch (action) {
    case ActionKind::Gc: {
      workspace.debug->collectGarbage(config.actions.gc.timeout, [this, finish](Result<void> gc) {
        if (!gc) return finish(gc.error());
        afterDelay([finish] { finish(std::string()); });
      });
      return;
    }
    case ActionKind::Trim: {
      finish(trimNow(workspace));
      return;
    }
    case ActionKind::Restart: {
      captureProfile(
          workspace, /*requested=*/false, [this, root, finish](Result<std::string> profile) {
            Workspace* current = find(root);
            if (current == nullptr) return finish(errnoError(ESRCH, root, "was removed"));
            if (!profile) {
              log()->warn("{}: no heap profile before the restart: {}", root,
                          profile.error().describe());
            }
            auto job = systemd_.restartUnit(current->record.unit);
            if (!job) return finish(job.error());
            current->heap.reset();
            current->heapReadAt.reset();
            afterDelay([finish, profile] { finish(profile ? *profile : std::string()); });
          });
      return;
    }
  }
}

void Manager::afterDelay(std::function<void()> then) {
  auto timer = loop_.addOneShotTimer(kAfterActionDelay, [this, then](Usec) {
    then();
    pendingTimers_.erase(std::remove_if(pendingTimers_.begin(), pendingTimers_.end(),
                                        [](const Timer& t) { return !t.pending(); }),
                         pendingTimers_.end());
  });
  if (!timer) {
    then();
    return;
  }
  pendingTimers_.push_back(std::move(*timer));
}

Result<std::string> Manager::trimNow(Workspace& workspace) {
  const Config& config = engine_->config();
  std::string summary;
  // cgroup v2 with memory.reclaim: ask the kernel to reclaim what is above the warning line.
  if (workspace.sample && workspace.sample->reclaimAvailable && workspace.cgroup &&
      workspace.cgroup->dirs().unified) {
    const WorkspaceSettings& settings = config.forWorkspace(workspace.record.path);
    uint64_t current = workspace.sample->current.value_or(0);
    uint64_t target = toBytes(settings.memory.warning);
    uint64_t excess = current > target ? current - target : current / 10;
    if (auto reclaimed = reclaimCgroupMemory(*workspace.cgroup->dirs().unified, excess)) {
      summary += "asked the kernel to reclaim " + describeBytes(static_cast<double>(excess)) + "; ";
    }
  }
  GoCacheEnv env;
  env.home = paths_.home;
  env.xdgCacheHome = paths_.cacheHome;
  if (const char* gomodcache = std::getenv("GOMODCACHE")) env.goModCache = gomodcache;
  if (const char* gopath = std::getenv("GOPATH")) env.goPath = gopath;
  WalkLimits limits;
  limits.maxFiles = kTrimWalkMaxFiles;
  limits.maxTime = kTrimWalkBudget;
  limits.now = [this] { return loop_.now(); };
  std::string goplsCache = goplsCacheDir(env);
  if (auto pruned = pruneCacheToBudget(goplsCache, config.actions.trim.cacheBudget, limits)) {
    summary += "pruned " + std::to_string(pruned->filesRemoved) + " files (" +
               describeBytes(static_cast<double>(pruned->bytesFreed)) + ") of " + goplsCache + "; ";
  }
  for (const std::string& dir : {goplsCache, goModCacheDir(env)}) {
    if (auto dropped = dropPageCache(dir, limits)) {
      summary +=
          "dropped the page cache of " + std::to_string(dropped->files) + " files in " + dir + "; ";
    }
  }
  if (summary.empty()) {
    return errnoError(ENOENT, workspace.record.path,
                      "nothing to trim: no memory.reclaim and no gopls or module cache found");
  }
  return summary;
}

void Manager::captureProfile(Workspace& workspace, bool requested,
                             std::function<void(Result<std::string>)> done) {
  const Config& config = engine_->config();
  // restart.save_profile governs the profile before a restart; an operator's request always
  // captures one.
  if (!requested && !config.actions.restart.saveProfile) return done(std::string());
  auto key = escapeUnitPath(workspace.record.path);
  if (!key) return done(key.error());
  ProfileStore store(paths_.stateDir + "/profiles", config.profiles.keep,
                     config.profiles.maxTotalBytes);
  auto path = store.newProfilePath(*key, std::chrono::system_clock::now());
  if (!path) return done(path.error());
  std::string file = *path;
  std::string root = workspace.record.path;
  workspace.debug->saveHeapProfile(file, config.actions.restart.timeout,
                                   [this, file, root, done, store](Result<uint64_t> saved) mutable {
                                     if (!saved) {
                                       std::error_code ignored;
                                       std::filesystem::remove(file, ignored);
                                       return done(saved.error());
                                     }
                                     if (auto pruned = store.enforceLimits(); !pruned) {
                                       log()->warn("{}: keeping profiles within limits: {}", root,
                                                   pruned.error().describe());
                                     }
                                     done(file);
                                   });
}

void Manager::finishAction(Workspace& workspace, ActionKind action, const std::string& reason,
                           uint64_t before, Result<std::string> result, ActionDone done) {
  workspace.inFlight.reset();
  const WorkspaceSettings& settings = engine_->config().forWorkspace(workspace.record.path);
  // A fresh reading: the last tick's is from before the action.
  if (workspace.cgroup) {
    if (auto sample = workspace.cgroup->read()) {
      workspace.sample = std::move(*sample);
      workspace.snapshot.memoryCurrent = workspace.sample->current;
      workspace.snapshot.inactiveFile = workspace.sample->stat.inactiveFile;
    }
  }
  if (workspace.mainProcess) {
    if (auto status = workspace.mainProcess->readStatus()) workspace.rss = status->vmRss;
  }
  uint64_t after = effectFigure(workspace, settings);
  std::string name(toString(action));
  workspace.view.lastAction = name;
  workspace.view.lastActionUsec = realtimeUsec();

  ActionOutcome outcome{workspace.record.path, action, before, after, result.ok(), loop_.now()};
  Decision judged = engine_->recordOutcome(policyState_, outcome);
  std::string resultText = result.ok() ? "done" : "failed: " + result.error().describe();
  logEvent(
      *log(), result.ok() ? spdlog::level::info : spdlog::level::warn,
      name + " " + resultText + "; " + judged.reason,
      {{"WORKSPACE", workspace.record.path}, {"UNIT", workspace.record.unit}, {"ACTION", name}});
  if (observer_ != nullptr) {
    observer_->actionTaken(workspace.record.path, name, resultText, before, after, reason);
  }
  publish();
  if (done) {
    if (result.ok()) {
      done(ActionFigures{before, after, result.value()});
    } else {
      done(result.error());
    }
  }
}

void Manager::collectGarbage(const std::string& root,
                             std::function<void(Result<std::pair<uint64_t, uint64_t>>)> done) {
  Workspace* workspace = find(root);
  if (workspace == nullptr) return done(errnoError(ESRCH, root, "is not a guarded workspace"));
  runAction(*workspace, ActionKind::Gc, "requested over D-Bus",
            [done](Result<ActionFigures> figures) {
              if (!figures) return done(figures.error());
              done(std::make_pair(figures->before, figures->after));
            });
}

void Manager::trimCache(const std::string& root, std::function<void(Result<uint64_t>)> done) {
  Workspace* workspace = find(root);
  if (workspace == nullptr) return done(errnoError(ESRCH, root, "is not a guarded workspace"));
  runAction(*workspace, ActionKind::Trim, "requested over D-Bus",
            [done](Result<ActionFigures> figures) {
              if (!figures) return done(figures.error());
              done(figures->before > figures->after ? figures->before - figures->after : 0);
            });
}

void Manager::restart(const std::string& root, const std::string& reason, Done done) {
  Workspace* workspace = find(root);
  if (workspace == nullptr) return done(errnoError(ESRCH, root, "is not a guarded workspace"));
  // An operator's restart also lifts a degraded state: they asked for it knowingly.
  if (auto restored = engine_->resetDegraded(policyState_, root, loop_.now())) {
    applyDecision(*restored);
  }
  runAction(*workspace, ActionKind::Restart, reason, [done](Result<ActionFigures> figures) {
    if (!figures) return done(figures.error());
    done(Result<void>());
  });
}

void Manager::captureHeapProfile(const std::string& root,
                                 std::function<void(Result<std::string>)> done) {
  Workspace* workspace = find(root);
  if (workspace == nullptr) return done(errnoError(ESRCH, root, "is not a guarded workspace"));
  captureProfile(*workspace, /*requested=*/true, std::move(done));
}

Result<std::vector<std::tuple<uint64_t, uint64_t, uint64_t, uint64_t>>> Manager::history(
    const std::string& root, uint64_t sinceUsec) const {
  const Workspace* workspace = find(root);
  if (workspace == nullptr) return errnoError(ESRCH, root, "is not a guarded workspace");
  std::vector<std::tuple<uint64_t, uint64_t, uint64_t, uint64_t>> out;
  for (const HistorySample& sample : workspace->history.since(sinceUsec)) {
    out.emplace_back(sample.usec, sample.memoryCurrent, sample.rss, sample.heapInUse);
  }
  return out;
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
  uint64_t memTotal = managerView_.memTotal;
  auto config = loadConfig(paths_.configLayers, memTotal, paths_.home);
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
  std::string message = "loaded";
  for (const std::string& file : engine_->config().files) message += " " + file;
  log()->info("configuration reloaded: {}", message);
  notifyReady();
  publish();
  if (observer_ != nullptr) observer_->configReloaded(true, message);
  return {};
}

void Manager::publish() {
  const Config& config = engine_->config();
  Level worst = policyState_.system.level;
  for (auto& [root, workspace] : workspaces_) {
    WorkspaceView& view = workspace->view;
    const WorkspaceSettings& settings = config.forWorkspace(root);
    view.path = root;
    view.unit = workspace->record.unit;
    view.socket = workspace->record.socket;
    view.debugAddress = "127.0.0.1:" + std::to_string(workspace->record.debugPort);
    view.mainPid = workspace->unit.mainPid;
    view.memoryCurrent = workspace->snapshot.memoryCurrent.value_or(0);
    view.rss = workspace->snapshot.rss.value_or(0);
    view.heapInUse = workspace->snapshot.heapInUse.value_or(0);
    view.warningLimit = toBytes(settings.memory.warning);
    view.highLimit = toBytes(settings.memory.high);
    view.criticalLimit = toBytes(settings.memory.critical);
    view.restarts = workspace->unit.nRestarts;

    auto state = policyState_.workspaces.find(root);
    Level level = state == policyState_.workspaces.end() ? Level::Ok : state->second.level;
    worst = std::max(worst, level);
    const std::string& active = workspace->unit.activeState;
    if (workspace->inFlight == ActionKind::Restart) {
      view.state = "restarting";
    } else if (state != policyState_.workspaces.end() &&
               (state->second.degraded || state->second.crashLoop)) {
      // Either way the guard has stopped restarting it, which is what the user must know.
      view.state = "degraded";
    } else if (active == "failed") {
      view.state = "failed";
    } else if (active == "activating" || active.empty()) {
      view.state = "starting";
    } else if (active == "inactive" || active == "deactivating") {
      view.state = "stopped";
    } else {
      view.state = levelState(level);
    }
    auto changed = changedProperties(workspace->announced, view);
    if (!changed.empty()) {
      workspace->announced = view;
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
    auto judged = PolicyEngine::judgedMemory(workspace->snapshot, settings);
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
  systemWakeups_.clear();
  const std::string path = systemPressurePath(roots_, PressureResource::Memory);
  if (::access(path.c_str(), F_OK) != 0) return;  // no PSI on this kernel: ticks only
  // A PSI trigger at each warning line: avg10 lags the stall behind it, so the trigger, which
  // sees the stall within a fraction of its window, is what makes the guard look early.
  const SystemSettings& system = engine_->config().system;
  const Usec window = MemoryWakeup::kPressureWindowStep;
  for (auto [kind, thresholds] : {std::pair{"some", &system.pressureSomeAvg10},
                                  std::pair{"full", &system.pressureFullAvg10}}) {
    if (!thresholds->warning) continue;
    const Usec stall(static_cast<Usec::rep>(static_cast<double>(window.count()) *
                                            std::clamp(*thresholds->warning, 0.1, 100.0) / 100));
    auto wakeup = MemoryWakeup::pressure(loop_, path, kind, stall, window,
                                         [this](const std::string& why) { wakeUp(why); });
    if (!wakeup) {
      log()->warn("no early wake-up on memory pressure, sampling only: {}",
                  wakeup.error().describe());
      continue;
    }
    log()->debug("wake-up armed: {}", wakeup->description());
    systemWakeups_.push_back(std::move(*wakeup));
  }
}

void Manager::armWorkspaceWakeups(Workspace& workspace) {
  workspace.wakeups.clear();
  if (!workspace.cgroup) return;
  const CgroupDirs& dirs = workspace.cgroup->dirs();
  const Thresholds& memory = engine_->config().forWorkspace(workspace.record.path).memory;
  auto wake = [this](const std::string& why) { wakeUp(why); };

  std::vector<Result<MemoryWakeup>> armed;
  if (dirs.memoryV1) {
    // v1 notifies at any byte count: one line near warning (to sample faster) and one per level.
    std::vector<uint64_t> lines;
    if (memory.warning) lines.push_back(static_cast<uint64_t>(*memory.warning * kNearThreshold));
    for (Level level : {Level::Warning, Level::High, Level::Critical}) {
      if (auto value = memory.at(level)) lines.push_back(static_cast<uint64_t>(*value));
    }
    for (uint64_t bytes : lines) {
      armed.push_back(MemoryWakeup::usageThreshold(loop_, *dirs.memoryV1, bytes, wake));
    }
  } else if (dirs.unified && ::access((*dirs.unified + "/memory.events").c_str(), F_OK) == 0) {
    armed.push_back(MemoryWakeup::memoryEvents(loop_, *dirs.unified, wake));
  }
  for (auto& wakeup : armed) {
    if (!wakeup) {
      // Not fatal: a user without a v1 memory cgroup of its own, say. Sampling still works.
      // Said once per workspace; a crash-looping unit would otherwise repeat it every start.
      logEvent(*log(), workspace.wakeupsExplained ? spdlog::level::debug : spdlog::level::info,
               "no early wake-up, sampling only: " + wakeup.error().describe(),
               {{"WORKSPACE", workspace.record.path}, {"UNIT", workspace.record.unit}});
      workspace.wakeupsExplained = true;
      continue;
    }
    log()->debug("{}: wake-up armed: {}", workspace.record.path, wakeup->description());
    workspace.wakeups.push_back(std::move(*wakeup));
  }
}

void Manager::wakeUp(const std::string& why) {
  log()->debug("woken by {}", why);
  if (wakeTimer_ && wakeTimer_.pending()) return;  // one early tick serves every wake-up
  auto timer = loop_.addOneShotTimer(Usec(0), [this](Usec now) { tick(now); });
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
  auto timer = loop_.addOneShotTimer(*due - now, [this](Usec at) { tick(at); });
  if (!timer) {
    log()->warn("cannot schedule the look at a sustain's end: {}", timer.error().describe());
    return;
  }
  dueTimer_ = std::move(*timer);
}

std::string Manager::statusLine() const {
  std::string line = managerView_.state + ": " + std::to_string(workspaces_.size()) +
                     (workspaces_.size() == 1 ? " workspace" : " workspaces");
  if (managerView_.memTotal > 0) {
    line +=
        ", MemAvailable " + describePercent(100.0 * static_cast<double>(managerView_.memAvailable) /
                                            static_cast<double>(managerView_.memTotal));
  }
  if (managerView_.dryRun) line += ", dry run";
  return line;
}

std::string Manager::statusJson() const {
  nlohmann::json out;
  out["schema_version"] = 1;
  out["version"] = WSLGO_VERSION;
  out["state"] = managerView_.state;
  out["dry_run"] = managerView_.dryRun;
  out["sample_interval_usec"] = managerView_.sampleIntervalUsec;
  out["memory"] = {{"mem_total", managerView_.memTotal},
                   {"mem_available", managerView_.memAvailable},
                   {"swap_total", managerView_.swapTotal},
                   {"swap_free", managerView_.swapFree}};
  out["memory_pressure"] = {{"some_avg10", managerView_.pressureAvg10},
                            {"some_avg60", managerView_.pressureAvg60},
                            {"some_avg300", managerView_.pressureAvg300}};
  out["config_files"] = engine_->config().files;
  out["workspaces"] = nlohmann::json::array();
  for (const auto& [root, workspace] : workspaces_) {
    const WorkspaceView& view = workspace->view;
    auto optional = [](const std::optional<uint64_t>& value) -> nlohmann::json {
      return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
    };
    nlohmann::json entry{
        {"path", view.path},
        {"unit", view.unit},
        {"socket", view.socket},
        {"debug_address", view.debugAddress},
        {"main_pid", view.mainPid},
        {"state", view.state},
        {"unit_active_state", workspace->unit.activeState},
        {"memory_current", optional(workspace->snapshot.memoryCurrent)},
        {"memory_source", workspace->sample
                              ? std::string(toString(workspace->sample->currentSource))
                              : std::string("none")},
        {"rss", optional(workspace->snapshot.rss)},
        {"heap_in_use", optional(workspace->snapshot.heapInUse)},
        {"limits",
         {{"warning", view.warningLimit},
          {"high", view.highLimit},
          {"critical", view.criticalLimit}}},
        {"restarts", view.restarts},
        {"last_action", view.lastAction},
        {"last_action_usec", view.lastActionUsec},
        {"editor_flags", "-remote=unix;" + view.socket}};
    out["workspaces"].push_back(std::move(entry));
  }
  // gopls processes the guard did not start (an editor's own, a forwarder): reported, never
  // touched. Scanned here only, on request, not every tick.
  // /proc is walked at most once a second however often GetStatus is called: the walk is most of
  // a call's cost.
  const Usec now = loop_.now();
  if (!otherGoplsAt_ || now - *otherGoplsAt_ >= kOtherGoplsMaxAge) {
    otherGoplsAt_ = now;
    otherGopls_.clear();
    if (auto found = findGoplsProcesses(roots_)) {
      for (const GoplsProcess& gopls : *found) {
        OtherGopls other{gopls.pid, std::string(toString(gopls.invocation.role)),
                         gopls.workingDirectory, std::nullopt};
        if (auto status = readProcessStatus(roots_, gopls.pid)) other.rss = status->vmRss;
        otherGopls_.push_back(std::move(other));
      }
    }
  }
  out["other_gopls"] = nlohmann::json::array();
  for (const OtherGopls& gopls : otherGopls_) {
    bool ours = std::any_of(workspaces_.begin(), workspaces_.end(), [&](const auto& entry) {
      return static_cast<pid_t>(entry.second->unit.mainPid) == gopls.pid;
    });
    if (ours) continue;
    nlohmann::json entry{{"pid", gopls.pid}, {"role", gopls.role}, {"directory", gopls.directory}};
    if (gopls.rss) entry["rss"] = *gopls.rss;
    out["other_gopls"].push_back(std::move(entry));
  }
  return out.dump();
}

}  // namespace wslgo
