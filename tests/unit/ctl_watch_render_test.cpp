#include <catch2/catch.hpp>

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "lib/ctl_watch_render.h"
#include "lib/doctor_status.h"

using namespace wslgo;

namespace {

constexpr uint64_t kNow = 1764500180000000;  // the fixture's "now" (tests/fixtures/ctl/README.md)
constexpr uint64_t kGiB = uint64_t{1} << 30;

std::string slurp(const std::string& name) {
  std::ifstream in(std::string(WSLGO_FIXTURES_DIR) + "/ctl/" + name, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

WatchView view80(int height) {
  return WatchView{.status = {.nowUsec = kNow, .colour = false, .width = 80},
                   .height = height,
                   .intervalSeconds = 1,
                   .spanMinutes = 5};
}

}  // namespace

TEST_CASE(
    "guardctl watch frames the fixture's status with a sparkline per workspace, scaled to its "
    "peak",
    "[ctl][watch]") {
  const std::vector<MemoryHistory> histories = {
      {.path = "/home/me/src/app", .memory = {kGiB, kGiB + kGiB / 4, kGiB + kGiB / 2, 2 * kGiB}},
      {.path = "/home/me/src/monorepo", .memory = std::vector<uint64_t>(50, 3 * kGiB)},
  };
  auto frame = renderWatchFrame(slurp("status.json"), histories, view80(200));
  INFO((frame.ok() ? std::string() : frame.error().describe()));
  REQUIRE(frame.ok());
  const std::string expected = "Every 1 s; q or Ctrl-C quits\n\n" + slurp("status.expected") +
                               "\nMemory, the last 5 min (from 0 to each workspace's peak)\n"
                               "  /home/me/src/app          " +
                               std::string(33, ' ') +
                               "▄▅▆█  peak 2.00 GiB\n"
                               "  /home/me/src/monorepo     " +
                               "█████████████████████████████████████  peak 3.00 GiB\n"
                               "  /home/me/src/new          no samples yet\n";
  CHECK(*frame == expected);
  CHECK(frame->find('\x1b') == std::string::npos);
}

TEST_CASE("guardctl watch cuts the frame to the terminal's rows", "[ctl][watch]") {
  auto frame = renderWatchFrame(slurp("status.json"), {}, view80(4));
  REQUIRE(frame.ok());
  CHECK(*frame ==
        "Every 1 s; q or Ctrl-C quits\n\nwslgo-guard 0.1.0: high, 3 workspaces\n"
        "System      MemAvailable 9.22 GiB of 23.54 GiB (39.2%), swap 1.00 GiB used of 8.00 GiB\n");
}

TEST_CASE("guardctl watch keeps the end of a long workspace path, after an ellipsis",
          "[ctl][watch]") {
  const std::string status =
      R"({"schema_version": 1, "version": "0.1.0", "state": "ok",
          "workspaces": [{"path": "/home/me/src/github.com/example/project"}]})";
  auto frame = renderWatchFrame(
      status, {{.path = "/home/me/src/github.com/example/project", .memory = {0, 512, 1024}}},
      view80(200));
  REQUIRE(frame.ok());
  CHECK_THAT(*frame, Catch::EndsWith("\n  …hub.com/example/project  " + std::string(37, ' ') +
                                     "▁▄█  peak 1 KiB\n"));
}

TEST_CASE("guardctl watch refuses what is not GetStatus' JSON, as status does", "[ctl][watch]") {
  CHECK_FALSE(renderWatchFrame("not json", {}, view80(24)).ok());
  CHECK(workspaceRootsIn(slurp("status.json")) ==
        std::vector<std::string>{"/home/me/src/app", "/home/me/src/monorepo", "/home/me/src/new"});
}
