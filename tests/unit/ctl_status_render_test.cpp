#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "lib/ctl_status_render.h"

using namespace wslgo;

namespace {

constexpr uint64_t kNow = 1764500180000000;  // the fixture's "now" (tests/fixtures/ctl/README.md)

std::string fixture(const std::string& name) {
  return std::string(WSLGO_FIXTURES_DIR) + "/ctl/" + name;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

TEST_CASE("guardctl status renders the fixture's GetStatus to its golden text without colour",
          "[ctl]") {
  auto text = renderStatus(slurp(fixture("status.json")),
                           StatusView{.nowUsec = kNow, .colour = false, .width = 80});
  INFO((text.ok() ? std::string() : text.error().describe()));
  REQUIRE(text.ok());
  const std::string expectedPath = fixture("status.expected");
  if (std::getenv("WSLGO_UPDATE_GOLDEN") != nullptr) {
    std::ofstream(expectedPath, std::ios::binary) << *text;
    WARN("rewrote " << expectedPath);
  }
  INFO(
      "If the new layout is right, regenerate: WSLGO_UPDATE_GOLDEN=1 "
      "build/tests/wslgo_unit_tests '[ctl]', then read the diff.");
  CHECK(*text == slurp(expectedPath));
  CHECK(text->find('\x1b') == std::string::npos);
}

TEST_CASE("guardctl status with colour paints the levels and nothing else changes", "[ctl]") {
  const std::string json = slurp(fixture("status.json"));
  auto plain = renderStatus(json, StatusView{.nowUsec = kNow, .colour = false, .width = 80});
  auto coloured = renderStatus(json, StatusView{.nowUsec = kNow, .colour = true, .width = 80});
  REQUIRE(plain.ok());
  REQUIRE(coloured.ok());
  CHECK(coloured->find("\x1b[1;31mover-budget\x1b[0m") != std::string::npos);
  CHECK(coloured->find("\x1b[32mrunning\x1b[0m") != std::string::npos);
  // Without the escape sequences, the coloured text is the plain one.
  std::string stripped;
  for (size_t i = 0; i < coloured->size(); ++i) {
    if ((*coloured)[i] == '\x1b') {
      i = coloured->find('m', i);
      continue;
    }
    stripped += (*coloured)[i];
  }
  CHECK(stripped == *plain);
}

TEST_CASE("guardctl status bars grow with the terminal and stay within it", "[ctl]") {
  const std::string json = slurp(fixture("status.json"));
  for (int width : {40, 80, 120}) {
    auto text = renderStatus(json, StatusView{.nowUsec = kNow, .colour = false, .width = width});
    REQUIRE(text.ok());
    std::istringstream lines(*text);
    for (std::string line; std::getline(lines, line);) {
      if (line.find('[') == std::string::npos) continue;
      INFO("width " << width << ": " << line);
      CHECK(static_cast<int>(line.size()) <= std::max(width, 46));
    }
  }
}

TEST_CASE("guardctl status without workspaces says how to add one", "[ctl]") {
  auto text = renderStatus(
      R"({"schema_version": 1, "version": "0.1.0", "state": "ok", "workspaces": [],
          "memory": {"mem_total": 1073741824, "mem_available": 536870912,
                     "swap_total": 0, "swap_free": 0},
          "memory_pressure": {"some_avg10": 0.0}})",
      StatusView{.nowUsec = kNow, .colour = false, .width = 80});
  REQUIRE(text.ok());
  CHECK(*text ==
        "wslgo-guard 0.1.0: ok, 0 workspaces\n"
        "System      MemAvailable 512.0 MiB of 1.00 GiB (50.0%), no swap\n"
        "            memory PSI avg10 0.0%\n"
        "\n"
        "No workspace is guarded: add a Go module with `wslgo-guardctl add DIR`.\n");
}

TEST_CASE("guardctl status refuses what is not GetStatus' JSON, naming the schema it reads",
          "[ctl]") {
  StatusView view{.nowUsec = kNow, .colour = false, .width = 80};
  CHECK_FALSE(renderStatus("not json", view).ok());
  CHECK_FALSE(renderStatus("[1, 2]", view).ok());
  auto future = renderStatus(R"({"schema_version": 2})", view);
  REQUIRE_FALSE(future.ok());
  CHECK_THAT(future.error().describe(), Catch::Contains("schema_version 2"));
}

TEST_CASE("guardctl shows times of last actions read as how long ago they were", "[ctl]") {
  CHECK(describeAgo(0, kNow) == "never");
  CHECK(describeAgo(kNow, kNow) == "just now");
  CHECK(describeAgo(kNow + 5000000, kNow) == "just now");  // a clock a little ahead
  CHECK(describeAgo(kNow - 42000000, kNow) == "42 s ago");
  CHECK(describeAgo(kNow - 180000000, kNow) == "3 min ago");
  CHECK(describeAgo(kNow - 5 * 3600000000ULL, kNow) == "5 h ago");
  CHECK(describeAgo(kNow - 3 * 86400000000ULL, kNow) == "3 days ago");
}
