// GuardWorld: a Manager in process, on synthetic time, with an in-process systemd, scripted
// gopls debug servers, recorded wake-ups, and a pure cgroup v2 /proc and /sys tree whose memory
// figures the test writes.
#pragma once

#include <cerrno>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "daemon/manager.h"
#include "daemon/manager_observer.h"
#include "lib/kept_file.h"
#include "lib/unit_environment.h"
#include "lib/unit_name.h"
#include "tests/support/fake_gopls_debug.h"
#include "tests/support/fake_scheduler.h"
#include "tests/support/fake_systemd_client.h"
#include "tests/support/fake_wakeups.h"
#include "tests/unit/temp_dir.h"

namespace wslgo::test {

inline constexpr uint64_t kMiB = uint64_t{1} << 20;
inline constexpr const char* kAppSlice = "/user.slice/user-1000.slice/user@1000.service/app.slice";

// What the manager told the bus layer, in order.
class RecordingObserver final : public ManagerObserver {
 public:
  struct Crossed {
    std::string root;
    Level level;
    Crossing crossing;
  };

  void workspaceAdded(const std::string& root) override { added.push_back(root); }
  void workspaceRemoved(const std::string& root) override { removed.push_back(root); }
  void configReloaded(bool ok, const std::string& message) override {
    reloads.emplace_back(ok, message);
  }
  void thresholdCrossed(const std::string& root, Level level, const Crossing& crossing) override {
    crossed.push_back({root, level, crossing});
  }
  void actionTaken(const ActionTaken& action) override { actions.push_back(action); }
  void oomKilled(const std::string& root, const std::string& reason) override {
    oomKills.emplace_back(root, reason);
  }
  void restarting(const std::string& root, const std::string& reason) override {
    restartings.emplace_back(root, reason);
    if (whenRestarting) whenRestarting(root);
  }
  void overBudget(const std::string& root, const Budget& budget, const std::string&) override {
    overBudgets.emplace_back(root, budget);
  }
  void managerPropertiesChanged(const std::vector<std::string>&) override {}
  void workspacePropertiesChanged(const std::string& root,
                                  const std::vector<std::string>& names) override {
    for (const std::string& name : names) workspaceChanges.push_back(name + " " + root);
  }

  // "gc done", "trim failed: …", "restart dry-run", in order.
  std::vector<std::string> actionLines() const {
    std::vector<std::string> lines;
    for (const ActionTaken& action : actions) {
      lines.push_back(std::string(toString(action.action)) + " " + action.result);
    }
    return lines;
  }

  std::vector<std::string> added;
  std::vector<std::string> removed;
  std::vector<std::pair<bool, std::string>> reloads;
  std::vector<Crossed> crossed;
  std::vector<ActionTaken> actions;
  std::vector<std::pair<std::string, Budget>> overBudgets;
  std::vector<std::pair<std::string, std::string>> restartings;  // root, reason
  std::vector<std::pair<std::string, std::string>> oomKills;     // root, reason
  // Runs inside restarting(), so a test can look at the world at that moment.
  std::function<void(const std::string& root)> whenRestarting;
  std::vector<std::string> workspaceChanges;  // "PROPERTY ROOT" per announced change
};

// Thresholds in bytes so tests need not depend on this machine's MemTotal; sustain 2 s and
// settle 30 s as people would set them.
inline constexpr const char* kTestConfig = R"({
  "workspaces": { "default": { "memory": {
    "warning": "1G", "high": "1536M", "critical": "2G", "sustain": "2s", "hysteresis": 0.1,
    "exclude_inactive_file": true } } },
  "actions": { "settle": "30s",
    "gc": { "cooldown": "1m", "timeout": "10s", "min_freed": 0.1 },
    "trim": { "cooldown": "5m", "timeout": "30s", "cache_budget": "1G" },
    "restart": { "cooldown": "10m", "timeout": "30s", "max_restarts": 3, "window": "30m",
                 "save_profile": true } }
})";

class GuardWorld {
 public:
  explicit GuardWorld(const std::string& config = kTestConfig)
      : systemd(scheduler, kAppSlice), fleet(scheduler) {
    namespace fs = std::filesystem;
    const fs::path fixture = fs::path(WSLGO_FIXTURES_DIR) / "v2";
    fs::create_directories(dir_.path() / "proc/self");
    fs::create_directories(dir_.path() / "proc/pressure");
    fs::copy_file(fixture / "proc/self/mountinfo", dir_.path() / "proc/self/mountinfo");
    fs::copy_file(fixture / "proc/meminfo", dir_.path() / "proc/meminfo");
    fs::copy_file(fixture / "proc/pressure/memory", dir_.path() / "proc/pressure/memory");
    fs::create_directories(cgroupDir(""));
    for (const char* sub : {"home/.cache/gopls", "state", "run", "config"}) {
      fs::create_directories(dir_.path() / sub);
    }
    write(dir_ / "config/config.json", config);
    // A file in gopls' cache, so the trim rung has something to work on.
    write(dir_ / "home/.cache/gopls/entry", std::string(4096, 'x'));
    systemd.onProcessStarted = [this](const UnitInfo& unit) { startProcess(unit); };
  }

