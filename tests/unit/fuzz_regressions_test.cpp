// The inputs the fuzzers (fuzz/) found to crash a parser or break its contract, each fed to the
// parser it broke: tests/fixtures/fuzz-regressions/<target>/ (see its README.md).
#include <catch2/catch.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include "lib/cgroup_hierarchy.h"
#include "lib/http_response.h"
#include "lib/mountinfo.h"
#include "lib/process.h"
#include "tests/unit/fixtures.h"

namespace wslgo {
namespace {

// Every input found for `target`, so an input added to the directory is tested at once.
std::vector<std::string> regressionInputs(const std::string& target) {
  std::vector<std::string> names;
  for (const auto& entry :
       std::filesystem::directory_iterator(test::fixturePath("fuzz-regressions/" + target))) {
    if (entry.is_regular_file()) names.push_back(entry.path().filename().string());
  }
  REQUIRE(!names.empty());
  return names;
}

TEST_CASE("mountinfo lines with an empty root, mount point or filesystem type are refused",
          "[fuzz][mountinfo]") {
  for (const std::string& name : regressionInputs("mountinfo")) {
    INFO(name);
    std::string text = test::readFixture("fuzz-regressions/mountinfo/" + name);
    auto mounts = parseMountinfo(text);
    REQUIRE_FALSE(mounts.ok());
    CHECK_THAT(mounts.error().message, Catch::Contains("line 1: ") && Catch::Contains("empty"));
    // The cgroup layout is read from the same lines: no cgroup2 mount at "" is taken for real.
    CHECK_FALSE(parseCgroupMounts(text).ok());
  }
}

TEST_CASE("a status file with a negative Pid or PPid is refused, naming the line",
          "[fuzz][process]") {
  for (const std::string& name : regressionInputs("process_status")) {
    INFO(name);
    auto status = parseProcessStatus(test::readFixture("fuzz-regressions/process_status/" + name));
    REQUIRE_FALSE(status.ok());
    CHECK_THAT(status.error().message, Catch::Contains("expected a number"));
  }
}

TEST_CASE("a pid list with a negative pid is still refused", "[fuzz][process]") {
  CHECK_FALSE(parsePidList("4242\n-2\n").ok());
  CHECK_FALSE(parsePidList("-0\n").ok());
}

// The fixtures are fuzzer inputs: their first byte is the harness' control byte (how to cut the
// rest into pieces), not part of the response.
TEST_CASE("a 64 KiB read of back-to-back interim answers parses to the answer after them",
          "[fuzz][http]") {
  for (const std::string& name : regressionInputs("http_response")) {
    INFO(name);
    std::string input = test::readFixture("fuzz-regressions/http_response/" + name);
    HttpResponseParser parser;
    std::string body;
    REQUIRE(parser.feed(std::string_view(input).substr(1), body).ok());
    CHECK(parser.complete());
    CHECK(parser.head().status == 200);
    CHECK(body == "ok");
  }
}

TEST_CASE("100,000 interim answers in one piece parse in one pass, not one copy each",
          "[fuzz][http]") {
  // Each interim answer used to recurse with a copy of the rest: this input took over 2 GiB and
  // 100,000 stack frames.
  std::string wire;
  for (int i = 0; i < 100'000; ++i) wire += "HTTP/1.1 100\n\n";
  wire += "HTTP/1.1 200 OK\nContent-Length: 2\n\nok";
  HttpResponseParser parser;
  std::string body;
  REQUIRE(parser.feed(wire, body).ok());
  CHECK(parser.complete());
  CHECK(body == "ok");
}

TEST_CASE("a head spread over pieces is still held to the header limit", "[fuzz][http]") {
  // The head is no longer gathered whole before the limit is checked; it must still be checked.
  HttpResponseParser parser({.maxHeaderBytes = 32, .maxBodyBytes = 1024});
  std::string body;
  REQUIRE(parser.feed("HTTP/1.1 200 OK\n", body).ok());
  auto over = parser.feed("X-Padding: " + std::string(64, 'x') + "\n\nbody", body);
  REQUIRE_FALSE(over.ok());
  CHECK(over.error().code == EBADMSG);
}

}  // namespace
}  // namespace wslgo
