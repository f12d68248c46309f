// SystemdClient: the daemon's seam to the systemd manager (start/stop units, read state, signals).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "lib/result.h"

namespace wslgo {

// What the guard sets on a workspace's unit at run time, in systemd's terms. The memory limits
// nullopt is infinity (no limit).
struct ResourceControls {
  std::optional<uint64_t> memoryHigh;  // MemoryHigh=
  std::optional<uint64_t> memoryMax;   // MemoryMax=
  uint64_t cpuWeight = 100;            // CPUWeight=, 1..10000
  uint64_t ioWeight = 100;             // IOWeight=, 1..10000
};

// What systemd says about one unit, read in one go after LoadUnit (so it works for units that
// are not loaded yet: those come back with activeState "inactive").
struct UnitInfo {
  std::string name;
  std::string objectPath;
  std::string loadState;    // "loaded", "not-found", "masked", ...
  std::string activeState;  // "active", "activating", "inactive", "failed", ...
  std::string subState;     // "running", "dead", "auto-restart", ...
  std::string controlGroup;
  uint32_t mainPid = 0;
  uint32_t nRestarts = 0;
  std::optional<uint64_t> memoryHigh;  // nullopt: infinity (no limit)
  std::optional<uint64_t> memoryMax;   // nullopt: infinity (no limit)
  std::optional<uint64_t> cpuWeight;   // nullopt: systemd's default
  std::optional<uint64_t> ioWeight;    // nullopt: systemd's default
  // The service's Result: "success", "signal", "oom-kill" (systemd saw the kernel's OOM killer
  // in the unit, which it can only on cgroup v2), ...
  std::string result;
};

// One unit of systemd's ListUnitsByPatterns answer: what the manager has loaded now.
struct ListedUnit {
  std::string name;
  std::string loadState;    // "loaded", "not-found", ...
  std::string activeState;  // "active", "activating", "inactive", "failed", ...
  std::string subState;     // "running", "dead", ...
};

// Signal callbacks run on the thread that processes the bus connection, one at a time.
using UnitChangedHandler = std::function<void(const std::string& unitName)>;
using JobRemovedHandler =
    std::function<void(uint32_t id, const std::string& jobPath, const std::string& unitName,
                       const std::string& result)>;
using ManagerReloadedHandler = std::function<void()>;

// Every call is asynchronous: it sends its request and returns, and `done` runs once with
// systemd's answer or an error, from the loop that processes the bus connection. A manager that
// hangs (it happens under the very memory pressure the guard watches) costs a timeout, never the
// guard's loop: the guard answers its own callers and its watchdog meanwhile. `done` may run
// before the call returns when the request cannot even be sent. systemd answers StartUnit at once
// with a job path; whether the job succeeded arrives later through onJobRemoved. Errors systemd
// returns (no such unit, masked, timeout) become Result errors that name the unit and quote
// systemd.
template <class T>
using SystemdDone = std::function<void(Result<T>)>;

class SystemdClient {
 public:
  virtual ~SystemdClient() = default;

  // `mode` as systemctl's --job-mode: "replace", "fail", ...
  virtual void startUnit(const std::string& name, const std::string& mode,
                         SystemdDone<std::string> done) = 0;
  virtual void stopUnit(const std::string& name, const std::string& mode,
                        SystemdDone<std::string> done) = 0;
  virtual void restartUnit(const std::string& name, const std::string& mode,
                           SystemdDone<std::string> done) = 0;
  virtual void unitInfo(const std::string& name, SystemdDone<UnitInfo> done) = 0;
  // All of them in one SetUnitProperties call. runtime=true: the settings are lost at reboot
  // (ours are recomputed at every start anyway and must not pile up in the user's config).
  virtual void setResourceControls(const std::string& name, const ResourceControls& controls,
                                   bool runtime, SystemdDone<void> done) = 0;
  virtual void resetFailed(const std::string& name, SystemdDone<void> done) = 0;
  // The units systemd has loaded whose names match one of the glob `patterns` and whose
  // active, load or sub state is one of `states` (empty: any state).
  virtual void listUnits(const std::vector<std::string>& states,
                         const std::vector<std::string>& patterns,
                         SystemdDone<std::vector<ListedUnit>> done) = 0;

  // Start/stop delivering onUnitChanged for this unit (ActiveState, SubState, MainPID,
  // NRestarts changes). Watching survives daemon-reload: the client re-resolves the paths.
  // `done` says whether systemd could name the unit's object; an unwatch before it answers wins.
  virtual void watchUnit(const std::string& name, SystemdDone<void> done) = 0;
  virtual void unwatchUnit(const std::string& name) = 0;

  // One handler each; setting again replaces the previous one.
  virtual void onUnitChanged(UnitChangedHandler handler) = 0;
  virtual void onJobRemoved(JobRemovedHandler handler) = 0;
  // After daemon-reload/daemon-reexec (Reloading(false)); the client has already re-subscribed.
  virtual void onManagerReloaded(ManagerReloadedHandler handler) = 0;
};

}  // namespace wslgo
