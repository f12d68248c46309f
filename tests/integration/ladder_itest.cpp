// The policy ladder through the real daemon: real gopls over thresholds set low, the actions in
// order as ActionTaken signals, a crash loop read as "degraded", and calls made while the guard
// shuts down.
#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/support/guard_scenario.h"

namespace wslgo::test {
namespace {

using namespace std::chrono_literals;

// Every real gopls is far above 1 MiB of RSS: the workspace is at high from its first sample.
// No settle wait worth the name, so the ladder climbs within seconds; one restart at most.
constexpr const char* kLadderConfig = R"({
  "guard": { "sample_interval": "200ms", "fast_sample_interval": "100ms", "heap_interval": "1s" },
  "workspaces": { "default": {
    "rss": { "warning": "1M", "high": "2M", "critical": null, "sustain": "0s" },
    "growth": { "bytes_per_minute": null }
  } },
  "actions": {
    "settle": "1s",
    "gc": { "cooldown": "10m" },
    "trim": { "cooldown": "10m" },
    "restart": { "cooldown": "10m", "max_restarts": 3, "window": "30m" }
  }
})";

// Nothing over any line; systemd's restarts of a crashing unit are what is counted.
constexpr const char* kCrashConfig = R"({
  "guard": { "sample_interval": "200ms", "fast_sample_interval": "100ms", "heap_interval": "1s" },
  "actions": { "restart": { "max_restarts": 2, "window": "10m" } }
})";

// The action names of the ActionTaken signals so far, in order.
std::vector<std::string> actionsTaken(Scenario& s) {
  std::vector<std::string> out;
  for (const std::string& event : s.eventsStartingWith("ActionTaken ")) {
    out.push_back(event.substr(12, event.find(' ', 12) - 12));
  }
  return out;
}

// `gopls -remote` against the socket: the client an editor runs. True when it answers.
bool goplsServes(const std::string& socket, const std::string& file) {
  std::string command = "timeout 60 " + shellQuoted(GoplsDaemon::binary()) + " -remote='unix;" +
                        socket + "' check '" + file + "' >/dev/null 2>&1";
  return std::system(command.c_str()) == 0;
}

TEST_CASE(
    "the ladder runs GC, trim where it can work, and restart in order on a gopls over its "
    "limits",
    "[ladder][gopls-compat]") {
  WSLGO_START_SCENARIO_WITH(s, kLadderConfig, false);
  // Trim needs gopls' file cache or memory.reclaim, and the fake's units have no real cgroup. A
  // current gopls keeps a file cache (v0.12 on); Debian's (the 0.5.0 line, version "master") does
  // not, so the guard skips the rung and says so in the restart's reason.
  const bool trimCanWork = goplsVersion() != "master";
  const std::vector<std::string> ladder = trimCanWork
                                              ? std::vector<std::string>{"gc", "trim", "restart"}
                                              : std::vector<std::string>{"gc", "restart"};
  std::string module = s.home.makeModule("leaky");
  // A module cache as any Go developer has one: trim drops its page cache.
  const std::string modCache = s.home.home() + "/go/pkg/mod/cache/download/example.com/x/@v";
  std::filesystem::create_directories(modCache);
  std::ofstream(modCache + "/v1.0.0.zip") << std::string(1 << 20, 'x');
  auto workspace = s.workspaceProxy(addWorkspace(s, module));
  REQUIRE(waitUntil([&] { return workspaceProperty<uint32_t>(*workspace, "MainPID") > 0; }));
  const uint32_t firstPid = workspaceProperty<uint32_t>(*workspace, "MainPID");

  if (!waitUntil([&] { return actionsTaken(s).size() >= ladder.size(); }, 60s)) {
    FAIL("gopls " << goplsVersion() << " took " << actionsTaken(s).size() << " of " << ladder.size()
                  << " rungs; guard log:\n"
                  << s.guard->log());
  }
  const auto actions = actionsTaken(s);
  CHECK(std::vector<std::string>(actions.begin(), actions.begin() + ladder.size()) == ladder);
  if (!trimCanWork) {
    CHECK_FALSE(s.sawEvent("ActionTaken trim"));
    CHECK_THAT(s.eventsStartingWith("ActionTaken restart")[0], Catch::Contains("trim skipped"));
  }
  CHECK(s.sawEvent("ThresholdCrossed high rss"));
  for (const std::string& event : s.eventsStartingWith("ActionTaken ")) {
    INFO(event);
    CHECK(event.find(" done ") != std::string::npos);
  }
  // The level is announced before anything is done about it.
  {
    std::lock_guard<std::mutex> lock(s.mutex);
    auto crossed = std::find_if(s.events.begin(), s.events.end(), [](const std::string& e) {
      return e.rfind("ThresholdCrossed", 0) == 0;
    });
    auto firstAction = std::find_if(s.events.begin(), s.events.end(), [](const std::string& e) {
      return e.rfind("ActionTaken", 0) == 0;
    });
    CHECK(crossed < firstAction);
  }

  // The restart saved a heap profile first, and a new gopls serves the socket.
  std::vector<std::filesystem::path> profiles;
  for (const auto& entry :
       std::filesystem::recursive_directory_iterator(s.home.stateDir() + "/wslgo-guard/profiles")) {
    if (entry.is_regular_file()) profiles.push_back(entry.path());
  }
  REQUIRE(profiles.size() == 1);
  CHECK(profiles[0].extension() == ".gz");
  CHECK(readFile(profiles[0].string()).substr(0, 2) == "\x1f\x8b");

  const bool restarted = waitUntil([&] {
    uint32_t pid = workspaceProperty<uint32_t>(*workspace, "MainPID");
    return pid > 0 && pid != firstPid;
  });
  INFO("guard log:\n" << s.guard->log());
  REQUIRE(restarted);
  const std::string socket = workspaceProperty<std::string>(*workspace, "Socket");
  REQUIRE(waitUntil([&] { return std::filesystem::exists(socket); }));
  CHECK(goplsServes(socket, module + "/main.go"));
  CHECK(workspaceProperty<std::string>(*workspace, "LastAction") == "restart");

  // Each action is in the guard's log with its structured fields.
  const std::string log = s.guard->log();
  for (const std::string& action : ladder) {
    INFO(action);
    CHECK(log.find("ACTION=" + action) != std::string::npos);
  }
  CHECK(s.guard->running());
}