  // Makes the manager; a test may first write files (a registry, a config) it should find.
  Manager& create() {
    auto made = Manager::create(ManagerServices{.scheduler = scheduler,
                                                .systemd = systemd,
                                                .wakeups = wakeups,
                                                .debugClientFor = fleet.factory()},
                                SysRoots{.proc = dir_ / "proc", .sys = dir_ / "sys"}, paths());
    REQUIRE(made);
    manager_ = std::move(*made);
    manager_->setObserver(&observer);
    return *manager_;
  }

  // Starts the manager and lets systemd's answers to its adoption questions arrive.
  Manager& start() {
    if (!manager_) create();
    REQUIRE(manager_->start());
    settle();
    return *manager_;
  }

  // A few turns of the loop at the current time: answers and signals queued now arrive.
  void settle() {
    for (int turn = 0; turn < 10; ++turn) scheduler.runDue();
  }

  ManagerPaths paths() const {
    return ManagerPaths{
        .configLayers = {ConfigLayer{std::string(WSLGO_SOURCE_DIR) + "/config/default.json", true},
                         ConfigLayer{dir_ / "config/config.json", false}},
        .stateDir = dir_ / "state/wslgo-guard",
        .runtimeDir = dir_ / "run",
        .home = dir_ / "home",
        .cacheHome = {},
        .goplsCache = {},
        .goModCache = {},
        .goPath = {},
    };
  }

  Manager& manager() { return *manager_; }
  void destroyManager() { manager_.reset(); }

  // A Go module under the world's home; returns its path.
  std::string module(const std::string& name) {
    const std::string path = dir_ / ("home/src/" + name);
    std::filesystem::create_directories(path);
    write(path + "/go.mod", "module example.com/" + name + "\n\ngo 1.22\n");
    return path;
  }

  // Adds a module as a workspace and lets the next tick (2 s on) see it running.
  std::string addWorkspace(const std::string& name) {
    auto root = add(module(name));
    REQUIRE(root);
    scheduler.advance(std::chrono::seconds(2));
    return *root;
  }

  // AddWorkspace and AttachEditor as the bus calls them, answered once the fake systemd has
  // (the scheduler runs until then).
  Result<std::string> add(Manager& manager, const std::string& path, AddOptions options = {}) {
    return untilAnswered<std::string>(
        [&](auto done) { manager.addWorkspace(path, options, std::move(done)); });
  }
  Result<std::string> add(const std::string& path, AddOptions options = {}) {
    return add(*manager_, path, options);
  }
  Result<EditorAttachment> attach(const std::string& folder) {
    return untilAnswered<EditorAttachment>(
        [&](auto done) { manager_->attachEditor(folder, std::move(done)); });
  }

  template <class T, class Call>
  Result<T> untilAnswered(Call call) {
    std::optional<Result<T>> got;
    call(std::function<void(Result<T>)>([&got](Result<T> r) { got.emplace(std::move(r)); }));
    for (int turn = 0; turn < 10 && !got; ++turn) scheduler.runDue();
    if (!got) return errnoError(ETIMEDOUT, "test", "no answer after 10 turns of the loop");
    return std::move(*got);
  }

  std::string unitOf(const std::string& root) const { return manager_->workspaceView(root)->unit; }
  FakeGopls& goplsOf(const std::string& root) {
    return fleet.at(manager_->workspaceView(root)->debugAddress);
  }

  static std::string debugAddressOf(const std::string& unit) {
    return "127.0.0.1:" + std::to_string(10000 + std::hash<std::string>{}(unit) % 50000);
  }
  // The gopls a module's unit will run, before the module is added: what it offers can be set
  // before the guard first asks.
  FakeGopls& goplsToBeAt(const std::string& moduleDir) {
    auto unit = workspaceUnitName(moduleDir);
    REQUIRE(unit);
    return fleet.at(debugAddressOf(*unit));
  }

  // The workspace's cgroup memory: memory.current and an anon-only memory.stat.
  void setMemory(const std::string& root, uint64_t bytes) { setUnitMemory(unitOf(root), bytes); }

