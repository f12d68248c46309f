#include <catch2/catch.hpp>

#include "lib/rung_availability.h"

namespace wslgo {

TEST_CASE("on a hybrid host with Debian's gopls trim has nothing to do, and says why", "[rungs]") {
  auto available = rungAvailability(RungFacts{.debugServerAnswers = true,
                                              .reclaimAvailable = false,
                                              .fileCache = false,
                                              .goplsVersion = "master"});
  CHECK(available.rungs.gc);
  CHECK_FALSE(available.rungs.trim);
  CHECK(available.rungs.restart);
  CHECK(available.whyNot(ActionKind::Trim) ==
        "nothing to trim: no memory.reclaim for this unit (cgroup v1, or a kernel before 5.19) "
        "and gopls master keeps no file cache");
  CHECK(available.whyNot(ActionKind::Gc).empty());
}

TEST_CASE("memory.reclaim or a file cache each give trim something to do", "[rungs]") {
  CHECK(rungAvailability(RungFacts{.reclaimAvailable = true}).rungs.trim);
  CHECK(rungAvailability(RungFacts{.fileCache = true}).rungs.trim);
}

TEST_CASE("without an answering debug server there is no GC", "[rungs]") {
  auto available = rungAvailability(RungFacts{.debugServerAnswers = false, .fileCache = true});
  CHECK_FALSE(available.rungs.gc);
  CHECK_THAT(available.whyNot(ActionKind::Gc), Catch::Contains("does not answer"));
  CHECK(available.rungs.trim);
  CHECK(available.rungs.restart);
}

TEST_CASE("with gopls.debug_server off, GC is there exactly when gopls offers gopls.mem_stats",
          "[rungs]") {
  auto offered = rungAvailability(
      RungFacts{.debugServerAnswers = false, .debugServerOff = true, .memStats = true});
  CHECK(offered.rungs.gc);
  CHECK(offered.whyNot(ActionKind::Gc).empty());
  // Not known yet (gopls not asked): the engine does not act in the start-up grace anyway.
  CHECK(rungAvailability(RungFacts{.debugServerOff = true, .memStats = std::nullopt}).rungs.gc);
  auto old = rungAvailability(RungFacts{.debugServerAnswers = true,
                                        .debugServerOff = true,
                                        .memStats = false,
                                        .goplsVersion = "master"});
  CHECK_FALSE(old.rungs.gc);
  CHECK_THAT(old.whyNot(ActionKind::Gc), Catch::Contains("gopls.debug_server is false"));
  CHECK_THAT(old.whyNot(ActionKind::Gc), Catch::Contains("gopls master has no gopls.mem_stats"));
  CHECK(old.rungs.restart);
}

}  // namespace wslgo