TEST_CASE("a unit that keeps crashing reads degraded and is not restarted by the guard",
          "[ladder]") {
  WSLGO_START_SCENARIO_WITH(s, kCrashConfig, false);
  std::string module = s.home.makeModule("crashy");
  sdbus::ObjectPath object = addWorkspace(s, module);
  auto workspace = s.workspaceProxy(object);
  std::string unit = workspaceProperty<std::string>(*workspace, "Unit");

  for (int crash = 1; crash <= 3; ++crash) {
    INFO("crash " << crash);
    REQUIRE(waitUntil([&] { return workspaceProperty<uint32_t>(*workspace, "MainPID") > 0; }));
    const uint32_t pid = workspaceProperty<uint32_t>(*workspace, "MainPID");
    REQUIRE(s.systemd->crashUnit(unit).ok());
    // systemd (the fake) restarts it; the guard sees the new process and the count.
    REQUIRE(waitUntil([&] {
      uint32_t now = workspaceProperty<uint32_t>(*workspace, "MainPID");
      return now > 0 && now != pid;
    }));
    CHECK(waitUntil([&] {
      return workspaceProperty<uint32_t>(*workspace, "Restarts") == static_cast<uint32_t>(crash);
    }));
  }
  CHECK(
      waitUntil([&] { return workspaceProperty<std::string>(*workspace, "State") == "degraded"; }));
  CHECK(actionsTaken(s).empty());  // the guard restarted nothing itself
  CHECK_THAT(s.guard->log(), Catch::Contains("crash"));
  CHECK(s.guard->running());
}

TEST_CASE("calls made while the guard shuts down end with an answer or an error, never a crash",
          "[ladder]") {
  WSLGO_START_SCENARIO(s);
  auto workspace = s.workspaceProxy(addWorkspace(s, s.home.makeModule("app")));
  REQUIRE(waitUntil([&] { return workspaceProperty<uint32_t>(*workspace, "MainPID") > 0; }));

  // Two clients call as fast as they can while SIGTERM arrives.
  std::atomic<bool> stop{false};
  std::atomic<int> answered{0};
  std::atomic<int> refused{0};
  std::vector<std::thread> callers;
  for (int i = 0; i < 2; ++i) {
    callers.emplace_back([&] {
      auto connection = s.bus.connect();
      auto proxy = sdbus::createProxy(*connection, kBusName, kManagerPath);
      while (!stop) {
        try {
          std::string status;
          proxy->callMethod("GetStatus")
              .onInterface(kManager)
              .withTimeout(5s)
              .storeResultsTo(status);
          ++answered;
        } catch (const sdbus::Error& e) {
          ++refused;  // NoReply or ServiceUnknown once the guard is gone: both are fine
          std::this_thread::sleep_for(10ms);
        }
      }
    });
  }
  REQUIRE(waitUntil([&] { return answered > 20; }));
  const auto stopAt = std::chrono::steady_clock::now();
  auto status = s.guard->stop();
  REQUIRE(waitUntil([&] { return refused > 0; }, 10s));
  stop = true;
  for (auto& caller : callers) caller.join();

  REQUIRE(status.ok());
  CHECK(WIFEXITED(*status));
  CHECK(WEXITSTATUS(*status) == 0);
  // No caller waited out its 5 s timeout: the guard's exit ends pending calls at once.
  CHECK(std::chrono::steady_clock::now() - stopAt < 5s);
  CHECK_THAT(s.guard->log(), !Catch::Contains("terminate called"));
}

}  // namespace
}  // namespace wslgo::test
