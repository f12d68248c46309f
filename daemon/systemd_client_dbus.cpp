#include "daemon/systemd_client_dbus.h"

#include <cerrno>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#include <sdbus-c++/Error.h>
#include <sdbus-c++/Types.h>

namespace wslgo {
namespace {

constexpr const char* kService = "org.freedesktop.systemd1";
constexpr const char* kManagerPath = "/org/freedesktop/systemd1";
constexpr const char* kManagerInterface = "org.freedesktop.systemd1.Manager";
constexpr const char* kUnitInterface = "org.freedesktop.systemd1.Unit";
constexpr const char* kServiceInterface = "org.freedesktop.systemd1.Service";
constexpr const char* kPropertiesInterface = "org.freedesktop.DBus.Properties";
constexpr const char* kAlreadySubscribed = "org.freedesktop.systemd1.AlreadySubscribed";

// Every unit object lives below this path; one match covers the watched units, before and after
// a reload, without a match per unit on the bus daemon.
constexpr const char* kUnitPropertiesMatch =
    "type='signal',interface='org.freedesktop.DBus.Properties',member='PropertiesChanged',"
    "path_namespace='/org/freedesktop/systemd1/unit'";

constexpr uint64_t kInfinity = std::numeric_limits<uint64_t>::max();

// Nobody owns org.freedesktop.systemd1, or the bus tried to activate it and that failed (a
// session bus outside systemd has an activation file for it that cannot work).
bool isNoManager(const sdbus::Error& e) {
  const std::string& name = e.getName();
  return name == "org.freedesktop.DBus.Error.ServiceUnknown" ||
         name == "org.freedesktop.DBus.Error.NameHasNoOwner" ||
         name.starts_with("org.freedesktop.DBus.Error.Spawn.");
}

int errnoFor(const sdbus::Error& e) {
  const std::string& name = e.getName();
  if (isNoManager(e)) return ENOENT;
  if (name == "org.freedesktop.systemd1.NoSuchUnit" ||
      name == "org.freedesktop.DBus.Error.UnknownObject") {
    return ENOENT;
  }
  if (name == "org.freedesktop.systemd1.UnitMasked") return EPERM;
  if (name == "org.freedesktop.DBus.Error.AccessDenied" ||
      name == "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired") {
    return EACCES;
  }
  if (name == "org.freedesktop.DBus.Error.NoReply" ||
      name == "org.freedesktop.DBus.Error.Timeout") {
    return ETIMEDOUT;
  }
  if (name == "org.freedesktop.DBus.Error.InvalidArgs") return EINVAL;
  return EIO;
}

// "UNIT: StartUnit refused by systemd: Unit x not found. [org.freedesktop.systemd1.NoSuchUnit]"
Error systemdError(const std::string& unit, const char* what, const sdbus::Error& e) {
  std::string message =
      std::string(what) + " refused by systemd: " + e.getMessage() + " [" + e.getName() + "]";
  if (isNoManager(e)) {
    message =
        std::string(what) +
        " failed: no systemd manager on this bus (is `systemd --user` running?): " + e.getMessage();
  }
  return errnoError(errnoFor(e), unit, std::move(message));
}

Error unexpectedError(const std::string& unit, const char* what, const std::exception& e) {
  return errnoError(EIO, unit, std::string(what) + " failed: " + e.what());
}

template <class T>
T variantOr(const std::map<std::string, sdbus::Variant>& properties, const char* key, T fallback) {
  auto it = properties.find(key);
  if (it == properties.end()) return fallback;
  try {
    return it->second.get<T>();
  } catch (const sdbus::Error&) {
    return fallback;  // a type we do not expect: leave the default rather than fail the read
  }
}

bool endsWith(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix.data(), suffix.size()) == 0;
}

bool isUnitStateProperty(const std::string& name) {
  return name == "ActiveState" || name == "SubState" || name == "MainPID" || name == "NRestarts";
}

}  // namespace

