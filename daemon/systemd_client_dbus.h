// SystemdClientDbus: SystemdClient over org.freedesktop.systemd1 on an sdbus-c++ connection.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <sdbus-c++/IConnection.h>
#include <sdbus-c++/IProxy.h>
#include <sdbus-c++/Message.h>

#include "daemon/dbus_properties.h"
#include "daemon/systemd_client.h"

namespace wslgo {

// Single-threaded: every call and every callback happen on the thread that processes the
// connection (the daemon's sd-event loop). Replies and signals arrive only while the owner
// processes the connection. Only create() calls synchronously (Subscribe), before the loop runs.
class SystemdClientDbus final : public SystemdClient {
 public:
  // One call's bound. StartUnit and LoadUnit answer at once on a healthy manager; the longest
  // chain behind one of the guard's own methods (AddWorkspace: LoadUnit, two GetAll, StartUnit)
  // then answers within 20 s, inside D-Bus' 25 s default, even when systemd answers none.
  static constexpr std::chrono::microseconds kDefaultCallTimeout = std::chrono::seconds(5);

  // Where an exception thrown by a caller's `done` goes (logged by the daemon); sd-bus' C
  // frames must not see it.
  using ErrorHook = std::function<void(std::string_view what)>;

  // Subscribes to the manager's signals; fails when nobody owns org.freedesktop.systemd1 on the
  // connection's bus (no `systemd --user`), naming that as the cause.
  static Result<std::unique_ptr<SystemdClientDbus>> create(
      sdbus::IConnection& connection, std::chrono::microseconds callTimeout = kDefaultCallTimeout,
      ErrorHook onError = {});

  SystemdClientDbus(const SystemdClientDbus&) = delete;
  SystemdClientDbus& operator=(const SystemdClientDbus&) = delete;
  ~SystemdClientDbus() override;

  void startUnit(const std::string& name, const std::string& mode,
                 SystemdDone<std::string> done) override;
  void stopUnit(const std::string& name, const std::string& mode,
                SystemdDone<std::string> done) override;
  void restartUnit(const std::string& name, const std::string& mode,
                   SystemdDone<std::string> done) override;
  void unitInfo(const std::string& name, SystemdDone<UnitInfo> done) override;
  void setResourceControls(const std::string& name, const ResourceControls& controls, bool runtime,
                           SystemdDone<void> done) override;
  void resetFailed(const std::string& name, SystemdDone<void> done) override;
  void listUnits(const std::vector<std::string>& states, const std::vector<std::string>& patterns,
                 SystemdDone<std::vector<ListedUnit>> done) override;
  void watchUnit(const std::string& name, SystemdDone<void> done) override;
  void unwatchUnit(const std::string& name) override;
  void onUnitChanged(UnitChangedHandler handler) override;
  void onJobRemoved(JobRemovedHandler handler) override;
  void onManagerReloaded(ManagerReloadedHandler handler) override;

 private:
  // A reply's arguments read into a result; may throw sdbus::Error on a reply of the wrong type.
  template <class T>
  using ReadReply = std::function<Result<T>(sdbus::MethodReply& reply)>;
  // A unit object's proxy, kept while sd-bus may still call back through it: sdbus-c++ touches
  // the proxy after a reply's callback returns, so it is never destroyed while one is pending.
  struct UnitProxy {
    std::unique_ptr<sdbus::IProxy> proxy;
    std::vector<sdbus::PendingAsyncCall> calls;
  };

  SystemdClientDbus(sdbus::IConnection& connection, std::chrono::microseconds callTimeout,
                    ErrorHook onError);

  Result<void> subscribe();
  void resubscribe();
  // Sends `call` on `proxy`; `done` gets `read(reply)` or the error, named by `subject` and
  // `what` ("StartUnit"). Returns the pending call, empty when it could not be sent.
  template <class T>
  sdbus::PendingAsyncCall send(sdbus::IProxy& proxy, sdbus::MethodCall& call,
                               const std::string& subject, const char* what, ReadReply<T> read,
                               SystemdDone<T> done);
  template <class T>
  void deliver(const SystemdDone<T>& done, Result<T> result);
  void loadUnit(const std::string& name, SystemdDone<std::string> done);
  void queueJob(const char* method, const std::string& name, const std::string& mode,
                SystemdDone<std::string> done);
  // The `wanted` properties of `interface` on the unit at `path` (GetAll, read in place).
  void getProperties(const std::string& name, const std::string& path, const char* interface,
                     std::span<const std::string_view> wanted, SystemdDone<PropertyValues> done);
  void readServiceProperties(UnitInfo info, SystemdDone<UnitInfo> done);
  void sweepUnitProxies();
  void handleJobRemoved(sdbus::Signal& signal);
  void handleReloading(sdbus::Signal& signal);
  void handleUnitPropertiesChanged(sdbus::Message& message);
  void reresolveWatchedUnits();

  sdbus::IConnection& connection_;
  uint64_t callTimeoutUsec_;
  ErrorHook onError_;
  std::unique_ptr<sdbus::IProxy> manager_;
  sdbus::Slot unitPropertiesMatch_;
  std::map<std::string, UnitProxy> unitProxies_;  // by object path
  // A watched unit whose LoadUnit has not answered yet has an empty path.
  std::map<std::string, std::string> watchedPathByName_;
  std::map<std::string, std::string> watchedNameByPath_;
  UnitChangedHandler unitChanged_;
  JobRemovedHandler jobRemoved_;
  ManagerReloadedHandler managerReloaded_;
};

}  // namespace wslgo
