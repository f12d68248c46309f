// SystemdClient: the daemon's seam to the systemd manager (start/stop units, read state, signals).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "lib/result.h"

namespace wslgo {

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
};

// Signal callbacks run on the thread that processes the bus connection, one at a time.
using UnitChangedHandler = std::function<void(const std::string& unitName)>;
using JobRemovedHandler =
    std::function<void(uint32_t id, const std::string& jobPath, const std::string& unitName,
                       const std::string& result)>;
using ManagerReloadedHandler = std::function<void()>;

// The calls are synchronous and bounded by a timeout. systemd answers StartUnit at once with a
// job path; whether the job succeeded arrives later through onJobRemoved. Errors systemd returns
// (no such unit, masked, bus timeout) become Result errors that name the unit and quote systemd.
class SystemdClient {
 public:
  virtual ~SystemdClient() = default;

  virtual Result<std::string> startUnit(const std::string& name,
                                        const std::string& mode = "replace") = 0;
  virtual Result<std::string> stopUnit(const std::string& name,
                                       const std::string& mode = "replace") = 0;
  virtual Result<std::string> restartUnit(const std::string& name,
                                          const std::string& mode = "replace") = 0;
  virtual Result<UnitInfo> unitInfo(const std::string& name) = 0;
  // bytes nullopt means infinity. runtime=true: the setting is lost at reboot (our limits are
  // recomputed at start anyway and must not pile up in /etc).
  virtual Result<void> setMemoryHigh(const std::string& name, std::optional<uint64_t> bytes,
                                     bool runtime = true) = 0;
  virtual Result<void> resetFailed(const std::string& name) = 0;

  // Start/stop delivering onUnitChanged for this unit (ActiveState, SubState, MainPID,
  // NRestarts changes). Watching survives daemon-reload: the client re-resolves the paths.
  virtual Result<void> watchUnit(const std::string& name) = 0;
  virtual void unwatchUnit(const std::string& name) = 0;

  // One handler each; setting again replaces the previous one.
  virtual void onUnitChanged(UnitChangedHandler handler) = 0;
  virtual void onJobRemoved(JobRemovedHandler handler) = 0;
  // After daemon-reload/daemon-reexec (Reloading(false)); the client has already re-subscribed.
  virtual void onManagerReloaded(ManagerReloadedHandler handler) = 0;
};

}  // namespace wslgo