Result<std::unique_ptr<SystemdClientDbus>> SystemdClientDbus::create(
    sdbus::IConnection& connection, std::chrono::microseconds callTimeout) {
  std::unique_ptr<SystemdClientDbus> client;
  try {
    client.reset(new SystemdClientDbus(connection, callTimeout));
  } catch (const std::exception& e) {
    return errnoError(EIO, kService, std::string("connecting to systemd failed: ") + e.what());
  }
  if (auto subscribed = client->subscribe(); !subscribed) return subscribed.error();
  return client;
}

SystemdClientDbus::SystemdClientDbus(sdbus::IConnection& connection,
                                     std::chrono::microseconds callTimeout)
    : connection_(connection),
      callTimeoutUsec_(static_cast<uint64_t>(callTimeout.count())),
      manager_(sdbus::createProxy(connection, kService, kManagerPath)) {
  // sdbus-c++ 1.2 aborts the process if a signal handler throws: each handler catches all.
  manager_->registerSignalHandler(kManagerInterface, "JobRemoved", [this](sdbus::Signal& signal) {
    try {
      handleJobRemoved(signal);
    } catch (...) {  // NOLINT(bugprone-empty-catch): a malformed signal is dropped, not fatal
    }
  });
  manager_->registerSignalHandler(kManagerInterface, "Reloading", [this](sdbus::Signal& signal) {
    try {
      handleReloading(signal);
    } catch (...) {  // NOLINT(bugprone-empty-catch)
    }
  });
  manager_->finishRegistration();
  unitPropertiesMatch_ = connection_.addMatch(kUnitPropertiesMatch, [this](sdbus::Message& m) {
    try {
      handleUnitPropertiesChanged(m);
    } catch (...) {  // NOLINT(bugprone-empty-catch)
    }
  });
}

SystemdClientDbus::~SystemdClientDbus() = default;

Result<void> SystemdClientDbus::subscribe() {
  try {
    auto call = manager_->createMethodCall(kManagerInterface, "Subscribe");
    manager_->callMethod(call, callTimeoutUsec_);
  } catch (const sdbus::Error& e) {
    if (e.getName() == kAlreadySubscribed) return {};
    return systemdError(kService, "Subscribe", e);
  } catch (const std::exception& e) {
    return unexpectedError(kService, "Subscribe", e);
  }
  return {};
}

Result<std::string> SystemdClientDbus::loadUnit(const std::string& name) {
  try {
    auto call = manager_->createMethodCall(kManagerInterface, "LoadUnit");
    call << name;
    auto reply = manager_->callMethod(call, callTimeoutUsec_);
    sdbus::ObjectPath path;
    reply >> path;
    return std::string(path);
  } catch (const sdbus::Error& e) {
    return systemdError(name, "LoadUnit", e);
  } catch (const std::exception& e) {
    return unexpectedError(name, "LoadUnit", e);
  }
}

Result<std::string> SystemdClientDbus::queueJob(const char* method, const std::string& name,
                                                const std::string& mode) {
  try {
    auto call = manager_->createMethodCall(kManagerInterface, method);
    call << name << mode;
    auto reply = manager_->callMethod(call, callTimeoutUsec_);
    sdbus::ObjectPath job;
    reply >> job;
    return std::string(job);
  } catch (const sdbus::Error& e) {
    return systemdError(name, method, e);
  } catch (const std::exception& e) {
    return unexpectedError(name, method, e);
  }
}

Result<std::string> SystemdClientDbus::startUnit(const std::string& name, const std::string& mode) {
  return queueJob("StartUnit", name, mode);
}

Result<std::string> SystemdClientDbus::stopUnit(const std::string& name, const std::string& mode) {
  return queueJob("StopUnit", name, mode);
}

Result<std::string> SystemdClientDbus::restartUnit(const std::string& name,
                                                   const std::string& mode) {
  return queueJob("RestartUnit", name, mode);
}

