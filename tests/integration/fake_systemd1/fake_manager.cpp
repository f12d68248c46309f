#include "tests/integration/fake_systemd1/fake_manager.h"

#include <fcntl.h>
#include <fnmatch.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string_view>
#include <tuple>
#include <utility>

#include <sdbus-c++/Error.h>
#include <sdbus-c++/Message.h>
#include <sdbus-c++/Types.h>

extern char** environ;

namespace wslgo::fake {
namespace {

constexpr const char* kManagerPath = "/org/freedesktop/systemd1";
constexpr const char* kManagerInterface = "org.freedesktop.systemd1.Manager";
constexpr const char* kUnitInterface = "org.freedesktop.systemd1.Unit";
constexpr const char* kServiceInterface = "org.freedesktop.systemd1.Service";
constexpr const char* kControlPath = "/org/wslgo/Test";
constexpr const char* kControlInterface = "org.wslgo.Test.FakeSystemd";

constexpr std::string_view kGoplsPrefix = "wslgo-gopls@";
constexpr std::string_view kServiceSuffix = ".service";
constexpr auto kRestartSec = std::chrono::milliseconds(100);
constexpr auto kStopTimeout = std::chrono::seconds(5);
// StartLimitBurst/IntervalSec: a command that dies at once must not respawn forever.
constexpr size_t kStartLimitBurst = 5;
constexpr auto kStartLimitInterval = std::chrono::seconds(10);

// systemd's bus_label_escape: every byte outside [A-Za-z0-9], and a leading digit, as _xx.
std::string busLabelEscape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    const bool digit = c >= '0' && c <= '9';
    if (alpha || (digit && i > 0)) {
      out.push_back(static_cast<char>(c));
    } else {
      char hex[4];
      std::snprintf(hex, sizeof hex, "_%02x", c);
      out += hex;
    }
  }
  return out;
}

std::optional<std::string> goplsInstance(std::string_view name) {
  if (name.size() <= kGoplsPrefix.size() + kServiceSuffix.size()) return std::nullopt;
  if (name.substr(0, kGoplsPrefix.size()) != kGoplsPrefix) return std::nullopt;
  if (name.substr(name.size() - kServiceSuffix.size()) != kServiceSuffix) return std::nullopt;
  return std::string(
      name.substr(kGoplsPrefix.size(), name.size() - kGoplsPrefix.size() - kServiceSuffix.size()));
}

[[noreturn]] void throwNoSuchUnit(const std::string& name, const char* why) {
  throw sdbus::Error("org.freedesktop.systemd1.NoSuchUnit", "Unit " + name + " " + why);
}

}  // namespace

FakeManager::FakeManager(sdbus::IConnection& connection, Options options,
                         std::optional<FakeCgroups> cgroups)
    : connection_(connection), options_(std::move(options)), cgroups_(std::move(cgroups)) {
  registerManager();
  registerControl();
}

FakeManager::~FakeManager() { killAll(); }

