#include "daemon/manager_object.h"

#include "daemon/bus_caller.h"
#include "daemon/bus_errors.h"
#include "daemon/manager.h"
#include "daemon/workspace_object.h"
#include "lib/utf8.h"

namespace wslgo {
namespace {

// Longer than any real path (PATH_MAX is 4096): a 64 KiB string is refused before it reaches
// the filesystem.
constexpr size_t kMaxPathArgument = 4096;

// `what` names the directory the caller should pass.
void checkPathArgument(const std::string& path, const char* what = "the workspace directory") {
  if (path.empty()) {
    throw sdbus::Error(kErrorInvalidArgument, std::string("the path is empty; pass ") + what);
  }
  if (path.size() > kMaxPathArgument) {
    throw sdbus::Error(kErrorInvalidArgument, "the path is " + std::to_string(path.size()) +
                                                  " bytes; a path has at most 4096");
  }
  // Resolved against the guard's working directory, "." once named the workspace at "/".
  if (path.front() != '/') {
    throw sdbus::Error(kErrorInvalidArgument,
                       "\"" + utf8Lossy(path.substr(0, 200)) +  // a cut may split a character
                           "\" is a relative path; pass an absolute one: the guard does not "
                           "share your working directory");
  }
}

constexpr const char* kBusDaemon = "org.freedesktop.DBus";
constexpr const char* kBusDaemonPath = "/org/freedesktop/DBus";

// NameOwnerChanged of one unique name: the bus daemon sends it as the name's owner leaves.
std::string nameOwnerChangedMatch(const std::string& name) {
  return std::string("type='signal',sender='") + kBusDaemon + "',path='" + kBusDaemonPath +
         "',interface='" + kBusDaemon + "',member='NameOwnerChanged',arg0='" + name + "'";
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
      shuttingDown_(std::move(shuttingDown)),
      busDaemon_(sdbus::createProxy(connection, kBusDaemon, kBusDaemonPath)) {
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
    // Answered once systemd has: the loop goes on meanwhile.
    auto reply = std::make_shared<sdbus::Result<sdbus::ObjectPath>>(std::move(result));
    manager_.addWorkspace(path, parsed,
                          [reply, caller = describeCaller(getObject())](Result<std::string> root) {
                            completeBusReply("AddWorkspace", *reply, [&] {
                              if (!root) throw busErrorFor(root.error());
                              logStateChange(caller, "AddWorkspace", "added " + *root);
                              reply->returnResults(sdbus::ObjectPath(workspaceObjectPath(*root)));
                            });
                          });
  });
}

void ManagerObject::RemoveWorkspace(sdbus::Result<>&& result, std::string path) {
  guardBusHandler("RemoveWorkspace", [&] {
    refuseWhileShuttingDown("RemoveWorkspace");
    checkPathArgument(path);
    auto removed = manager_.removeWorkspace(path);
    if (!removed) throw busErrorFor(removed.error());
    logStateChange(getObject(), "RemoveWorkspace", "removed the workspace holding " + path);
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

void ManagerObject::AttachEditor(
    sdbus::Result<sdbus::ObjectPath, std::string, std::string>&& result, std::string folder) {
  guardBusHandler("AttachEditor", [&] {
    refuseWhileShuttingDown("AttachEditor");
    checkPathArgument(folder, "the folder the editor opened");
    auto reply = std::make_shared<sdbus::Result<sdbus::ObjectPath, std::string, std::string>>(
        std::move(result));
    manager_.attachEditor(folder, [reply](Result<EditorAttachment> attached) {
      completeBusReply("AttachEditor", *reply, [&] {
        if (!attached) throw busErrorFor(attached.error());
        reply->returnResults(sdbus::ObjectPath(workspaceObjectPath(attached->root)), attached->root,
                             attached->socket);
      });
    });
  });
}

void ManagerObject::ReportEditors(const std::map<std::string, uint32_t>& editors) {
  guardBusHandler("ReportEditors", [&] {
    const sdbus::Message* message = getObject().getCurrentlyProcessedMessage();
    const std::string sender = message == nullptr ? std::string() : message->getSender();
    if (sender.empty()) {
      throw sdbus::Error(kErrorInvalidArgument,
                         "ReportEditors: the call has no sender, so its editors could not be "
                         "dropped when it goes; call it over the bus");
    }
    auto reported = manager_.reportEditors(sender, editors);
    if (!reported) throw busErrorFor(reported.error());
    // Counted only while they can be dropped again: a reporter that cannot be watched, or that
    // left before the watch was in place, counts for nothing.
    try {
      if (!watchReporter(sender)) manager_.forgetEditorReporter(sender);
    } catch (const sdbus::Error& e) {
      manager_.forgetEditorReporter(sender);
      throw sdbus::Error(kErrorFailed,
                         "ReportEditors: cannot watch " + sender +
                             " leave the bus, so its editors are not counted: " + e.getMessage());
    }
  });
}

bool ManagerObject::watchReporter(const std::string& sender) {
  for (const std::string& gone : departedReporters_) reporterWatches_.erase(gone);
  departedReporters_.clear();
  if (reporterWatches_.count(sender) != 0) return true;

  sdbus::Slot watch = getObject().getConnection().addMatch(
      nameOwnerChangedMatch(sender), [this, sender](sdbus::Message& signal) {
        // sdbus-c++ 1.2 aborts the process if a match callback throws.
        try {
          std::string name;
          std::string oldOwner;
          std::string newOwner;
          signal >> name >> oldOwner >> newOwner;
          if (name != sender || !newOwner.empty()) return;
          departedReporters_.push_back(sender);
          manager_.forgetEditorReporter(sender);
        } catch (...) {  // NOLINT(bugprone-empty-catch): a malformed signal is dropped, not fatal
        }
      });
  reporterWatches_.emplace(sender, std::move(watch));
  // The reporter may have left before the match was in place, and then its NameOwnerChanged went
  // by unseen. The bus daemon handles our calls in order, so after this answer none is missed.
  bool onBus = false;
  busDaemon_->callMethod("NameHasOwner")
      .onInterface(kBusDaemon)
      .withArguments(sender)
      .storeResultsTo(onBus);
  if (!onBus) reporterWatches_.erase(sender);
  return onBus;
}

std::string ManagerObject::GetStatus() {
  return guardBusHandler("GetStatus", [&] { return manager_.statusJson(); });
}

void ManagerObject::Reload() {
  guardBusHandler("Reload", [&] {
    refuseWhileShuttingDown("Reload");
    logStateChange(getObject(), "Reload", "re-reads the configuration");
    auto reloaded = manager_.reload();
    if (!reloaded) {
      throw sdbus::Error(kErrorInvalidArgument,
                         "the new configuration was rejected and the old one stays: " +
                             reloaded.error().describe());
    }
  });
}

std::string ManagerObject::Version() {
  return guardBusHandler("Version", [] { return std::string(WSLGO_VERSION); });
}

std::string ManagerObject::State() {
  return guardBusHandler("State", [&] { return manager_.managerView().state; });
}

bool ManagerObject::DryRun() {
  return guardBusHandler("DryRun", [&] { return manager_.managerView().dryRun; });
}

void ManagerObject::DryRun(const bool& value) {
  guardBusHandler("DryRun", [&] {
    manager_.setDryRun(value);
    logStateChange(getObject(), "DryRun", value ? "set to true" : "set to false");
  });
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
