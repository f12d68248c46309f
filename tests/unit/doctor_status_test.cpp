#include <catch2/catch.hpp>

#include "lib/doctor_status.h"
#include "tests/unit/fixtures.h"

namespace wslgo {

TEST_CASE("doctor: GetStatus of a healthy pure v2 workspace parses into its controls and gopls",
          "[doctor]") {
  auto status = parseGuardStatus(test::readFixture("doctor/status/healthy-v2.json"));
  REQUIRE(status);
  CHECK(status->version == "0.1.0");
  REQUIRE(status->workspaces.size() == 1);
  const StatusWorkspace& w = status->workspaces[0];
  CHECK(w.path == "/home/me/src/app");
  CHECK(w.socket == "/run/user/1000/wslgo-guard/gopls-90c94e57ccdfa240.sock");
  CHECK(w.debugAddress == "127.0.0.1:41234");
  CHECK(w.memorySource == "cgroup-v2");
  CHECK(w.gomemlimit == 6824527564U);
  REQUIRE(w.controls.size() == 4);
  CHECK(w.controls[0].name == "memory_high");
  CHECK_FALSE(w.controls[0].value);
  CHECK(w.controls[1].value == 8589934592U);
  CHECK(w.controls[1].enforced);
  REQUIRE(w.gopls);
  CHECK(w.gopls->version == "v0.23.0");
  CHECK(w.gopls->memStats == true);
  CHECK(w.rungs.size() == 3);
}

TEST_CASE("doctor: GetStatus with null gomemlimit and file cache reads them as absent",
          "[doctor]") {
  auto status = parseGuardStatus(test::readFixture("doctor/status/mnt-c-hybrid-master.json"));
  REQUIRE(status);
  const StatusWorkspace& w = status->workspaces.at(0);
  CHECK_FALSE(w.gomemlimit);
  REQUIRE(w.gopls);
  CHECK(w.gopls->fileCache.empty());
  CHECK(w.gopls->memStats == false);
}

TEST_CASE("doctor: GetStatus that is not JSON, of another schema or missing a field says so",
          "[doctor]") {
  auto garbage = parseGuardStatus("not json");
  REQUIRE_FALSE(garbage);
  CHECK_THAT(garbage.error().describe(), Catch::Contains("valid JSON"));
  auto schema = parseGuardStatus(R"({"schema_version": 2, "workspaces": []})");
  REQUIRE_FALSE(schema);
  CHECK_THAT(schema.error().describe(), Catch::Contains("/schema_version"));
  auto socketless = parseGuardStatus(R"({"schema_version": 1, "workspaces": [{"path": "/a"}]})");
  REQUIRE_FALSE(socketless);
  CHECK_THAT(socketless.error().describe(), Catch::Contains("/workspaces/0/socket"));
}

TEST_CASE("the lenient reader lists every root GetStatus names, whatever else is wrong",
          "[doctor][ctl]") {
  CHECK(workspaceRootsIn("not json").empty());
  CHECK(workspaceRootsIn("[]").empty());
  CHECK(workspaceRootsIn(R"({"workspaces": {}})").empty());
  // The strict reader refuses this one (no socket, a schema from the future); completion and
  // watch still get both roots, and skip the entry without a path.
  const std::string odd =
      R"({"schema_version": 9, "workspaces": [{"path": "/a"}, {"state": "ok"}, 7, {"path": "/b c"}]})";
  CHECK_FALSE(parseGuardStatus(odd).ok());
  CHECK(workspaceRootsIn(odd) == std::vector<std::string>{"/a", "/b c"});
}

}  // namespace wslgo