void FakeManager::registerManager() {
  manager_ = sdbus::createObject(connection_, kManagerPath);
  auto& m = *manager_;
  m.registerMethod("GetUnit")
      .onInterface(kManagerInterface)
      .implementedAs([this](const std::string& name) {
        auto it = units_.find(name);
        if (it == units_.end()) throwNoSuchUnit(name, "not loaded.");
        return sdbus::ObjectPath(it->second->path);
      });
  m.registerMethod("LoadUnit")
      .onInterface(kManagerInterface)
      .implementedAs(
          [this](const std::string& name) { return sdbus::ObjectPath(loadUnit(name).path); });
  m.registerMethod("StartUnit")
      .onInterface(kManagerInterface)
      .implementedAs([this](const std::string& name, const std::string& mode) {
        return sdbus::ObjectPath(queueJob(name, mode, JobType::kStart));
      });
  m.registerMethod("StopUnit")
      .onInterface(kManagerInterface)
      .implementedAs([this](const std::string& name, const std::string& mode) {
        return sdbus::ObjectPath(queueJob(name, mode, JobType::kStop));
      });
  m.registerMethod("RestartUnit")
      .onInterface(kManagerInterface)
      .implementedAs([this](const std::string& name, const std::string& mode) {
        return sdbus::ObjectPath(queueJob(name, mode, JobType::kRestart));
      });
  m.registerMethod("Subscribe").onInterface(kManagerInterface).implementedAs([this]() {
    const std::string sender = manager_->getCurrentlyProcessedMessage()->getSender();
    if (!subscribers_.insert(sender).second) {
      throw sdbus::Error("org.freedesktop.systemd1.AlreadySubscribed",
                         "Client is already subscribed.");
    }
  });
  m.registerMethod("Unsubscribe").onInterface(kManagerInterface).implementedAs([this]() {
    const std::string sender = manager_->getCurrentlyProcessedMessage()->getSender();
    if (subscribers_.erase(sender) == 0) {
      throw sdbus::Error("org.freedesktop.systemd1.NotSubscribed", "Client is not subscribed.");
    }
  });
  m.registerMethod("SetUnitProperties")
      .onInterface(kManagerInterface)
      .implementedAs([this](const std::string& name, bool /*runtime*/,
                            const std::vector<sdbus::Struct<std::string, sdbus::Variant>>& props) {
        Unit& unit = loadedUnitOrThrow(name);
        std::vector<std::string> changed;
        for (const auto& prop : props) {
          const std::string& key = std::get<0>(prop);
          const sdbus::Variant& value = std::get<1>(prop);
          const std::map<std::string, uint64_t*> settable{{"MemoryHigh", &unit.memoryHigh},
                                                          {"MemoryMax", &unit.memoryMax},
                                                          {"CPUWeight", &unit.cpuWeight},
                                                          {"IOWeight", &unit.ioWeight}};
          auto target = settable.find(key);
          if (target == settable.end() || !value.containsValueOfType<uint64_t>()) {
            throw sdbus::Error("org.freedesktop.DBus.Error.InvalidArgs",
                               "Cannot set property " + key + ", or unknown property.");
          }
          *target->second = value.get<uint64_t>();
          changed.push_back(key);
        }
        if (!changed.empty()) emitUnitChanged(unit, {}, changed);
      });
  m.registerMethod("ResetFailedUnit")
      .onInterface(kManagerInterface)
      .implementedAs([this](const std::string& name) {
        Unit& unit = loadedUnitOrThrow(name);
        unit.nRestarts = 0;
        unit.recentRestarts.clear();
        if (unit.activeState == "failed") setState(unit, "inactive", "dead");
      });
  // As systemd: the units it holds whose name matches a pattern (fnmatch) and whose load, active
  // or sub state is one of `states`; an empty list matches all.
  m.registerMethod("ListUnitsByPatterns")
      .onInterface(kManagerInterface)
      .implementedAs([this](const std::vector<std::string>& states,
                            const std::vector<std::string>& patterns) {
        auto anyOf = [](const std::vector<std::string>& wanted, auto&& matches) {
          return wanted.empty() || std::any_of(wanted.begin(), wanted.end(), matches);
        };
        std::vector<
            sdbus::Struct<std::string, std::string, std::string, std::string, std::string,
                          std::string, sdbus::ObjectPath, uint32_t, std::string, sdbus::ObjectPath>>
            out;
        for (const auto& [name, unit] : units_) {
          const bool stateMatches = anyOf(states, [&](const std::string& state) {
            return state == unit->loadState || state == unit->activeState ||
                   state == unit->subState;
          });
          const bool nameMatches = anyOf(patterns, [&](const std::string& pattern) {
            return ::fnmatch(pattern.c_str(), name.c_str(), 0) == 0;
          });
          if (!stateMatches || !nameMatches) continue;
          out.emplace_back(name, std::string(), unit->loadState, unit->activeState, unit->subState,
                           std::string(), sdbus::ObjectPath(unit->path),
                           unit->job ? unit->job->id : 0u, std::string(),
                           sdbus::ObjectPath(unit->job ? unit->job->path : "/"));
        }
        return out;
      });
  m.registerSignal("JobRemoved")
      .onInterface(kManagerInterface)
      .withParameters<uint32_t, sdbus::ObjectPath, std::string, std::string>("id", "job", "unit",
                                                                             "result");
  m.registerSignal("Reloading").onInterface(kManagerInterface).withParameters<bool>("active");
  m.finishRegistration();
}

void FakeManager::registerControl() {
  control_ = sdbus::createObject(connection_, kControlPath);
  auto& c = *control_;
  c.registerMethod("FailNextJob")
      .onInterface(kControlInterface)
      .implementedAs([this](const std::string& name) { loadUnit(name).failNextJob = true; });
  c.registerMethod("CrashUnit")
      .onInterface(kControlInterface)
      .implementedAs([this](const std::string& name) {
        Unit& unit = loadedUnitOrThrow(name);
        if (unit.mainPid <= 0) {
          throw sdbus::Error("org.wslgo.Test.Error.NotRunning", name + " has no process to crash");
        }
        ::kill(-unit.mainPid, SIGKILL);
      });
  c.registerMethod("SetStartDelay")
      .onInterface(kControlInterface)
      .implementedAs([this](uint64_t usec) { startDelay_ = std::chrono::microseconds(usec); });
  c.registerMethod("EmitReload").onInterface(kControlInterface).implementedAs([this]() {
    manager_->emitSignal("Reloading").onInterface(kManagerInterface).withArguments(true);
    manager_->emitSignal("Reloading").onInterface(kManagerInterface).withArguments(false);
    // As after daemon-reexec: the new manager knows no subscribers until they subscribe again.
    subscribers_.clear();
  });
  c.registerMethod("Subscribers").onInterface(kControlInterface).implementedAs([this]() {
    return static_cast<uint32_t>(subscribers_.size());
  });
  c.finishRegistration();
}

