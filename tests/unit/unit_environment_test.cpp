#include "lib/unit_environment.h"

#include <catch2/catch.hpp>

namespace wslgo {
namespace {

UnitEnvironment sample() {
  UnitEnvironment environment;
  environment.workspace = "/home/me/src/my \"app\"";
  environment.socket = "/run/user/1000/wslgo-guard/gopls-0123456789abcdef.sock";
  environment.debugServer = true;
  environment.gomemlimit = 3221225472;
  environment.env = {{"GOFLAGS", "-mod=mod"}, {"WSLGO_SOCKET", "/elsewhere"}};
  return environment;
}

TEST_CASE("the unit environment quotes values the way systemd reads them", "[unit_environment]") {
  auto text = renderUnitEnvironment(sample());
  REQUIRE(text.ok());
  CHECK_THAT(*text, Catch::Contains("WSLGO_WORKSPACE=\"/home/me/src/my \\\"app\\\"\"\n"));
  // Whether, never which port: the launcher picks one at every start.
  CHECK_THAT(*text, Catch::Contains("WSLGO_DEBUG_SERVER=\"1\"\n"));
  CHECK_THAT(*text, !Catch::Contains("127.0.0.1"));
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

TEST_CASE("the OOM score adjustment reaches the launcher as WSLGO_OOM_SCORE_ADJ and reads back",
          "[unit_environment]") {
  UnitEnvironment environment = sample();
  environment.oomScoreAdjust = -250;
  auto text = renderUnitEnvironment(environment);
  REQUIRE(text.ok());
  CHECK_THAT(*text, Catch::Contains("WSLGO_OOM_SCORE_ADJ=\"-250\"\n"));
  auto parsed = parseUnitEnvironment(*text);
  REQUIRE(parsed.ok());
  auto adjust = oomScoreAdjustFrom(*parsed);
  REQUIRE(adjust.ok());
  CHECK(*adjust == -250);
}

TEST_CASE("a file without WSLGO_OOM_SCORE_ADJ leaves gopls' OOM score as the unit set it",
          "[unit_environment]") {
  auto text = renderUnitEnvironment(sample());
  REQUIRE(text.ok());
  CHECK_THAT(*text, !Catch::Contains("WSLGO_OOM_SCORE_ADJ"));
  auto adjust = oomScoreAdjustFrom({{"GOMEMLIMIT", "1"}});
  REQUIRE(adjust.ok());
  CHECK_FALSE(adjust->has_value());
}

TEST_CASE("a WSLGO_OOM_SCORE_ADJ that is no number from -1000 to 1000 is an error naming it",
          "[unit_environment]") {
  for (const char* bad : {"", "500x", "1001", "-1001", "0.5", "high", " 5"}) {
    CAPTURE(bad);
    auto adjust = oomScoreAdjustFrom({{"WSLGO_OOM_SCORE_ADJ", bad}});
    REQUIRE_FALSE(adjust.ok());
    CHECK(adjust.error().path == "WSLGO_OOM_SCORE_ADJ");
    CHECK_THAT(adjust.error().describe(), Catch::Contains("-1000 to 1000"));
  }
  for (int good : {-1000, 0, 1000}) {
    auto adjust = oomScoreAdjustFrom({{"WSLGO_OOM_SCORE_ADJ", std::to_string(good)}});
    REQUIRE(adjust.ok());
    CHECK(*adjust == good);
  }
}

}  // namespace
}  // namespace wslgo

TEST_CASE("an environment file reads back to what was rendered, quotes and backslashes included") {
  wslgo::UnitEnvironment environment;
  environment.workspace = "/home/dev/src/my app";
  environment.socket = "/run/user/1000/wslgo-guard/gopls-0123456789abcdef.sock";
  environment.debugServer = false;
  environment.goplsPath = "/home/dev/go/bin/gopls";
  environment.gomemlimit = 1u << 30;
  environment.env = {{"GOFLAGS", R"(-tags="a b" -mod=mod\x)"}};
  environment.goplsArgs = {"-rpc.trace", "-logfile=/tmp/a \"b\".log"};
  auto text = wslgo::renderUnitEnvironment(environment);
  REQUIRE(text.ok());
  auto parsed = wslgo::parseUnitEnvironment(*text);
  REQUIRE(parsed.ok());
  CHECK(parsed->at("WSLGO_WORKSPACE") == environment.workspace);
  CHECK(parsed->at("WSLGO_SOCKET") == environment.socket);
  CHECK(parsed->at("WSLGO_DEBUG_SERVER") == "0");
  CHECK(parsed->at("WSLGO_GOPLS") == environment.goplsPath);
  CHECK(parsed->at("GOMEMLIMIT") == "1073741824");
  CHECK(parsed->at("GOFLAGS") == environment.env.at("GOFLAGS"));
  CHECK(parsed->at("WSLGO_GOPLS_ARGS") == R"(["-rpc.trace","-logfile=/tmp/a \"b\".log"])");
  CHECK(parsed->size() == 7);
}

TEST_CASE("an environment file line that is not KEY=VALUE is an error naming its line") {
  auto bad = wslgo::parseUnitEnvironment("# comment\n\nA=\"1\"\nnot a line\n");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().describe().find("line 4") != std::string::npos);
  auto open = wslgo::parseUnitEnvironment("A=\"unterminated\n");
  REQUIRE_FALSE(open.ok());
  CHECK(open.error().describe().find("no closing quote") != std::string::npos);
  auto plain = wslgo::parseUnitEnvironment("A=plain value\n");
  REQUIRE(plain.ok());
  CHECK(plain->at("A") == "plain value");
}

TEST_CASE("a workspace's environment file is named after its unit's instance") {
  auto file = wslgo::unitEnvironmentFile("/home/dev/.local/state/wslgo-guard", "/home/dev/my-app");
  REQUIRE(file.ok());
  CHECK(*file == "/home/dev/.local/state/wslgo-guard/units/home-dev-my\\x2dapp.env");
  CHECK_FALSE(wslgo::unitEnvironmentFile("/state", "relative/path").ok());
}
