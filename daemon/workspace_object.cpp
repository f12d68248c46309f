#include "daemon/workspace_object.h"

#include <systemd/sd-bus.h>

#include <cstdlib>
#include <memory>

#include "daemon/bus_caller.h"
#include "daemon/bus_errors.h"
#include "daemon/manager.h"
#include "daemon/views.h"

namespace wslgo {
namespace {

constexpr const char* kWorkspacePathPrefix = "/org/wslgo/Guard1/workspace";

// Completes an async reply from a manager callback. The manager calls back on the loop, after
// the bus handler returned, so errors (the manager's, or an exception while replying) go
// through returnError rather than a throw.
template <class Reply, class Value, class Deliver>
void complete(const char* method, Reply& reply, const Result<Value>& result, Deliver&& deliver) {
  completeBusReply(method, reply, [&] {
    if (!result.ok()) throw busErrorFor(result.error());
    deliver(result.value());
  });
}

}  // namespace

std::string workspaceObjectPath(const std::string& root) {
  char* encoded = nullptr;
  if (sd_bus_path_encode(kWorkspacePathPrefix, root.c_str(), &encoded) < 0 || encoded == nullptr) {
    throw sdbus::Error(kErrorFailed, "cannot encode an object path for " + root);
  }
  std::string path(encoded);
  std::free(encoded);
  return path;
}

WorkspaceObject::WorkspaceObject(sdbus::IConnection& connection, Manager& manager, std::string root)
    : AdaptorInterfaces(connection, workspaceObjectPath(root)),
      manager_(manager),
      root_(std::move(root)) {
  registerAdaptor();
}

WorkspaceObject::~WorkspaceObject() { unregisterAdaptor(); }

const WorkspaceView& WorkspaceObject::view() const {
  const WorkspaceView* view = manager_.workspaceView(root_);
  if (view == nullptr) {
    throw sdbus::Error(kErrorNotFound, "the workspace " + root_ + " was removed");
  }
  return *view;
}

void WorkspaceObject::CollectGarbage(sdbus::Result<uint64_t, uint64_t>&& result) {
  guardBusHandler("CollectGarbage", [&] {
    logStateChange(getObject(), "CollectGarbage", "for " + root_);
    auto reply = std::make_shared<sdbus::Result<uint64_t, uint64_t>>(std::move(result));
    manager_.collectGarbage(root_, [reply](Result<std::pair<uint64_t, uint64_t>> done) {
      complete("CollectGarbage", *reply, done,
               [&](const auto& figures) { reply->returnResults(figures.first, figures.second); });
    });
  });
}

void WorkspaceObject::TrimCache(sdbus::Result<uint64_t>&& result) {
  guardBusHandler("TrimCache", [&] {
    logStateChange(getObject(), "TrimCache", "for " + root_);
    auto reply = std::make_shared<sdbus::Result<uint64_t>>(std::move(result));
    manager_.trimCache(root_, [reply](Result<uint64_t> done) {
      complete("TrimCache", *reply, done, [&](uint64_t freed) { reply->returnResults(freed); });
    });
  });
}

void WorkspaceObject::Restart(sdbus::Result<>&& result, std::string reason) {
  guardBusHandler("Restart", [&] {
    if (reason.size() > 4096) {
      throw sdbus::Error(kErrorInvalidArgument, "the reason is " + std::to_string(reason.size()) +
                                                    " bytes; keep it under 4096");
    }
    // Not the reason: caller's text of up to 4 KiB that may hold newlines. It reaches the
    // Restarting signal and the session keepers' notices.
    logStateChange(getObject(), "Restart", "for " + root_);
    auto reply = std::make_shared<sdbus::Result<>>(std::move(result));
    manager_.restart(root_, reason.empty() ? "requested over D-Bus" : reason,
                     [reply](Result<void> done) {
                       completeBusReply("Restart", *reply, [&] {
                         if (!done.ok()) throw busErrorFor(done.error());
                         reply->returnResults();
                       });
                     });
  });
}

void WorkspaceObject::CaptureHeapProfile(sdbus::Result<std::string>&& result) {
  guardBusHandler("CaptureHeapProfile", [&] {
    logStateChange(getObject(), "CaptureHeapProfile", "for " + root_);
    auto reply = std::make_shared<sdbus::Result<std::string>>(std::move(result));
    manager_.captureHeapProfile(root_, [reply](Result<std::string> done) {
      complete("CaptureHeapProfile", *reply, done,
               [&](const std::string& file) { reply->returnResults(file); });
    });
  });
}

std::vector<sdbus::Struct<uint64_t, uint64_t, uint64_t, uint64_t>> WorkspaceObject::GetHistory(
    const uint64_t& sinceUsec) {
  return guardBusHandler("GetHistory", [&] {
    auto samples = manager_.history(root_, sinceUsec);
    if (!samples) throw busErrorFor(samples.error());
    std::vector<sdbus::Struct<uint64_t, uint64_t, uint64_t, uint64_t>> out;
    out.reserve(samples->size());
    for (const HistorySample& sample : *samples) {
      out.emplace_back(sample.usec, sample.memoryCurrent, sample.rss, sample.heapInUse);
    }
    return out;
  });
}

std::string WorkspaceObject::Path() {
  return guardBusHandler("Path", [&] { return view().path; });
}
std::string WorkspaceObject::Unit() {
  return guardBusHandler("Unit", [&] { return view().unit; });
}
std::string WorkspaceObject::Socket() {
  return guardBusHandler("Socket", [&] { return view().socket; });
}
std::string WorkspaceObject::DebugAddress() {
  return guardBusHandler("DebugAddress", [&] { return view().debugAddress; });
}
uint32_t WorkspaceObject::MainPID() {
  return guardBusHandler("MainPID", [&] { return view().mainPid; });
}
std::string WorkspaceObject::State() {
  return guardBusHandler("State", [&] { return view().state; });
}
uint64_t WorkspaceObject::MemoryCurrent() {
  return guardBusHandler("MemoryCurrent", [&] { return view().memoryCurrent; });
}
uint64_t WorkspaceObject::RSS() {
  return guardBusHandler("RSS", [&] { return view().rss; });
}
uint64_t WorkspaceObject::HeapInUse() {
  return guardBusHandler("HeapInUse", [&] { return view().heapInUse; });
}
uint64_t WorkspaceObject::WarningLimit() {
  return guardBusHandler("WarningLimit", [&] { return view().warningLimit; });
}
uint64_t WorkspaceObject::HighLimit() {
  return guardBusHandler("HighLimit", [&] { return view().highLimit; });
}
uint64_t WorkspaceObject::CriticalLimit() {
  return guardBusHandler("CriticalLimit", [&] { return view().criticalLimit; });
}
uint32_t WorkspaceObject::Restarts() {
  return guardBusHandler("Restarts", [&] { return view().restarts; });
}
std::string WorkspaceObject::LastAction() {
  return guardBusHandler("LastAction", [&] { return view().lastAction; });
}
uint64_t WorkspaceObject::LastActionUSec() {
  return guardBusHandler("LastActionUSec", [&] { return view().lastActionUsec; });
}
uint32_t WorkspaceObject::Editors() {
  return guardBusHandler("Editors", [&] { return view().editors; });
}

}  // namespace wslgo
