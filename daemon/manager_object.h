// ManagerObject: /org/wslgo/Guard1, the org.wslgo.Guard1.Manager interface.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <sdbus-c++/sdbus-c++.h>

#include "daemon/guard1_adaptor.h"

namespace wslgo {

class Manager;

inline constexpr const char* kBusName = "org.wslgo.Guard1";
inline constexpr const char* kManagerObjectPath = "/org/wslgo/Guard1";

class ManagerObject final : public sdbus::AdaptorInterfaces<org::wslgo::Guard1::Manager_adaptor,
                                                            sdbus::Properties_adaptor> {
 public:
  // `shuttingDown` tells whether the daemon is on its way out: calls that would start work are
  // refused as Busy then, rather than half done.
  ManagerObject(sdbus::IConnection& connection, Manager& manager,
                std::function<bool()> shuttingDown);
  ~ManagerObject();

 private:
  void AddWorkspace(sdbus::Result<sdbus::ObjectPath>&& result, std::string path,
                    std::map<std::string, sdbus::Variant> options) override;
  void RemoveWorkspace(sdbus::Result<>&& result, std::string path) override;
  sdbus::ObjectPath GetWorkspace(const std::string& path) override;
  void AttachEditor(sdbus::Result<sdbus::ObjectPath, std::string, std::string>&& result,
                    std::string folder) override;
  void ReportEditors(const std::map<std::string, uint32_t>& editors) override;
  std::string GetStatus() override;
  void Reload() override;

  std::string Version() override;
  std::string State() override;
  bool DryRun() override;
  void DryRun(const bool& value) override;
  uint64_t SampleIntervalUSec() override;
  uint64_t MemTotal() override;
  uint64_t MemAvailable() override;
  uint64_t SwapTotal() override;
  uint64_t SwapFree() override;
  sdbus::Struct<double, double, double> MemoryPressure() override;
  std::vector<sdbus::ObjectPath> Workspaces() override;

  void refuseWhileShuttingDown(const char* method) const;
  // Makes sure the reporter's editors stop counting when its unique name leaves the bus. False
  // when it has left already. Throws sdbus::Error when the bus cannot be asked.
  bool watchReporter(const std::string& sender);

  Manager& manager_;
  std::function<bool()> shuttingDown_;
  std::unique_ptr<sdbus::IProxy> busDaemon_;  // org.freedesktop.DBus, for NameHasOwner
  // One NameOwnerChanged match per reporter still on the bus. A match is not dropped from its own
  // callback (that would destroy the callback while it runs): the reporters seen leaving are
  // dropped at the next report instead; unique names are never reused, so a stale one is idle.
  std::map<std::string, sdbus::Slot> reporterWatches_;
  std::vector<std::string> departedReporters_;
};

}  // namespace wslgo
