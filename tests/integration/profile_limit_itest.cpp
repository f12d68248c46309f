// A heap profile larger than profiles.max_total: the store deletes it at once, so the guard must
// say so rather than return the path of a file that is gone.
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <string>

#include "tests/integration/support/guard_scenario.h"

namespace wslgo::test {

TEST_CASE("a profile over profiles.max_total is an error naming the setting, not a dead path",
          "[guard]") {
  WSLGO_START_SCENARIO(s);
  auto workspace = s.workspaceProxy(addWorkspace(s, s.home.makeModule("app")));
  // gopls' debug server answers once the heap is read.
  REQUIRE(waitUntil([&] { return workspaceProperty<uint64_t>(*workspace, "HeapInUse") > 0; }));
  s.home.writeUserConfig(R"({ "profiles": { "max_total": "1K" } })");
  REQUIRE(errorOf([&] { s.manager->callMethod("Reload").onInterface(kManager); }).empty());

  std::string file;
  std::string error = errorOf([&] {
    workspace->callMethod("CaptureHeapProfile")
        .onInterface(kWorkspace)
        .withTimeout(std::chrono::seconds(30))
        .storeResultsTo(file);
  });
  CHECK_THAT(error, Catch::Contains("profiles.max_total"));
  CHECK(file.empty());
  std::filesystem::path profiles = s.home.stateDir() + "/wslgo-guard/profiles";
  bool anyLeft = false;
  if (std::filesystem::exists(profiles)) {
    for (const auto& entry : std::filesystem::recursive_directory_iterator(profiles)) {
      anyLeft |= entry.is_regular_file();
    }
  }
  CHECK_FALSE(anyLeft);
  CHECK(s.guard->running());
}

}  // namespace wslgo::test