Result<UnitInfo> SystemdClientDbus::unitInfo(const std::string& name) {
  auto path = loadUnit(name);
  if (!path) return path.error();
  try {
    auto unit = sdbus::createProxy(connection_, kService, *path);
    auto getAll = [&](const char* interface) {
      auto call = unit->createMethodCall(kPropertiesInterface, "GetAll");
      call << std::string(interface);
      auto reply = unit->callMethod(call, callTimeoutUsec_);
      std::map<std::string, sdbus::Variant> properties;
      reply >> properties;
      return properties;
    };
    UnitInfo info;
    info.name = name;
    info.objectPath = *path;
    const auto unitProperties = getAll(kUnitInterface);
    info.loadState = variantOr<std::string>(unitProperties, "LoadState", "");
    info.activeState = variantOr<std::string>(unitProperties, "ActiveState", "");
    info.subState = variantOr<std::string>(unitProperties, "SubState", "");
    // Only services have a main process, restarts and resource controls of their own here.
    if (endsWith(name, ".service")) {
      const auto serviceProperties = getAll(kServiceInterface);
      info.controlGroup = variantOr<std::string>(serviceProperties, "ControlGroup", "");
      info.mainPid = variantOr<uint32_t>(serviceProperties, "MainPID", 0);
      info.nRestarts = variantOr<uint32_t>(serviceProperties, "NRestarts", 0);
      const uint64_t high = variantOr<uint64_t>(serviceProperties, "MemoryHigh", kInfinity);
      if (high != kInfinity) info.memoryHigh = high;
      const uint64_t max = variantOr<uint64_t>(serviceProperties, "MemoryMax", kInfinity);
      if (max != kInfinity) info.memoryMax = max;
      // systemd's "unset" for a weight is UINT64_MAX, the same value as memory's infinity.
      const uint64_t cpuWeight = variantOr<uint64_t>(serviceProperties, "CPUWeight", kInfinity);
      if (cpuWeight != kInfinity) info.cpuWeight = cpuWeight;
      const uint64_t ioWeight = variantOr<uint64_t>(serviceProperties, "IOWeight", kInfinity);
      if (ioWeight != kInfinity) info.ioWeight = ioWeight;
      info.result = variantOr<std::string>(serviceProperties, "Result", "");
    }
    return info;
  } catch (const sdbus::Error& e) {
    return systemdError(name, "reading unit properties", e);
  } catch (const std::exception& e) {
    return unexpectedError(name, "reading unit properties", e);
  }
}

Result<void> SystemdClientDbus::setResourceControls(const std::string& name,
                                                    const ResourceControls& controls,
                                                    bool runtime) {
  try {
    auto call = manager_->createMethodCall(kManagerInterface, "SetUnitProperties");
    std::vector<sdbus::Struct<std::string, sdbus::Variant>> properties;
    properties.emplace_back(std::string("MemoryHigh"),
                            sdbus::Variant(controls.memoryHigh.value_or(kInfinity)));
    properties.emplace_back(std::string("MemoryMax"),
                            sdbus::Variant(controls.memoryMax.value_or(kInfinity)));
    properties.emplace_back(std::string("CPUWeight"), sdbus::Variant(controls.cpuWeight));
    properties.emplace_back(std::string("IOWeight"), sdbus::Variant(controls.ioWeight));
    call << name << runtime << properties;
    manager_->callMethod(call, callTimeoutUsec_);
  } catch (const sdbus::Error& e) {
    return systemdError(name, "SetUnitProperties(MemoryHigh, MemoryMax, CPUWeight, IOWeight)", e);
  } catch (const std::exception& e) {
    return unexpectedError(name, "SetUnitProperties(MemoryHigh, MemoryMax, CPUWeight, IOWeight)",
                           e);
  }
  return {};
}

Result<void> SystemdClientDbus::resetFailed(const std::string& name) {
  try {
    auto call = manager_->createMethodCall(kManagerInterface, "ResetFailedUnit");
    call << name;
    manager_->callMethod(call, callTimeoutUsec_);
  } catch (const sdbus::Error& e) {
    return systemdError(name, "ResetFailedUnit", e);
  } catch (const std::exception& e) {
    return unexpectedError(name, "ResetFailedUnit", e);
  }
  return {};
}

