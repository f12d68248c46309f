#include "cli/ctl_guard.h"

#include <sdbus-c++/sdbus-c++.h>

#include <string_view>
#include <tuple>
#include <utility>

#include "cli/guard1_proxy.h"
#include "lib/config_values.h"

namespace wslgo::ctl {
namespace {

constexpr const char* kBusName = "org.wslgo.Guard1";
constexpr const char* kManagerPath = "/org/wslgo/Guard1";

constexpr const char* kStartHint =
    "start it with `systemctl --user start wslgo-guard` (or `systemctl --user enable --now "
    "wslgo-guard` to have it at every login)";

// The generated proxies, without their signals: a command asks and exits, it listens to
// nothing. registerProxy() is never called, so no match rule is added on the bus.
class ManagerProxy final : public sdbus::ProxyInterfaces<org::wslgo::Guard1::Manager_proxy> {
 public:
  explicit ManagerProxy(sdbus::IConnection& connection)
      : ProxyInterfaces(connection, kBusName, kManagerPath) {}

 private:
  void onWorkspaceAdded(const sdbus::ObjectPath&, const std::string&) override {}
  void onWorkspaceRemoved(const sdbus::ObjectPath&, const std::string&) override {}
  void onConfigReloaded(const bool&, const std::string&) override {}
};

class WorkspaceProxy final : public sdbus::ProxyInterfaces<org::wslgo::Guard1::Workspace_proxy> {
 public:
  WorkspaceProxy(sdbus::IConnection& connection, const std::string& object)
      : ProxyInterfaces(connection, kBusName, object) {}

