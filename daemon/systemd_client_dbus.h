// SystemdClientDbus: SystemdClient over org.freedesktop.systemd1 on an sdbus-c++ connection.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>

#include <sdbus-c++/IConnection.h>
#include <sdbus-c++/IProxy.h>
#include <sdbus-c++/Message.h>

#include "daemon/systemd_client.h"

namespace wslgo {

// Single-threaded: every call and every callback happen on the thread that processes the
// connection (the daemon's sd-event loop). Callbacks arrive only while the owner processes the
// connection; a synchronous call may leave signals queued, so the owner must call
// processPendingRequest() until it returns false before polling again.
class SystemdClientDbus final : public SystemdClient {
 public:
  // systemd's own default for bus calls; StartUnit answers at once, so this bounds a hung manager.
  static constexpr std::chrono::microseconds kDefaultCallTimeout = std::chrono::seconds(25);

  // Subscribes to the manager's signals; fails when nobody owns org.freedesktop.systemd1 on the
  // connection's bus (no `systemd --user`), naming that as the cause.
  static Result<std::unique_ptr<SystemdClientDbus>> create(
      sdbus::IConnection& connection, std::chrono::microseconds callTimeout = kDefaultCallTimeout);

  SystemdClientDbus(const SystemdClientDbus&) = delete;
  SystemdClientDbus& operator=(const SystemdClientDbus&) = delete;
  ~SystemdClientDbus() override;

  // The defaults repeat the interface's, so calls through either type mean the same.
  Result<std::string> startUnit(const std::string& name,
                                const std::string& mode = "replace") override;
  Result<std::string> stopUnit(const std::string& name,
                               const std::string& mode = "replace") override;
  Result<std::string> restartUnit(const std::string& name,
                                  const std::string& mode = "replace") override;
  Result<UnitInfo> unitInfo(const std::string& name) override;
  Result<void> setResourceControls(const std::string& name, const ResourceControls& controls,
                                   bool runtime = true) override;
  Result<void> resetFailed(const std::string& name) override;
  Result<std::vector<ListedUnit>> listUnits(const std::vector<std::string>& states,
                                            const std::vector<std::string>& patterns) override;
  Result<void> watchUnit(const std::string& name) override;
  void unwatchUnit(const std::string& name) override;
  void onUnitChanged(UnitChangedHandler handler) override;
  void onJobRemoved(JobRemovedHandler handler) override;
  void onManagerReloaded(ManagerReloadedHandler handler) override;

 private:
  SystemdClientDbus(sdbus::IConnection& connection, std::chrono::microseconds callTimeout);

  Result<void> subscribe();
  Result<std::string> loadUnit(const std::string& name);
  Result<std::string> queueJob(const char* method, const std::string& name,
                               const std::string& mode);
  void handleJobRemoved(sdbus::Signal& signal);
  void handleReloading(sdbus::Signal& signal);
  void handleUnitPropertiesChanged(sdbus::Message& message);
  void reresolveWatchedUnits();

  sdbus::IConnection& connection_;
  uint64_t callTimeoutUsec_;
  std::unique_ptr<sdbus::IProxy> manager_;
  sdbus::Slot unitPropertiesMatch_;
  std::map<std::string, std::string> watchedPathByName_;
  std::map<std::string, std::string> watchedNameByPath_;
  UnitChangedHandler unitChanged_;
  JobRemovedHandler jobRemoved_;
  ManagerReloadedHandler managerReloaded_;
};

}  // namespace wslgo