  std::string cgroupDir(const std::string& unit) const {
    return dir_ / ("sys/fs/cgroup" + std::string(kAppSlice) + (unit.empty() ? "" : "/" + unit));
  }
  const std::filesystem::path& path() const { return dir_.path(); }

  // Controller files a unit's cgroup gets beside the memory figures, as the kernel shows them
  // without a limit: enough for MemoryMax= to count as enforced, and none for CPUWeight= or
  // IOWeight=.
  std::vector<std::string> controllerFiles{"memory.max"};
  // false: units' cgroups get no memory files, as a normal user's on a hybrid host.
  bool unitsHaveMemoryFiles = true;
  // Each gopls' /proc/PID/environ (NAME=VALUE\0...); none when empty.
  std::string processEnviron;
  FakeScheduler scheduler;
  FakeSystemdClient systemd;
  FakeGoplsFleet fleet;
  FakeWakeups wakeups;
  RecordingObserver observer;

 private:
  static void write(const std::string& path, const std::string& text) {
    std::ofstream out(path, std::ios::trunc);
    out << text;
    REQUIRE(out.good());
  }

  // A new gopls: its /proc/PID/status and, at first start, its cgroup at 256 MiB, with the
  // controller files of `controllerFiles`.
  void startProcess(const UnitInfo& unit) {
    const std::string procDir = dir_ / ("proc/" + std::to_string(unit.mainPid));
    std::filesystem::create_directories(procDir);
    write(procDir + "/status",
          "Name:\tgopls\nPid:\t" + std::to_string(unit.mainPid) + "\nVmRSS:\t  262144 kB\n");
    write(procDir + "/oom_score_adj", std::to_string(launcherOomScoreAdj(unit.name)) + "\n");
    write(procDir + "/cmdline", launcherCommandLine(unit.name));
    if (!processEnviron.empty()) write(procDir + "/environ", processEnviron);
    const std::string dir = cgroupDir(unit.name);
    std::filesystem::create_directories(dir);
    if (unitsHaveMemoryFiles) setUnitMemory(unit.name, 256 * kMiB);
    write(dir + "/cgroup.procs", std::to_string(unit.mainPid) + "\n");
    for (const std::string& file : controllerFiles) write(dir + "/" + file, "max\n");
  }

  // What the unit's launcher execs: gopls on the guard's socket, with a debug server unless the
  // environment file turns it off. The port stands for the one the launcher picks; it is kept
  // per unit here so a test's FakeGopls outlives a restart.
  std::string launcherCommandLine(const std::string& unit) const {
    auto variables = unitEnvironmentOf(unit);
    std::string argv =
        std::string("/usr/bin/gopls") + '\0' + "-listen=unix;" + variables["WSLGO_SOCKET"] + '\0';
    if (variables["WSLGO_DEBUG_SERVER"] != "0") argv += "-debug=" + debugAddressOf(unit) + '\0';
    return argv;
  }

  std::map<std::string, std::string> unitEnvironmentOf(const std::string& unit) const {
    const size_t at = unit.find('@');
    const size_t dot = unit.rfind(".service");
    std::string buffer;
    auto text = readFileInto(
        dir_ / ("state/wslgo-guard/units/" + unit.substr(at + 1, dot - at - 1) + ".env"), buffer);
    if (!text) return {};
    auto variables = parseUnitEnvironment(*text);
    REQUIRE(variables.ok());
    return *variables;
  }

  // What the unit's launcher would write to /proc/self/oom_score_adj: the guard's environment
  // file's WSLGO_OOM_SCORE_ADJ, else the 0 it inherits.
  int launcherOomScoreAdj(const std::string& unit) const {
    const size_t at = unit.find('@');
    const size_t dot = unit.rfind(".service");
    std::string buffer;
    auto text = readFileInto(
        dir_ / ("state/wslgo-guard/units/" + unit.substr(at + 1, dot - at - 1) + ".env"), buffer);
    if (!text) return 0;
    auto variables = parseUnitEnvironment(*text);
    REQUIRE(variables.ok());
    auto adjust = oomScoreAdjustFrom(*variables);
    REQUIRE(adjust.ok());
    return adjust->value_or(0);
  }

  void setUnitMemory(const std::string& unit, uint64_t bytes) {
    const std::string dir = cgroupDir(unit);
    write(dir + "/memory.current", std::to_string(bytes) + "\n");
    write(dir + "/memory.stat",
          "anon " + std::to_string(bytes) + "\nfile 0\ninactive_file 0\nactive_file 0\n");
  }

  TempDir dir_{"manager"};
  std::unique_ptr<Manager> manager_;
};

}  // namespace wslgo::test
