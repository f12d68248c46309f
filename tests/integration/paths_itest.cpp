// Paths a hostile or careless caller gives the guard over the bus: relative ones (resolved
// against the guard's working directory, "." once removed the workspace at /), the root and the
// kernel's trees. Each is refused by every method that takes a path, and nothing changes.
#include <catch2/catch.hpp>
#include <filesystem>
#include <string>

#include "tests/integration/support/guard_scenario.h"

namespace wslgo::test {
namespace {

constexpr const char* kInvalid = "org.wslgo.Guard1.Error.InvalidArgument";

std::string callWithPath(Scenario& s, const char* method, const std::string& path) {
  return errorOf([&] {
    if (std::string(method) == "AddWorkspace") {
      s.manager->callMethod(method).onInterface(kManager).withArguments(
          path, std::map<std::string, sdbus::Variant>{{"allow_non_module", sdbus::Variant(true)}});
    } else {
      s.manager->callMethod(method).onInterface(kManager).withArguments(path);
    }
  });
}

}  // namespace

TEST_CASE("relative paths are refused by every method, and '.' removes nothing", "[guard]") {
  WSLGO_START_SCENARIO(s);
  std::string module = s.home.makeModule("app");
  addWorkspace(s, module);
  for (const char* method : {"AddWorkspace", "RemoveWorkspace", "GetWorkspace", "AttachEditor"}) {
    for (const std::string& path :
         {std::string("."), std::string("src/app"), std::string("../") + module}) {
      INFO(method << "(" << path << ")");
      CHECK_THAT(callWithPath(s, method, path),
                 Catch::StartsWith(kInvalid) && Catch::Contains("absolute"));
    }
  }
  // The workspace is still there, and still the only one.
  CHECK(errorOf([&] {
          s.manager->callMethod("GetWorkspace").onInterface(kManager).withArguments(module);
        }).empty());
  CHECK(managerProperty<std::vector<sdbus::ObjectPath>>(s, "Workspaces").size() == 1);
  CHECK(s.guard->running());
}

TEST_CASE("/ and the kernel's trees are refused as workspaces even with allow_non_module",
          "[guard]") {
  WSLGO_START_SCENARIO(s);
  for (const char* path : {"/", "/proc", "/sys/fs/cgroup", "/dev"}) {
    INFO(path);
    CHECK_THAT(callWithPath(s, "AddWorkspace", path),
               Catch::StartsWith(kInvalid) && Catch::Contains("system directory"));
  }
  CHECK(managerProperty<std::vector<sdbus::ObjectPath>>(s, "Workspaces").empty());
  CHECK(s.guard->running());
}

}  // namespace wslgo::test
