// The guard's bus objects over a private dbus-daemon, in process, with a Manager on the daemon
// tests' fakes (GuardWorld) whose work can be made to run out of memory: sdbus-c++ 1.2 aborts
// the process when a handler throws anything but sdbus::Error, so std::bad_alloc must come back
// as an error reply, and the guard must go on answering.
#include <atomic>
#include <catch2/catch.hpp>
#include <map>
#include <memory>
#include <new>
#include <string>

#include <sdbus-c++/sdbus-c++.h>
#include <nlohmann/json.hpp>

#include "daemon/bus_errors.h"
#include "daemon/bus_service.h"
#include "tests/daemon/guard_world.h"
#include "tests/integration/support/private_bus.h"

namespace wslgo::test {
namespace {

constexpr const char* kGuardName = "org.wslgo.Guard1";
constexpr const char* kGuardPath = "/org/wslgo/Guard1";
constexpr const char* kManagerInterface = "org.wslgo.Guard1.Manager";

std::string addWorkspace(sdbus::IProxy& manager, const std::string& path) {
  sdbus::ObjectPath object;
  manager.callMethod("AddWorkspace")
      .onInterface(kManagerInterface)
      .withArguments(path, std::map<std::string, sdbus::Variant>{})
      .storeResultsTo(object);
  return object;
}

std::string statusOf(sdbus::IProxy& manager) {
  std::string status;
  manager.callMethod("GetStatus").onInterface(kManagerInterface).storeResultsTo(status);
  return status;
}

}  // namespace

TEST_CASE(
    "a bus method that runs out of memory answers Failed saying so, and the guard goes on "
    "answering",
    "[bus]") {
  WSLGO_START_PRIVATE_BUS(bus);
  GuardWorld world;
  // The bus's thread runs the manager here, and no fake loop turns to deliver answers.
  world.systemd.answerAtOnce();
  std::atomic<bool> outOfMemory{false};
  GoplsDebugFactory fleet = world.fleet.factory();
  auto made = Manager::create(ManagerServices{.scheduler = world.scheduler,
                                              .systemd = world.systemd,
                                              .wakeups = world.wakeups,
                                              .debugClientFor =
                                                  [&](const GoplsEndpoints& endpoints) {
                                                    if (outOfMemory) throw std::bad_alloc();
                                                    return fleet(endpoints);
                                                  }},
                              SysRoots{.proc = world.path() / "proc", .sys = world.path() / "sys"},
                              world.paths());
  REQUIRE(made);
  Manager& manager = **made;
  REQUIRE(manager.start());

  auto server = bus.connect();
  BusService service(*server, manager, [] { return false; });
  manager.setObserver(&service);
  service.requestName();
  // The handlers run on sdbus-c++'s thread; this thread only calls and waits for the answers.
  server->enterEventLoopAsync();
  auto client = bus.connect();
  auto proxy = sdbus::createProxy(*client, kGuardName, kGuardPath);

  const std::string module = world.module("app");
  outOfMemory = true;
  std::string name;
  std::string message;
  try {
    addWorkspace(*proxy, module);
  } catch (const sdbus::Error& e) {
    name = e.getName();
    message = e.getMessage();
  }
  CHECK(name == kErrorFailed);
  CHECK_THAT(message, Catch::StartsWith(module + ": the guard ran out of memory") &&
                          Catch::Contains("keeps running"));

  // Still answering, with nothing half-added.
  CHECK(nlohmann::json::parse(statusOf(*proxy))["workspaces"].empty());
  CHECK(proxy->getProperty("Version").onInterface(kManagerInterface).get<std::string>() ==
        WSLGO_VERSION);
  outOfMemory = false;
  CHECK_FALSE(addWorkspace(*proxy, module).empty());
  CHECK(nlohmann::json::parse(statusOf(*proxy))["workspaces"].size() == 1);

  server->leaveEventLoop();
  manager.setObserver(nullptr);
}

}  // namespace wslgo::test
