#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "lib/doctor_render.h"

namespace wslgo {
namespace {

std::vector<DoctorCheck> sample() {
  return {{.name = "wsl", .workspace = {}, .verdict = Verdict::Pass, .message = "WSL 2", .fix = {}},
          {.name = "swap",
           .workspace = {},
           .verdict = Verdict::Warn,
           .message = "no swap",
           .fix = "set swap="},
          {.name = "debug-port",
           .workspace = "/home/me/src/app",
           .verdict = Verdict::Fail,
           .message = "beyond loopback",
           .fix = "turn it off"}};
}

}  // namespace

TEST_CASE("doctor: the text puts a fix under each warning and failure and sums them up",
          "[doctor]") {
  const std::string text = renderDoctorText(sample(), /*colour=*/false);
  CHECK(text ==
        "PASS  wsl: WSL 2\n"
        "WARN  swap: no swap\n"
        "      fix: set swap=\n"
        "FAIL  debug-port (/home/me/src/app): beyond loopback\n"
        "      fix: turn it off\n"
        "\n1 passed, 1 warning(s), 1 failed\n");
  CHECK_THAT(renderDoctorText(sample(), /*colour=*/true), Catch::Contains("\033[31mFAIL\033[0m"));
}

TEST_CASE("doctor: a check not made here is SKIP, counted apart, with no fix", "[doctor]") {
  std::vector<DoctorCheck> checks = sample();
  checks.push_back({.name = "clock",
                    .workspace = {},
                    .verdict = Verdict::Skip,
                    .message = "not checked: no RTC"});
  const std::string text = renderDoctorText(checks, /*colour=*/false);
  CHECK_THAT(text, Catch::Contains("SKIP  clock: not checked: no RTC\n"));
  CHECK_THAT(text, Catch::EndsWith("1 passed, 1 warning(s), 1 failed, 1 not checked\n"));
  auto json = nlohmann::json::parse(renderDoctorJson(checks));
  CHECK(json["checks"][3]["verdict"] == "skip");
  CHECK(json["summary"]["skip"] == 1);
  CHECK(json["summary"]["pass"] == 1);
  CHECK_FALSE(anyFailed({checks.back()}));
}

TEST_CASE("doctor: the JSON lists every check with null for what does not apply", "[doctor]") {
  auto json = nlohmann::json::parse(renderDoctorJson(sample()));
  REQUIRE(json["checks"].size() == 3);
  CHECK(json["checks"][0]["verdict"] == "pass");
  CHECK(json["checks"][0]["fix"].is_null());
  CHECK(json["checks"][0]["workspace"].is_null());
  CHECK(json["checks"][2]["workspace"] == "/home/me/src/app");
  CHECK(json["summary"]["fail"] == 1);
}

}  // namespace wslgo
