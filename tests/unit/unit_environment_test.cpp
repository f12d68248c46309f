#include "lib/unit_environment.h"

#include <catch2/catch.hpp>

namespace wslgo {
namespace {

UnitEnvironment sample() {
  UnitEnvironment environment;
  environment.workspace = "/home/me/src/my \"app\"";
  environment.socket = "/run/user/1000/wslgo-guard/gopls-0123456789abcdef.sock";
  environment.debugAddress = "127.0.0.1:41234";
  environment.gomemlimit = 3221225472;
  environment.env = {{"GOFLAGS", "-mod=mod"}, {"WSLGO_SOCKET", "/elsewhere"}};
  return environment;
}

TEST_CASE("the unit environment quotes values the way systemd reads them", "[unit_environment]") {
  auto text = renderUnitEnvironment(sample());
  REQUIRE(text.ok());
  CHECK_THAT(*text, Catch::Contains("WSLGO_WORKSPACE=\"/home/me/src/my \\\"app\\\"\"\n"));
  CHECK_THAT(*text, Catch::Contains("WSLGO_DEBUG_ADDRESS=\"127.0.0.1:41234\"\n"));
  CHECK_THAT(*text, Catch::Contains("GOMEMLIMIT=\"3221225472\"\n"));
  CHECK_THAT(*text, Catch::Contains("GOFLAGS=\"-mod=mod\"\n"));
}

TEST_CASE("the guard's own variables win over the config's env", "[unit_environment]") {
  auto text = renderUnitEnvironment(sample());
  REQUIRE(text.ok());
  CHECK_THAT(*text, Catch::Contains(
                        "WSLGO_SOCKET=\"/run/user/1000/wslgo-guard/gopls-0123456789abcdef.sock\""));
  CHECK_THAT(*text, !Catch::Contains("/elsewhere"));
}

TEST_CASE("bad env names and multi-line values are errors naming the key", "[unit_environment]") {
  UnitEnvironment badKey = sample();
  badKey.env = {{"GO FLAGS", "x"}};
  auto key = renderUnitEnvironment(badKey);
  REQUIRE_FALSE(key.ok());
  CHECK(key.error().path == "GO FLAGS");

  UnitEnvironment badValue = sample();
  badValue.env = {{"GOFLAGS", "-a\n-b"}};
  auto value = renderUnitEnvironment(badValue);
  REQUIRE_FALSE(value.ok());
  CHECK(value.error().path == "GOFLAGS");
  CHECK_THAT(value.error().message, Catch::Contains("single lines"));
}

TEST_CASE("GOMEMLIMIT is the configured one, else 90% of the high threshold",
          "[unit_environment]") {
  WorkspaceSettings settings;
  CHECK_FALSE(gomemlimitFor(settings).has_value());
  settings.memory.high = 1000.0 * 1024 * 1024;
  CHECK(gomemlimitFor(settings) == static_cast<uint64_t>(900.0 * 1024 * 1024));
  settings.gomemlimit = 123;
  CHECK(gomemlimitFor(settings) == 123u);
}

}  // namespace
}  // namespace wslgo