 private:
  void onThresholdCrossed(const std::string&, const std::string&, const uint64_t&,
                          const uint64_t&) override {}
  void onOverBudget(const std::string&, const std::string&, const uint64_t&, const uint64_t&,
                    const std::string&) override {}
  void onRestarting(const std::string&) override {}
  void onOomKilled(const std::string&) override {}
  void onActionTaken(const std::string&, const std::string&, const uint64_t&, const uint64_t&,
                     const std::string&) override {}
};

bool startsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

Error failure(int code, std::string message) {
  return Error{.code = code, .path = {}, .message = std::move(message)};
}

// A bus error as a person reads it: by its message, the name only when there is no message.
Error errorFromBus(const sdbus::Error& e, std::chrono::milliseconds callTimeout) {
  const std::string& name = e.getName();
  const std::string message = e.getMessage().empty() ? name : e.getMessage();
  if (name == "org.freedesktop.DBus.Error.ServiceUnknown" ||
      name == "org.freedesktop.DBus.Error.NameHasNoOwner" ||
      startsWith(name, "org.freedesktop.DBus.Error.Spawn.") ||
      startsWith(name, "org.freedesktop.systemd1.")) {
    return failure(kGuardUnreachable, std::string("the guard is not running (nobody owns ") +
                                          kBusName + " on the user bus): " + kStartHint);
  }
  if (name == "org.freedesktop.DBus.Error.NoServer" ||
      name == "org.freedesktop.DBus.Error.Disconnected") {
    return failure(kGuardUnreachable,
                   "lost the user bus (" + message +
                       "): check that the user session's dbus runs, then start the guard with "
                       "`systemctl --user start wslgo-guard`");
  }
  if (name == "org.wslgo.Guard1.Error.NotFound") return failure(kNoSuchWorkspace, message);
  if (name == "org.freedesktop.DBus.Error.UnknownObject") {
    return failure(kNoSuchWorkspace,
                   "the workspace was removed meanwhile; `wslgo-guardctl status` lists those "
                   "guarded now");
  }
  if (name == "org.wslgo.Guard1.Error.StillRunning") return failure(kStillRunning, message);
  if (name == "org.freedesktop.DBus.Error.NoReply" ||
      name == "org.freedesktop.DBus.Error.Timeout" ||
      name == "org.freedesktop.DBus.Error.TimedOut") {
    return failure(kCallFailed, "the guard did not answer within " + formatDuration(callTimeout) +
                                    "; see `journalctl --user -u wslgo-guard`, and restart it "
                                    "with `systemctl --user restart wslgo-guard` if it hangs");
  }
  return failure(kCallFailed, message);
}

// Runs one bus call, its failure as an Error.
template <class Call>
auto attempt(std::chrono::milliseconds callTimeout, Call&& call) -> Result<decltype(call())> {
  try {
    if constexpr (std::is_void_v<decltype(call())>) {
      call();
      return {};
    } else {
      return call();
    }
  } catch (const sdbus::Error& e) {
    return errorFromBus(e, callTimeout);
  }
}

}  // namespace

ExitCode exitCodeFor(const Error& error) {
  switch (error.code) {
    case kGuardUnreachable:
      return ExitCode::GuardUnreachable;
    case kNoSuchWorkspace:
      return ExitCode::NoSuchWorkspace;
    default:
      return ExitCode::Failure;
  }
}

Guard::Guard() = default;
Guard::~Guard() = default;

void Guard::limitCallsTo(std::chrono::milliseconds timeout) {
  callTimeout_ = timeout;
  if (connection_) connection_->setMethodCallTimeout(callTimeout_);
}

Result<sdbus::IConnection*> Guard::connection() {
  if (connection_) return connection_.get();
  try {
    // The user bus: DBUS_SESSION_BUS_ADDRESS, else $XDG_RUNTIME_DIR/bus (sd_bus_open_user).
    connection_ = sdbus::createSessionBusConnection();
    connection_->setMethodCallTimeout(callTimeout_);
  } catch (const sdbus::Error& e) {
    connection_.reset();
    return failure(kGuardUnreachable,
                   "cannot connect to the user bus (" + e.getMessage() +
                       "): check that the user session's dbus runs (DBUS_SESSION_BUS_ADDRESS, "
                       "XDG_RUNTIME_DIR), then start the guard with `systemctl --user start "
                       "wslgo-guard`");
  }
  return connection_.get();
}

Result<std::string> Guard::status() {
  auto bus = connection();
  if (!bus) return bus.error();
  return attempt(callTimeout_, [&] { return ManagerProxy(**bus).GetStatus(); });
}

Result<std::string> Guard::version() {
  auto bus = connection();
  if (!bus) return bus.error();
  return attempt(callTimeout_, [&] { return ManagerProxy(**bus).Version(); });
}

Result<void> Guard::reload() {
  auto bus = connection();
  if (!bus) return bus.error();
  return attempt(callTimeout_, [&] { ManagerProxy(**bus).Reload(); });
}

Result<bool> Guard::dryRun() {
  auto bus = connection();
  if (!bus) return bus.error();
  return attempt(callTimeout_, [&] { return ManagerProxy(**bus).DryRun(); });
}

Result<void> Guard::setDryRun(bool on) {
  auto bus = connection();
  if (!bus) return bus.error();
  return attempt(callTimeout_, [&] { ManagerProxy(**bus).DryRun(on); });
}

Result<WorkspaceRef> Guard::addWorkspace(const std::string& absolutePath) {
  auto bus = connection();
  if (!bus) return bus.error();
  return attempt(callTimeout_, [&] {
    sdbus::ObjectPath object = ManagerProxy(**bus).AddWorkspace(absolutePath, {});
    return WorkspaceRef{.object = object, .path = WorkspaceProxy(**bus, object).Path()};
  });
}

Result<void> Guard::removeWorkspace(const std::string& path) {
  auto bus = connection();
  if (!bus) return bus.error();
  return attempt(callTimeout_, [&] { ManagerProxy(**bus).RemoveWorkspace(path); });
}

Result<WorkspaceRef> Guard::workspaceHolding(const std::string& path) {
  auto bus = connection();
  if (!bus) return bus.error();
  return attempt(callTimeout_, [&] {
    sdbus::ObjectPath object = ManagerProxy(**bus).GetWorkspace(path);
    return WorkspaceRef{.object = object, .path = WorkspaceProxy(**bus, object).Path()};
  });
}

Result<std::string> Guard::unit(const WorkspaceRef& workspace) {
  auto bus = connection();
  if (!bus) return bus.error();
  return attempt(callTimeout_, [&] { return WorkspaceProxy(**bus, workspace.object).Unit(); });
}

Result<GcOutcome> Guard::collectGarbage(const WorkspaceRef& workspace) {
  auto bus = connection();
  if (!bus) return bus.error();
  return attempt(callTimeout_, [&] {
    auto [before, after] = WorkspaceProxy(**bus, workspace.object).CollectGarbage();
    return GcOutcome{.before = before, .after = after};
  });
}

Result<uint64_t> Guard::trimCache(const WorkspaceRef& workspace) {
  auto bus = connection();
  if (!bus) return bus.error();
  return attempt(callTimeout_, [&] { return WorkspaceProxy(**bus, workspace.object).TrimCache(); });
}

Result<void> Guard::restart(const WorkspaceRef& workspace, const std::string& reason) {
  auto bus = connection();
  if (!bus) return bus.error();
  return attempt(callTimeout_, [&] { WorkspaceProxy(**bus, workspace.object).Restart(reason); });
}

Result<std::string> Guard::captureHeapProfile(const WorkspaceRef& workspace) {
  auto bus = connection();
  if (!bus) return bus.error();
  return attempt(callTimeout_,
                 [&] { return WorkspaceProxy(**bus, workspace.object).CaptureHeapProfile(); });
}

Result<std::vector<HistorySample>> Guard::history(const WorkspaceRef& workspace,
                                                  uint64_t sinceWallUsec) {
  auto bus = connection();
  if (!bus) return bus.error();
  return attempt(callTimeout_, [&] {
    std::vector<HistorySample> samples;
    for (const auto& sample : WorkspaceProxy(**bus, workspace.object).GetHistory(sinceWallUsec)) {
      samples.push_back(HistorySample{.usec = sample.get<0>(),
                                      .memoryCurrent = sample.get<1>(),
                                      .rss = sample.get<2>(),
                                      .heapInUse = sample.get<3>()});
    }
    return samples;
  });
}

}  // namespace wslgo::ctl
