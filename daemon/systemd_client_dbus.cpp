#include "daemon/systemd_client_dbus.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include <sdbus-c++/Error.h>
#include <sdbus-c++/Types.h>

#include "daemon/dbus_properties.h"

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

bool endsWith(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix.data(), suffix.size()) == 0;
}

// What unitInfo reads of each interface; GetAll answers with about 400 between the two.
constexpr std::array<std::string_view, 3> kUnitProperties{"LoadState", "ActiveState", "SubState"};
constexpr std::array<std::string_view, 8> kServiceProperties{
    "ControlGroup", "MainPID",   "NRestarts", "MemoryHigh",
    "MemoryMax",    "CPUWeight", "IOWeight",  "Result"};
// A change of one of these is a change of the unit's state (onUnitChanged).
constexpr std::array<std::string_view, 4> kUnitStateProperties{"ActiveState", "SubState", "MainPID",
                                                               "NRestarts"};

bool isUnitStateProperty(std::string_view name) {
  return std::find(kUnitStateProperties.begin(), kUnitStateProperties.end(), name) !=
         kUnitStateProperties.end();
}

}  // namespace

Result<std::unique_ptr<SystemdClientDbus>> SystemdClientDbus::create(
    sdbus::IConnection& connection, std::chrono::microseconds callTimeout, ErrorHook onError) {
  std::unique_ptr<SystemdClientDbus> client;
  try {
    client.reset(new SystemdClientDbus(connection, callTimeout, std::move(onError)));
  } catch (const std::exception& e) {
    return errnoError(EIO, kService, std::string("connecting to systemd failed: ") + e.what());
  }
  if (auto subscribed = client->subscribe(); !subscribed) return subscribed.error();
  return client;
}

SystemdClientDbus::SystemdClientDbus(sdbus::IConnection& connection,
                                     std::chrono::microseconds callTimeout, ErrorHook onError)
    : connection_(connection),
      callTimeoutUsec_(static_cast<uint64_t>(callTimeout.count())),
      onError_(std::move(onError)),
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

void SystemdClientDbus::resubscribe() {
  // A failure is not fatal: the next reload or call shows whether systemd is back.
  try {
    auto call = manager_->createMethodCall(kManagerInterface, "Subscribe");
    (void)manager_->callMethod(
        call, [](sdbus::MethodReply&, const sdbus::Error*) {}, callTimeoutUsec_);
  } catch (...) {  // NOLINT(bugprone-empty-catch)
  }
}

template <class T>
void SystemdClientDbus::deliver(const SystemdDone<T>& done, Result<T> result) {
  try {
    done(std::move(result));
  } catch (const std::exception& e) {
    if (onError_) onError_(std::string("handling systemd's answer: ") + e.what());
  } catch (...) {
    if (onError_) onError_("handling systemd's answer: unknown exception");
  }
}

template <class T>
sdbus::PendingAsyncCall SystemdClientDbus::send(sdbus::IProxy& proxy, sdbus::MethodCall& call,
                                                const std::string& subject, const char* what,
                                                ReadReply<T> read, SystemdDone<T> done) {
  auto answered = [this, subject, what, read = std::move(read), done](sdbus::MethodReply& reply,
                                                                      const sdbus::Error* error) {
    std::optional<Result<T>> result;
    try {
      result.emplace(error != nullptr ? Result<T>(systemdError(subject, what, *error))
                                      : read(reply));
    } catch (const sdbus::Error& e) {
      result.emplace(systemdError(subject, what, e));
    } catch (const std::exception& e) {
      result.emplace(unexpectedError(subject, what, e));
    }
    deliver(done, std::move(*result));
  };
  try {
    return proxy.callMethod(call, std::move(answered), callTimeoutUsec_);
  } catch (const sdbus::Error& e) {
    deliver(done, Result<T>(systemdError(subject, what, e)));
  } catch (const std::exception& e) {
    deliver(done, Result<T>(unexpectedError(subject, what, e)));
  }
  return {};
}

void SystemdClientDbus::loadUnit(const std::string& name, SystemdDone<std::string> done) {
  try {
    auto call = manager_->createMethodCall(kManagerInterface, "LoadUnit");
    call << name;
    send<std::string>(
        *manager_, call, name, "LoadUnit",
        [](sdbus::MethodReply& reply) -> Result<std::string> {
          sdbus::ObjectPath path;
          reply >> path;
          return std::string(path);
        },
        std::move(done));
  } catch (const std::exception& e) {
    deliver(done, Result<std::string>(unexpectedError(name, "LoadUnit", e)));
  }
}

void SystemdClientDbus::queueJob(const char* method, const std::string& name,
                                 const std::string& mode, SystemdDone<std::string> done) {
  try {
    auto call = manager_->createMethodCall(kManagerInterface, method);
    call << name << mode;
    send<std::string>(
        *manager_, call, name, method,
        [](sdbus::MethodReply& reply) -> Result<std::string> {
          sdbus::ObjectPath job;
          reply >> job;
          return std::string(job);
        },
        std::move(done));
  } catch (const std::exception& e) {
    deliver(done, Result<std::string>(unexpectedError(name, method, e)));
  }
}