FakeManager::Unit& FakeManager::loadUnit(const std::string& name) {
  if (auto it = units_.find(name); it != units_.end()) return *it->second;
  if (name.empty() || name.size() > 255 || name.find('.') == std::string::npos) {
    throw sdbus::Error("org.freedesktop.DBus.Error.InvalidArgs",
                       "Unit name " + name + " is not valid.");
  }
  auto unit = std::make_unique<Unit>();
  unit->name = name;
  unit->path = std::string(kManagerPath) + "/unit/" + busLabelEscape(name);
  if (auto instance = goplsInstance(name)) {
    unit->instance = *instance;
    unit->loadState = "loaded";
  } else {
    unit->loadState = name.find("masked") != std::string::npos ? "masked" : "not-found";
  }
  Unit* u = unit.get();
  unit->object = sdbus::createObject(connection_, unit->path);
  auto& o = *unit->object;
  o.registerProperty("Id").onInterface(kUnitInterface).withGetter([u] { return u->name; });
  o.registerProperty("LoadState").onInterface(kUnitInterface).withGetter([u] {
    return u->loadState;
  });
  o.registerProperty("ActiveState").onInterface(kUnitInterface).withGetter([u] {
    return u->activeState;
  });
  o.registerProperty("SubState").onInterface(kUnitInterface).withGetter([u] {
    return u->subState;
  });
  o.registerProperty("MainPID").onInterface(kServiceInterface).withGetter([u] {
    return static_cast<uint32_t>(u->mainPid);
  });
  o.registerProperty("ControlGroup").onInterface(kServiceInterface).withGetter([this, u] {
    if (u->mainPid <= 0) return std::string();
    return cgroups_ ? cgroups_->controlGroup(u->name)
                    : "/user.slice/user-0.slice/user@0.service/app.slice/" + u->name;
  });
  o.registerProperty("NRestarts").onInterface(kServiceInterface).withGetter([u] {
    return u->nRestarts;
  });
  o.registerProperty("MemoryHigh").onInterface(kServiceInterface).withGetter([u] {
    return u->memoryHigh;
  });
  o.registerProperty("MemoryMax").onInterface(kServiceInterface).withGetter([u] {
    return u->memoryMax;
  });
  o.registerProperty("CPUWeight").onInterface(kServiceInterface).withGetter([u] {
    return u->cpuWeight;
  });
  o.registerProperty("IOWeight").onInterface(kServiceInterface).withGetter([u] {
    return u->ioWeight;
  });
  o.finishRegistration();
  return *units_.emplace(name, std::move(unit)).first->second;
}

FakeManager::Unit& FakeManager::loadedUnitOrThrow(const std::string& name) {
  auto it = units_.find(name);
  if (it == units_.end() || it->second->loadState == "not-found") {
    throwNoSuchUnit(name, "not loaded.");
  }
  return *it->second;
}

FakeManager::Unit& FakeManager::startableUnitOrThrow(const std::string& name) {
  Unit& unit = loadUnit(name);
  if (unit.loadState == "masked") {
    throw sdbus::Error("org.freedesktop.systemd1.UnitMasked", "Unit " + name + " is masked.");
  }
  if (unit.loadState != "loaded") throwNoSuchUnit(name, "not found.");
  return unit;
}