Result<std::vector<ListedUnit>> SystemdClientDbus::listUnits(
    const std::vector<std::string>& states, const std::vector<std::string>& patterns) {
  try {
    auto call = manager_->createMethodCall(kManagerInterface, "ListUnitsByPatterns");
    call << states << patterns;
    auto reply = manager_->callMethod(call, callTimeoutUsec_);
    // a(ssssssouso): name, description, load, active and sub state, followed unit, unit path,
    // job id, job type, job path.
    std::vector<
        sdbus::Struct<std::string, std::string, std::string, std::string, std::string, std::string,
                      sdbus::ObjectPath, uint32_t, std::string, sdbus::ObjectPath>>
        units;
    reply >> units;
    std::vector<ListedUnit> out;
    out.reserve(units.size());
    for (const auto& unit : units) {
      out.push_back(ListedUnit{.name = unit.get<0>(),
                               .loadState = unit.get<2>(),
                               .activeState = unit.get<3>(),
                               .subState = unit.get<4>()});
    }
    return out;
  } catch (const sdbus::Error& e) {
    return systemdError(kService, "ListUnitsByPatterns", e);
  } catch (const std::exception& e) {
    return unexpectedError(kService, "ListUnitsByPatterns", e);
  }
}

Result<void> SystemdClientDbus::watchUnit(const std::string& name) {
  auto path = loadUnit(name);
  if (!path) return path.error();
  unwatchUnit(name);
  watchedPathByName_[name] = *path;
  watchedNameByPath_[*path] = name;
  return {};
}

void SystemdClientDbus::unwatchUnit(const std::string& name) {
  auto it = watchedPathByName_.find(name);
  if (it == watchedPathByName_.end()) return;
  watchedNameByPath_.erase(it->second);
  watchedPathByName_.erase(it);
}

void SystemdClientDbus::onUnitChanged(UnitChangedHandler handler) {
  unitChanged_ = std::move(handler);
}

void SystemdClientDbus::onJobRemoved(JobRemovedHandler handler) {
  jobRemoved_ = std::move(handler);
}

void SystemdClientDbus::onManagerReloaded(ManagerReloadedHandler handler) {
  managerReloaded_ = std::move(handler);
}

void SystemdClientDbus::handleJobRemoved(sdbus::Signal& signal) {
  uint32_t id = 0;
  sdbus::ObjectPath job;
  std::string unit;
  std::string result;
  signal >> id >> job >> unit >> result;
  if (jobRemoved_) jobRemoved_(id, job, unit, result);
}

void SystemdClientDbus::handleReloading(sdbus::Signal& signal) {
  bool active = true;
  signal >> active;
  if (active) return;
  // A re-executed manager has forgotten its subscribers and may hand out new object paths; a
  // failure here is not fatal: the next reload or call will show whether systemd is back.
  (void)subscribe();
  reresolveWatchedUnits();
  if (managerReloaded_) managerReloaded_();
}

void SystemdClientDbus::reresolveWatchedUnits() {
  std::map<std::string, std::string> byName;
  std::map<std::string, std::string> byPath;
  for (const auto& [name, oldPath] : watchedPathByName_) {
    auto path = loadUnit(name);
    const std::string& current = path ? *path : oldPath;
    byName[name] = current;
    byPath[current] = name;
  }
  watchedPathByName_ = std::move(byName);
  watchedNameByPath_ = std::move(byPath);
}

void SystemdClientDbus::handleUnitPropertiesChanged(sdbus::Message& message) {
  if (!unitChanged_) return;
  auto it = watchedNameByPath_.find(message.getPath());
  if (it == watchedNameByPath_.end()) return;
  std::string interface;
  std::map<std::string, sdbus::Variant> changed;
  std::vector<std::string> invalidated;
  message >> interface >> changed >> invalidated;
  bool relevant = false;
  for (const auto& [property, value] : changed)
    relevant = relevant || isUnitStateProperty(property);
  for (const auto& property : invalidated) relevant = relevant || isUnitStateProperty(property);
  if (!relevant) return;
  // Copy: the handler may unwatch the unit and so erase the map entry `it` points to.
  const std::string name = it->second;
  unitChanged_(name);
}

}  // namespace wslgo
