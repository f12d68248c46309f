// homeOutsideGuard, which the fault tests use to show that nothing outside the guard's own
// directories changed: it must see a change anywhere else, and none in what it leaves out.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "tests/integration/support/guard_scenario.h"

namespace wslgo::test {

TEST_CASE("the home outside the guard's directories shows every change there and only there",
          "[abuse]") {
  GuardHome home;
  const std::string module = home.makeModule("app");
  std::filesystem::create_directories(home.stateDir() + "/wslgo-guard");
  const TreeSnapshot before = homeOutsideGuard(home);
  REQUIRE(before.count("src/app/go.mod") == 1);

  // What the guard, gopls and the harness write is left out.
  std::ofstream(home.stateDir() + "/wslgo-guard/state.json") << "{}";
  std::filesystem::create_directories(home.home() + "/.cache/gopls/1");
  std::ofstream(home.home() + "/guard-1-2.log") << "log";
  CHECK(treeChanges(before, homeOutsideGuard(home)) == "");

  // Anything else is seen: a file added, one changed, one removed, a mode changed.
  std::ofstream(home.stateDir() + "/other.json") << "{}";
  std::ofstream(module + "/main.go", std::ios::app) << "// more\n";
  std::filesystem::remove(module + "/go.mod");
  std::filesystem::permissions(home.configDir(), std::filesystem::perms::owner_all);
  const std::string changes = treeChanges(before, homeOutsideGuard(home));
  CHECK_THAT(changes, Catch::Contains("added .local/state/other.json") &&
                          Catch::Contains("changed src/app/main.go") &&
                          Catch::Contains("removed src/app/go.mod") &&
                          Catch::Contains("changed .config ("));
}

}  // namespace wslgo::test
