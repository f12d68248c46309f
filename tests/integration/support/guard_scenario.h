// GuardScenario: a private bus, the fake systemd1 running real gopls per unit, the real
// wslgo-guard, and a client recording the guard's signals: what the bus-level tests drive.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <sdbus-c++/sdbus-c++.h>

#include "tests/integration/support/fake_systemd.h"
#include "tests/integration/support/gopls_daemon.h"
#include "tests/integration/support/guard_daemon.h"
#include "tests/integration/support/private_bus.h"
#include "tests/integration/support/tree_snapshot.h"
#include "tests/unit/live.h"

namespace wslgo::test {

inline constexpr const char* kBusName = "org.wslgo.Guard1";
inline constexpr const char* kManagerPath = "/org/wslgo/Guard1";
inline constexpr const char* kManager = "org.wslgo.Guard1.Manager";
inline constexpr const char* kWorkspace = "org.wslgo.Guard1.Workspace";

// Fast enough for tests: the guard samples every 200 ms and reads heap figures every second.
inline constexpr const char* kFastConfig = R"({
  "guard": { "sample_interval": "200ms", "fast_sample_interval": "100ms", "heap_interval": "1s" }
})";

// `text` as one sh word (lib/shell_word.h: quoted where it needs to be).
std::string shellQuoted(const std::string& text);

// What the tests' gopls reports as its version: "v0.23.0", or "master" for Debian 12's build of
// the 0.5.0 line; "" when it does not run.
std::string goplsVersion();

// `export NAME='value' ...;` of the home's environment(), for the fake's unit commands.
std::string exportHomeEnvironment(const GuardHome& home);

// The fake's command for each unit: the tests' gopls (GoplsDaemon::binary()) in the guard's
// environment, on the socket and debug address the guard chose. gopls leaves its socket behind
// when stopped; like the unit's launcher, remove a stale one.
std::string goplsUnitCommand(const GuardHome& home);

bool waitUntil(const std::function<bool()>& condition,
               std::chrono::milliseconds timeout = std::chrono::seconds(30));

// Everything one scenario needs, started in order and stopped in reverse.
struct Scenario {
  GuardHome home;
  PrivateBus bus;
  std::unique_ptr<FakeSystemd> systemd;
  std::unique_ptr<GuardDaemon> guard;
  std::unique_ptr<sdbus::IConnection> client;
  std::unique_ptr<sdbus::IProxy> manager;

  std::mutex mutex;
  // In arrival order: "WorkspaceAdded <path>", "ActionTaken gc done <reason>",
  // "ThresholdCrossed warning rss", "ConfigReloaded false <message>", ...
  std::vector<std::string> events;

  explicit Scenario(PrivateBus started) : bus(std::move(started)) {}
  ~Scenario();

  // Starts the fake (running real gopls) and the guard with `config` as the user config.
  void start(const std::string& config, bool realCgroups = false);
  void connectClient();

  void record(std::string event);
  bool sawEvent(const std::string& prefix);
  std::vector<std::string> eventsStartingWith(const std::string& prefix);

  // A proxy on a workspace object that records its ActionTaken and ThresholdCrossed signals.
  std::unique_ptr<sdbus::IProxy> workspaceProxy(const sdbus::ObjectPath& path);
};

// Skips (fails under CI=true) when the tests' gopls is missing, naming it.
#define WSLGO_SKIP_WITHOUT_GOPLS()                                            \
  if (!::wslgo::test::GoplsDaemon::toolFound())                               \
  WSLGO_SKIP_LIVE_TEST("no gopls at " << ::wslgo::test::GoplsDaemon::binary() \
                                      << " (WSLGO_TEST_GOPLS; scripts/install-deps installs it)")

// Starts a scenario; skips (fails under CI=true) when gopls is missing.
#define WSLGO_START_SCENARIO_WITH(var, config, realCgroups) \
  WSLGO_SKIP_WITHOUT_GOPLS();                               \
  WSLGO_START_PRIVATE_BUS(var##Bus);                        \
  ::wslgo::test::Scenario var(std::move(var##Bus));         \
  var.start(config, realCgroups)

#define WSLGO_START_SCENARIO(var) WSLGO_START_SCENARIO_WITH(var, ::wslgo::test::kFastConfig, false)

template <class T>
T managerProperty(Scenario& s, const std::string& name) {
  sdbus::Variant value = s.manager->getProperty(name).onInterface(kManager);
  return value.get<T>();
}

template <class T>
T workspaceProperty(sdbus::IProxy& proxy, const std::string& name) {
  sdbus::Variant value = proxy.getProperty(name).onInterface(kWorkspace);
  return value.get<T>();
}

sdbus::ObjectPath addWorkspace(Scenario& s, const std::string& path,
                               std::map<std::string, sdbus::Variant> options = {});

// The error name and message a call fails with, or "" when it succeeds.
std::string errorOf(const std::function<void()>& call);

std::string readFile(const std::string& path);

// The scenario's home except what the guard, its gopls and the harness write there: the guard's
// state and runtime directories, gopls' file cache and Go's build cache (both under ~/.cache),
// Go's telemetry counters (~/.config/go, which gopls updates), the guard's logs (guard-*.log).
// What a fault must leave as it was.
TreeSnapshot homeOutsideGuard(const GuardHome& home);

}  // namespace wslgo::test