void SystemdClientDbus::startUnit(const std::string& name, const std::string& mode,
                                  SystemdDone<std::string> done) {
  queueJob("StartUnit", name, mode, std::move(done));
}

void SystemdClientDbus::stopUnit(const std::string& name, const std::string& mode,
                                 SystemdDone<std::string> done) {
  queueJob("StopUnit", name, mode, std::move(done));
}

void SystemdClientDbus::restartUnit(const std::string& name, const std::string& mode,
                                    SystemdDone<std::string> done) {
  queueJob("RestartUnit", name, mode, std::move(done));
}

void SystemdClientDbus::sweepUnitProxies() {
  std::erase_if(unitProxies_, [this](const auto& entry) {
    const UnitProxy& unit = entry.second;
    if (watchedNameByPath_.count(entry.first) != 0) return false;
    return std::none_of(unit.calls.begin(), unit.calls.end(),
                        [](const sdbus::PendingAsyncCall& call) { return call.isPending(); });
  });
}

void SystemdClientDbus::getProperties(const std::string& name, const std::string& path,
                                      const char* interface,
                                      std::span<const std::string_view> wanted,
                                      SystemdDone<PropertyValues> done) {
  try {
    // Proxies of units nobody watches and no call uses any more go now, never one of a call
    // still pending (this one's included: it is called from inside its own callbacks).
    sweepUnitProxies();
    UnitProxy& unit = unitProxies_[path];
    if (!unit.proxy) unit.proxy = sdbus::createProxy(connection_, kService, path);
    std::erase_if(unit.calls, [](const sdbus::PendingAsyncCall& c) { return !c.isPending(); });
    auto call = unit.proxy->createMethodCall(kPropertiesInterface, "GetAll");
    call << std::string(interface);
    auto pending = send<PropertyValues>(
        *unit.proxy, call, name, "reading unit properties",
        [wanted](sdbus::MethodReply& reply) -> Result<PropertyValues> {
          return readProperties(reply, wanted);
        },
        std::move(done));
    // Looked up again: a call that could not be sent has answered already, and what its `done`
    // did may have swept this entry.
    if (auto it = unitProxies_.find(path); it != unitProxies_.end()) {
      it->second.calls.push_back(std::move(pending));
    }
  } catch (const std::exception& e) {
    deliver(done, Result<PropertyValues>(unexpectedError(name, "reading unit properties", e)));
  }
}

void SystemdClientDbus::unitInfo(const std::string& name, SystemdDone<UnitInfo> done) {
  loadUnit(name, [this, name, done](Result<std::string> path) {
    if (!path) return deliver(done, Result<UnitInfo>(path.error()));
    getProperties(name, *path, kUnitInterface, kUnitProperties,
                  [this, name, path = *path, done](Result<PropertyValues> unit) {
                    if (!unit) return deliver(done, Result<UnitInfo>(unit.error()));
                    UnitInfo info;
                    info.name = name;
                    info.objectPath = path;
                    info.loadState = propertyOr<std::string>(*unit, "LoadState", "");
                    info.activeState = propertyOr<std::string>(*unit, "ActiveState", "");
                    info.subState = propertyOr<std::string>(*unit, "SubState", "");
                    // Only services have a main process, restarts and resource controls of their
                    // own.
                    if (!endsWith(name, ".service"))
                      return deliver(done, Result<UnitInfo>(std::move(info)));
                    readServiceProperties(std::move(info), done);
                  });
  });
}

void SystemdClientDbus::readServiceProperties(UnitInfo info, SystemdDone<UnitInfo> done) {
  const std::string name = info.name;
  const std::string path = info.objectPath;
  getProperties(name, path, kServiceInterface, kServiceProperties,
                [this, info = std::move(info), done](Result<PropertyValues> service) {
                  if (!service) return deliver(done, Result<UnitInfo>(service.error()));
                  UnitInfo out = info;
                  out.controlGroup = propertyOr<std::string>(*service, "ControlGroup", "");
                  out.mainPid = propertyOr<uint32_t>(*service, "MainPID", 0);
                  out.nRestarts = propertyOr<uint32_t>(*service, "NRestarts", 0);
                  const uint64_t high = propertyOr<uint64_t>(*service, "MemoryHigh", kInfinity);
                  if (high != kInfinity) out.memoryHigh = high;
                  const uint64_t max = propertyOr<uint64_t>(*service, "MemoryMax", kInfinity);
                  if (max != kInfinity) out.memoryMax = max;
                  // systemd's "unset" for a weight is UINT64_MAX, the same value as memory's
                  // infinity.
                  const uint64_t cpuWeight = propertyOr<uint64_t>(*service, "CPUWeight", kInfinity);
                  if (cpuWeight != kInfinity) out.cpuWeight = cpuWeight;
                  const uint64_t ioWeight = propertyOr<uint64_t>(*service, "IOWeight", kInfinity);
                  if (ioWeight != kInfinity) out.ioWeight = ioWeight;
                  out.result = propertyOr<std::string>(*service, "Result", "");
                  deliver(done, Result<UnitInfo>(std::move(out)));
                });
}