std::string FakeManager::queueJob(const std::string& name, const std::string& mode, JobType type) {
  if (mode != "replace" && mode != "fail" && mode != "ignore-dependencies" &&
      mode != "ignore-requirements") {
    throw sdbus::Error("org.freedesktop.DBus.Error.InvalidArgs", "Job mode " + mode + " invalid.");
  }
  Unit& unit = type == JobType::kStop ? loadedUnitOrThrow(name) : startableUnitOrThrow(name);
  if (unit.job) {
    // "replace" in systemd cancels the pending job; here the new job takes its place.
    if (mode == "fail") {
      throw sdbus::Error("org.freedesktop.systemd1.TransactionIsDestructive",
                         "Transaction for " + name + " is destructive.");
    }
    finishJob(unit, "canceled");
  }
  Job job;
  job.id = nextJobId_++;
  job.path = std::string(kManagerPath) + "/job/" + std::to_string(job.id);
  job.type = type;
  unit.job = job;
  ++unit.generation;
  const auto delay = type == JobType::kStop ? std::chrono::microseconds(0) : startDelay_;
  if (delay.count() > 0) setState(unit, "activating", "start");
  // Later, from the main loop: the reply with the job path goes out before JobRemoved.
  addTimer(delay, [this, name, generation = unit.generation] {
    auto it = units_.find(name);
    if (it != units_.end() && it->second->generation == generation) runJob(name);
  });
  return job.path;
}

void FakeManager::runJob(const std::string& name) {
  Unit& unit = *units_.at(name);
  if (!unit.job) return;
  if (unit.failNextJob) {
    unit.failNextJob = false;
    if (unit.mainPid > 0) {
      unit.stopping = true;
      ::kill(-unit.mainPid, SIGKILL);
    }
    setState(unit, "failed", "failed");
    finishJob(unit, "failed");
    return;
  }
  switch (unit.job->type) {
    case JobType::kStart:
      if (unit.mainPid > 0 && !unit.stopping) {
        if (unit.activeState != "active") setState(unit, "active", "running");
        finishJob(unit, "done");
      } else if (spawn(unit)) {
        finishJob(unit, "done");
      } else {
        setState(unit, "failed", "failed");
        finishJob(unit, "failed");
      }
      return;
    case JobType::kStop:
    case JobType::kRestart:
      if (unit.mainPid > 0) {
        beginStop(unit);  // the job finishes when the process is reaped
        return;
      }
      if (unit.job->type == JobType::kStop) {
        setState(unit, "inactive", "dead");
        finishJob(unit, "done");
      } else if (spawn(unit)) {
        finishJob(unit, "done");
      } else {
        setState(unit, "failed", "failed");
        finishJob(unit, "failed");
      }
      return;
  }
}

void FakeManager::beginStop(Unit& unit) {
  unit.stopping = true;
  setState(unit, "deactivating", "stop-sigterm");
  ::kill(-unit.mainPid, SIGTERM);
  addTimer(kStopTimeout, [this, name = unit.name, pid = unit.mainPid] {
    auto it = units_.find(name);
    if (it != units_.end() && it->second->mainPid == pid && pid > 0) ::kill(-pid, SIGKILL);
  });
}

void FakeManager::finishJob(Unit& unit, const std::string& result) {
  if (!unit.job) return;
  const Job job = *unit.job;
  unit.job.reset();
  if (!subscribed()) return;
  manager_->emitSignal("JobRemoved")
      .onInterface(kManagerInterface)
      .withArguments(job.id, sdbus::ObjectPath(job.path), unit.name, result);
}

// One KEY=VALUE line as systemd's EnvironmentFile= reads it: a value in double quotes loses
// them, and a backslash inside takes the next character literally.
static std::string environmentFileLine(const std::string& line) {
  size_t equals = line.find('=');
  std::string value = line.substr(equals + 1);
  if (value.size() < 2 || value.front() != '"' || value.back() != '"') return line;
  std::string unquoted;
  for (size_t i = 1; i + 1 < value.size(); ++i) {
    if (value[i] == '\\' && i + 2 < value.size()) ++i;
    unquoted += value[i];
  }
  return line.substr(0, equals + 1) + unquoted;
}

