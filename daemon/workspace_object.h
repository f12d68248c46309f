// WorkspaceObject: one workspace on the bus, /org/wslgo/Guard1/workspace/<encoded root>.
#pragma once

#include <string>

#include <sdbus-c++/sdbus-c++.h>

#include "daemon/guard1_adaptor.h"

namespace wslgo {

class Manager;

// The object path of a workspace: the root encoded the way sd_bus_path_encode does (systemd's
// unit objects look the same), so any root maps to a valid, reversible path.
std::string workspaceObjectPath(const std::string& root);

class WorkspaceObject final : public sdbus::AdaptorInterfaces<org::wslgo::Guard1::Workspace_adaptor,
                                                              sdbus::Properties_adaptor> {
 public:
  WorkspaceObject(sdbus::IConnection& connection, Manager& manager, std::string root);
  ~WorkspaceObject();

  const std::string& root() const { return root_; }

 private:
  void CollectGarbage(sdbus::Result<uint64_t, uint64_t>&& result) override;
  void TrimCache(sdbus::Result<uint64_t>&& result) override;
  void Restart(sdbus::Result<>&& result, std::string reason) override;
  void CaptureHeapProfile(sdbus::Result<std::string>&& result) override;
  std::vector<sdbus::Struct<uint64_t, uint64_t, uint64_t, uint64_t>> GetHistory(
      const uint64_t& sinceUsec) override;

  std::string Path() override;
  std::string Unit() override;
  std::string Socket() override;
  std::string DebugAddress() override;
  uint32_t MainPID() override;
  std::string State() override;
  uint64_t MemoryCurrent() override;
  uint64_t RSS() override;
  uint64_t HeapInUse() override;
  uint64_t WarningLimit() override;
  uint64_t HighLimit() override;
  uint64_t CriticalLimit() override;
  uint32_t Restarts() override;
  std::string LastAction() override;
  uint64_t LastActionUSec() override;
  uint32_t Editors() override;

  const struct WorkspaceView& view() const;

  Manager& manager_;
  std::string root_;
};

}  // namespace wslgo