void SystemdClientDbus::setResourceControls(const std::string& name,
                                            const ResourceControls& controls, bool runtime,
                                            SystemdDone<void> done) {
  constexpr const char* kWhat = "SetUnitProperties(MemoryHigh, MemoryMax, CPUWeight, IOWeight)";
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
    send<void>(
        *manager_, call, name, kWhat, [](sdbus::MethodReply&) { return Result<void>(); },
        std::move(done));
  } catch (const std::exception& e) {
    deliver(done, Result<void>(unexpectedError(name, kWhat, e)));
  }
}

void SystemdClientDbus::resetFailed(const std::string& name, SystemdDone<void> done) {
  try {
    auto call = manager_->createMethodCall(kManagerInterface, "ResetFailedUnit");
    call << name;
    send<void>(
        *manager_, call, name, "ResetFailedUnit",
        [](sdbus::MethodReply&) { return Result<void>(); }, std::move(done));
  } catch (const std::exception& e) {
    deliver(done, Result<void>(unexpectedError(name, "ResetFailedUnit", e)));
  }
}

void SystemdClientDbus::listUnits(const std::vector<std::string>& states,
                                  const std::vector<std::string>& patterns,
                                  SystemdDone<std::vector<ListedUnit>> done) {
  using Listed = std::vector<ListedUnit>;
  try {
    auto call = manager_->createMethodCall(kManagerInterface, "ListUnitsByPatterns");
    call << states << patterns;
    send<Listed>(
        *manager_, call, kService, "ListUnitsByPatterns",
        [](sdbus::MethodReply& reply) -> Result<Listed> {
          // a(ssssssouso): name, description, load, active and sub state, followed unit, unit
          // path, job id, job type, job path.
          std::vector<sdbus::Struct<std::string, std::string, std::string, std::string, std::string,
                                    std::string, sdbus::ObjectPath, uint32_t, std::string,
                                    sdbus::ObjectPath>>
              units;
          reply >> units;
          Listed out;
          out.reserve(units.size());
          for (const auto& unit : units) {
            out.push_back(ListedUnit{.name = unit.get<0>(),
                                     .loadState = unit.get<2>(),
                                     .activeState = unit.get<3>(),
                                     .subState = unit.get<4>()});
          }
          return out;
        },
        std::move(done));
  } catch (const std::exception& e) {
    deliver(done, Result<Listed>(unexpectedError(kService, "ListUnitsByPatterns", e)));
  }
}

void SystemdClientDbus::watchUnit(const std::string& name, SystemdDone<void> done) {
  // Watched from now on; the path follows when systemd names it.
  watchedPathByName_.try_emplace(name);
  loadUnit(name, [this, name, done](Result<std::string> path) {
    if (!path) return deliver(done, Result<void>(path.error()));
    auto it = watchedPathByName_.find(name);
    if (it != watchedPathByName_.end()) {  // else: unwatched meanwhile
      if (!it->second.empty()) watchedNameByPath_.erase(it->second);
      it->second = *path;
      watchedNameByPath_[*path] = name;
    }
    deliver(done, Result<void>());
  });
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
  // A re-executed manager has forgotten its subscribers and may hand out new object paths.
  resubscribe();
  reresolveWatchedUnits();
  if (managerReloaded_) managerReloaded_();
}

void SystemdClientDbus::reresolveWatchedUnits() {
  // Until systemd answers, a unit keeps its old path; one it cannot name keeps it for good.
  std::vector<std::string> names;
  names.reserve(watchedPathByName_.size());
  for (const auto& [name, path] : watchedPathByName_) names.push_back(name);
  for (const std::string& name : names) {
    watchUnit(name, [](Result<void>) {});
  }
}

void SystemdClientDbus::handleUnitPropertiesChanged(sdbus::Message& message) {
  if (!unitChanged_) return;
  auto it = watchedNameByPath_.find(message.getPath());
  if (it == watchedNameByPath_.end()) return;
  std::string interface;
  message >> interface;
  const PropertyValues changed = readProperties(message, kUnitStateProperties);
  std::vector<std::string> invalidated;
  message >> invalidated;
  bool relevant = !changed.empty();
  for (const auto& property : invalidated) relevant = relevant || isUnitStateProperty(property);
  if (!relevant) return;
  // Copy: the handler may unwatch the unit and so erase the map entry `it` points to.
  const std::string name = it->second;
  unitChanged_(name);
}

}  // namespace wslgo
