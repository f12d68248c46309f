// The guard killed with SIGKILL while it saves its state (issue 13's fault list): the state file
// is always the old or the new registry, never torn, and the next guard starts from it without
// setting it aside as corrupt. Nothing outside the guard's own directories changes.
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "lib/workspace_registry.h"
#include "tests/integration/support/guard_scenario.h"

namespace wslgo::test {

TEST_CASE("a guard killed while saving its state leaves the old or the new file, never a torn one",
          "[guard][abuse]") {
  WSLGO_START_SCENARIO(s);
  std::vector<std::string> modules;
  for (int i = 0; i < 4; ++i) modules.push_back(s.home.makeModule("m" + std::to_string(i)));
  const std::string statePath = s.home.stateDir() + "/wslgo-guard/state.json";
  const TreeSnapshot outside = homeOutsideGuard(s.home);
  std::mt19937 random(20261130);
  constexpr int kRounds = 12;
  int savedBeforeKill = 0;

  for (int round = 0; round < kRounds; ++round) {
    INFO("round " << round);
    // Adds and removes back to back on a connection of its own: every answer follows a save.
    std::atomic<bool> stop{false};
    std::atomic<int> calls{0};
    std::thread churn([&] {
      auto connection = s.bus.connect();
      auto manager = sdbus::createProxy(*connection, kBusName, kManagerPath);
      for (size_t i = 0; !stop; ++i) {
        const std::string& module = modules[i % modules.size()];
        try {
          sdbus::ObjectPath object;
          manager->callMethod("AddWorkspace")
              .onInterface(kManager)
              .withArguments(module, std::map<std::string, sdbus::Variant>{})
              .storeResultsTo(object);
          ++calls;
        } catch (const sdbus::Error&) {  // already guarded, or the guard is gone: go on
        }
        try {
          manager->callMethod("RemoveWorkspace").onInterface(kManager).withArguments(module);
          ++calls;
        } catch (const sdbus::Error&) {
        }
      }
    });
    std::this_thread::sleep_for(
        std::chrono::milliseconds(std::uniform_int_distribution<int>(50, 400)(random)));
    s.guard->kill();
    stop = true;
    churn.join();
    if (calls > 0) ++savedBeforeKill;

    if (std::filesystem::exists(statePath)) {
      auto registry = parseRegistry(readFile(statePath));
      CHECK(registry.ok());
    }
    auto again = GuardDaemon::start(s.bus, s.home);
    REQUIRE(again.ok());
    s.guard = std::move(*again);
    CHECK_FALSE(std::filesystem::exists(statePath + ".bad"));
    CHECK_THAT(s.guard->log(), !Catch::Contains("corrupt"));
  }
  // The kills landed among saves, not before the first one.
  CHECK(savedBeforeKill >= kRounds / 2);
  CHECK(treeChanges(outside, homeOutsideGuard(s.home)) == "");
}

}  // namespace wslgo::test