bool FakeManager::spawn(Unit& unit) {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) env.emplace_back(*e);
  env.push_back("WSLGO_INSTANCE=" + unit.instance);
  if (!options_.envDir.empty()) {
    std::ifstream file(options_.envDir + "/" + unit.instance + ".env");
    std::string line;
    while (std::getline(file, line)) {
      if (line.empty() || line[0] == '#' || line.find('=') == std::string::npos) continue;
      env.push_back(environmentFileLine(line));
    }
  }
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  const std::string command =
      options_.execCommand.empty() ? "exec sleep 2147483647" : options_.execCommand;
  std::vector<std::string> cgroupProcs;
  if (cgroups_) {
    auto procs = cgroups_->prepareUnit(unit.name);
    if (!procs) {
      std::fprintf(stderr, "wslgo-fake-systemd1: %s\n", procs.error().describe().c_str());
      return false;
    }
    cgroupProcs = std::move(*procs);
  }

  const pid_t pid = ::fork();
  if (pid < 0) return false;
  if (pid == 0) {
    // Into the unit's cgroups before exec, so everything the command touches is charged there
    // (v1 keeps a page's charge where it was made).
    for (const std::string& procs : cgroupProcs) {
      const int fd = ::open(procs.c_str(), O_WRONLY | O_CLOEXEC);
      if (fd < 0 || ::write(fd, "0", 1) != 1) {
        constexpr char kMessage[] = "wslgo-fake-systemd1: cannot enter the unit's cgroup\n";
        (void)!::write(STDERR_FILENO, kMessage, sizeof kMessage - 1);
        ::_exit(126);
      }
      ::close(fd);
    }
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    const char* argv[] = {"sh", "-c", command.c_str(), nullptr};
    ::execve("/bin/sh", const_cast<char* const*>(argv), envp.data());
    ::_exit(127);
  }
  ::setpgid(pid, pid);  // also from here, so a kill(-pid) right after fork cannot miss
  unit.mainPid = pid;
  unit.stopping = false;
  unit.activeState = "active";
  unit.subState = "running";
  emitUnitChanged(unit, {"ActiveState", "SubState"}, {"MainPID", "ControlGroup"});
  return true;
}

void FakeManager::setState(Unit& unit, const std::string& active, const std::string& sub) {
  if (unit.activeState == active && unit.subState == sub) return;
  unit.activeState = active;
  unit.subState = sub;
  emitUnitChanged(unit, {"ActiveState", "SubState"}, {});
}

void FakeManager::emitUnitChanged(Unit& unit, std::vector<std::string> unitProperties,
                                  std::vector<std::string> serviceProperties) {
  if (!subscribed()) return;
  if (!unitProperties.empty())
    unit.object->emitPropertiesChangedSignal(kUnitInterface, unitProperties);
  if (!serviceProperties.empty()) {
    unit.object->emitPropertiesChangedSignal(kServiceInterface, serviceProperties);
  }
}

void FakeManager::childExited(pid_t pid, int status) {
  Unit* found = nullptr;
  for (auto& [name, unit] : units_) {
    if (unit->mainPid == pid) found = unit.get();
  }
  if (found == nullptr) return;
  Unit& unit = *found;
  unit.mainPid = 0;
  ++unit.generation;
  // The main process is gone: as with KillMode=control-group, so is the rest of the unit.
  if (cgroups_) cgroups_->releaseUnit(unit.name);
  emitUnitChanged(unit, {}, {"MainPID", "ControlGroup"});
  if (unit.stopping) {
    unit.stopping = false;
    if (unit.activeState == "failed") return;  // a failed job already reported the unit
    if (unit.job && unit.job->type == JobType::kRestart) {
      if (spawn(unit)) {
        finishJob(unit, "done");
      } else {
        setState(unit, "failed", "failed");
        finishJob(unit, "failed");
      }
      return;
    }
    setState(unit, "inactive", "dead");
    finishJob(unit, "done");
    return;
  }
  // Restart=on-failure: a clean exit ends the service, anything else restarts it.
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    setState(unit, "inactive", "dead");
    return;
  }
  const auto now = Clock::now();
  std::erase_if(unit.recentRestarts,
                [&](Clock::time_point t) { return now - t > kStartLimitInterval; });
  if (unit.recentRestarts.size() >= kStartLimitBurst) {
    setState(unit, "failed", "failed");
    return;
  }
  unit.recentRestarts.push_back(now);
  ++unit.nRestarts;
  unit.activeState = "activating";
  unit.subState = "auto-restart";
  emitUnitChanged(unit, {"ActiveState", "SubState"}, {"NRestarts"});
  addTimer(kRestartSec, [this, name = unit.name, generation = unit.generation] {
    auto it = units_.find(name);
    if (it == units_.end() || it->second->generation != generation) return;
    if (!spawn(*it->second)) setState(*it->second, "failed", "failed");
  });
}

void FakeManager::addTimer(Clock::duration delay, std::function<void()> action) {
  timers_.emplace(Clock::now() + delay, std::move(action));
}

std::optional<Clock::time_point> FakeManager::runDueTimers(Clock::time_point now) {
  while (!timers_.empty() && timers_.begin()->first <= now) {
    auto action = std::move(timers_.begin()->second);
    timers_.erase(timers_.begin());
    action();
  }
  if (timers_.empty()) return std::nullopt;
  return timers_.begin()->first;
}

void FakeManager::killAll() {
  for (auto& [name, unit] : units_) {
    if (unit->mainPid > 0) ::kill(-unit->mainPid, SIGKILL);
  }
  if (cgroups_) cgroups_->removeAll();
}

}  // namespace wslgo::fake
