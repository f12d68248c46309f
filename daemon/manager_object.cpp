#include "daemon/manager_object.h"

#include "daemon/bus_errors.h"
#include "daemon/manager.h"
#include "daemon/workspace_object.h"

namespace wslgo {
namespace {

// Longer than any real path (PATH_MAX is 4096): a 64 KiB string is refused before it reaches
// the filesystem.
constexpr size_t kMaxPathArgument = 4096;

void checkPathArgument(const std::string& path) {
  if (path.empty()) {
    throw sdbus::Error(kErrorInvalidArgument, "the path is empty; pass the workspace directory");
  }
  if (path.size() > kMaxPathArgument) {
    throw sdbus::Error(kErrorInvalidArgument, "the path is " + std::to_string(path.size()) +
                                                  " bytes; a path has at most 4096");
  }
}

AddOptions parseAddOptions(const std::map<std::string, sdbus::Variant>& options) {
  AddOptions out;
  for (const auto& [key, value] : options) {
    if (key == "allow_non_module") {
      if (!value.containsValueOfType<bool>()) {
        throw sdbus::Error(
            kErrorInvalidArgument,
            "option allow_non_module takes a boolean (b), got " + value.peekValueType());
      }
      out.allowNonModule = value.get<bool>();
    } else {
      throw sdbus::Error(kErrorInvalidArgument,
                         "unknown option \"" + key + "\"; AddWorkspace knows allow_non_module");
    }
  }
  return out;
}

}  // namespace

ManagerObject::ManagerObject(sdbus::IConnection& connection, Manager& manager,
                             std::function<bool()> shuttingDown)
    : AdaptorInterfaces(connection, kManagerObjectPath),
      manager_(manager),
      shuttingDown_(std::move(shuttingDown)) {
  registerAdaptor();
}

ManagerObject::~ManagerObject() { unregisterAdaptor(); }

void ManagerObject::refuseWhileShuttingDown(const char* method) const {
  if (shuttingDown_ && shuttingDown_()) {
    throw sdbus::Error(kErrorBusy, std::string(method) + ": the guard is shutting down");
  }
}

void ManagerObject::AddWorkspace(sdbus::Result<sdbus::ObjectPath>&& result, std::string path,
                                 std::map<std::string, sdbus::Variant> options) {
  guardBusHandler("AddWorkspace", [&] {
    refuseWhileShuttingDown("AddWorkspace");
    checkPathArgument(path);
    AddOptions parsed = parseAddOptions(options);
    auto root = manager_.addWorkspace(path, parsed);
    if (!root) throw busErrorFor(root.error());
    result.returnResults(sdbus::ObjectPath(workspaceObjectPath(*root)));
  });
}

void ManagerObject::RemoveWorkspace(sdbus::Result<>&& result, std::string path) {
  guardBusHandler("RemoveWorkspace", [&] {
    refuseWhileShuttingDown("RemoveWorkspace");
    checkPathArgument(path);
    auto removed = manager_.removeWorkspace(path);
    if (!removed) throw busErrorFor(removed.error());
    result.returnResults();
  });
}

sdbus::ObjectPath ManagerObject::GetWorkspace(const std::string& path) {
  return guardBusHandler("GetWorkspace", [&] {
    checkPathArgument(path);
    auto root = manager_.findWorkspace(path);
    if (!root) throw busErrorFor(root.error());
    return sdbus::ObjectPath(workspaceObjectPath(*root));
  });
}

std::string ManagerObject::GetStatus() {
  return guardBusHandler("GetStatus", [&] { return manager_.statusJson(); });
}

void ManagerObject::Reload() {
  guardBusHandler("Reload", [&] {
    refuseWhileShuttingDown("Reload");
    auto reloaded = manager_.reload();
    if (!reloaded) {
      throw sdbus::Error(kErrorInvalidArgument,
                         "the new configuration was rejected and the old one stays: " +
                             reloaded.error().describe());
    }
  });
}

std::string ManagerObject::Version() { return WSLGO_VERSION; }

std::string ManagerObject::State() {
  return guardBusHandler("State", [&] { return manager_.managerView().state; });
}

bool ManagerObject::DryRun() {
  return guardBusHandler("DryRun", [&] { return manager_.managerView().dryRun; });
}

void ManagerObject::DryRun(const bool& value) {
  guardBusHandler("DryRun", [&] { manager_.setDryRun(value); });
}

uint64_t ManagerObject::SampleIntervalUSec() {
  return guardBusHandler("SampleIntervalUSec",
                         [&] { return manager_.managerView().sampleIntervalUsec; });
}

uint64_t ManagerObject::MemTotal() {
  return guardBusHandler("MemTotal", [&] { return manager_.managerView().memTotal; });
}

uint64_t ManagerObject::MemAvailable() {
  return guardBusHandler("MemAvailable", [&] { return manager_.managerView().memAvailable; });
}

uint64_t ManagerObject::SwapTotal() {
  return guardBusHandler("SwapTotal", [&] { return manager_.managerView().swapTotal; });
}

uint64_t ManagerObject::SwapFree() {
  return guardBusHandler("SwapFree", [&] { return manager_.managerView().swapFree; });
}

sdbus::Struct<double, double, double> ManagerObject::MemoryPressure() {
  return guardBusHandler("MemoryPressure", [&] {
    const ManagerView& view = manager_.managerView();
    return sdbus::Struct<double, double, double>(view.pressureAvg10, view.pressureAvg60,
                                                 view.pressureAvg300);
  });
}

std::vector<sdbus::ObjectPath> ManagerObject::Workspaces() {
  return guardBusHandler("Workspaces", [&] {
    std::vector<sdbus::ObjectPath> out;
    for (const std::string& root : manager_.workspaceRoots()) {
      out.emplace_back(workspaceObjectPath(root));
    }
    return out;
  });
}

}  // namespace wslgo
