#include <catch2/catch.hpp>

#include "lib/gopls_build.h"
#include "lib/heap_stats.h"
#include "tests/unit/fixtures.h"

namespace wslgo {

TEST_CASE("the /info page of Debian's gopls names version master and its Go", "[gopls_build]") {
  auto build = parseGoplsInfoPage(test::readFixture("gopls-debug/info-0.5.0.html"));
  REQUIRE(build);
  CHECK(build->version == "master");
  CHECK(build->goVersion == "go1.19.5");
}

TEST_CASE("the /info page of gopls v0.23.0 names its release, not a dependency's",
          "[gopls_build]") {
  auto build = parseGoplsInfoPage(test::readFixture("gopls-debug/info-v0.23.0.html"));
  REQUIRE(build);
  CHECK(build->version == "v0.23.0");
  CHECK(build->goVersion == "go1.26.8");
}

TEST_CASE("a page without a gopls build block is an error that says so", "[gopls_build]") {
  auto build = parseGoplsInfoPage("<html><body>Main page</body></html>");
  REQUIRE_FALSE(build);
  CHECK_THAT(build.error().describe(), Catch::Contains("not a gopls /info page"));
  auto empty = parseGoplsInfoPage("<h3>Build info</h3>\n<pre>\n</pre>\n");
  REQUIRE_FALSE(empty);
  CHECK_THAT(empty.error().describe(), Catch::Contains("names no golang.org/x/tools/gopls"));
}

TEST_CASE("only releases parse as versions; master and devel builds do not", "[gopls_build]") {
  CHECK(parseGoplsRelease("v0.23.0") == GoplsRelease{0, 23, 0});
  CHECK(parseGoplsRelease("v0.12.0-pre.1") == GoplsRelease{0, 12, 0});
  CHECK(parseGoplsRelease("v1.2.3+incompatible") == GoplsRelease{1, 2, 3});
  CHECK_FALSE(parseGoplsRelease("master"));
  CHECK_FALSE(parseGoplsRelease("(devel)"));
  CHECK_FALSE(parseGoplsRelease("v0.23"));
  CHECK_FALSE(parseGoplsRelease("v0.23.0x"));
  CHECK_FALSE(parseGoplsRelease("v99999999999999999999.0.0"));
}

TEST_CASE("the file cache came with v0.12.0; a build that is no release is unknown",
          "[gopls_build]") {
  CHECK(releaseHasFileCache("v0.23.0") == true);
  CHECK(releaseHasFileCache("v0.12.0") == true);
  CHECK(releaseHasFileCache("v0.11.0") == false);
  CHECK_FALSE(releaseHasFileCache("master").has_value());
}

TEST_CASE("the heap figures of gopls v0.23.0 parse like those of 0.5.0", "[gopls_build]") {
  auto stats = parsePprofHeapDebug1(test::readFixture("gopls-debug/pprof-heap-debug1-v0.23.0.txt"));
  REQUIRE(stats);
  CHECK(stats->heapInuse > 0);
  CHECK(stats->numGC > 0);
}

}  // namespace wslgo
