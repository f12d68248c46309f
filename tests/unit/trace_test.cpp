#include <catch2/catch.hpp>

#include <cerrno>
#include <string>

#include "lib/trace.h"

using namespace wslgo;

TEST_CASE("a snapshot line reads into the engine's snapshot") {
  auto line = parseTraceLine(
      R"({"type":"snapshot","t_us":12000000,)"
      R"("system":{"mem_total":12884901888,"mem_available":4000000000,"psi_some_avg10":1.25},)"
      R"("workspaces":[{"id":"/home/dev/app","memory_current":2000000000,"inactive_file":1000,)"
      R"("rss":1900000000,"heap_in_use":800000000,"unit":"activating","n_restarts":2,)"
      R"("in_flight":"gc"},{"id":"/home/dev/b"}]})");
  REQUIRE(line.ok());
  REQUIRE(line->kind == TraceLine::Kind::Snapshot);
  const Snapshot& s = line->snapshot;
  CHECK(s.now == Usec(12'000'000));
  CHECK(s.system.memTotal == 12884901888ull);
  CHECK(s.system.memAvailable == 4000000000ull);
  CHECK(s.system.pressureSomeAvg10 == 1.25);
  CHECK_FALSE(s.system.pressureFullAvg10.has_value());
  REQUIRE(s.workspaces.size() == 2);
  CHECK(s.workspaces[0].id == "/home/dev/app");
  CHECK(s.workspaces[0].memoryCurrent == 2000000000ull);
  CHECK(s.workspaces[0].inactiveFile == 1000u);
  CHECK(s.workspaces[0].rss == 1900000000ull);
  CHECK(s.workspaces[0].heapInUse == 800000000ull);
  CHECK(s.workspaces[0].unit == UnitState::Activating);
  CHECK(s.workspaces[0].nRestarts == 2);
  CHECK(s.workspaces[0].inFlight == ActionKind::Gc);
  // Absent figures stay unset; an absent unit state is active.
  CHECK_FALSE(s.workspaces[1].memoryCurrent.has_value());
  CHECK(s.workspaces[1].unit == UnitState::Active);
}

TEST_CASE("a snapshot written as a line reads back unchanged") {
  Snapshot s;
  s.now = Usec(1'234'567);
  s.system.memTotal = 17179869184ull;
  s.system.memAvailable = 1ull << 33;
  s.system.pressureFullAvg10 = 0.5;
  WorkspaceSnapshot w;
  w.id = "/home/dev/\"quoted\" ünïcode";
  w.memoryCurrent = UINT64_MAX;
  w.heapInUse = 0;
  w.unit = UnitState::Failed;
  w.nRestarts = 7;
  w.inFlight = ActionKind::Restart;
  s.workspaces.push_back(w);

  std::string text = serializeSnapshot(s);
  CHECK(text.find('\n') == std::string::npos);
  auto back = parseTraceLine(text);
  REQUIRE(back.ok());
  const Snapshot& r = back->snapshot;
  CHECK(r.now == s.now);
  CHECK(r.system.memTotal == s.system.memTotal);
  CHECK(r.system.memAvailable == s.system.memAvailable);
  CHECK(r.system.pressureFullAvg10 == 0.5);
  CHECK_FALSE(r.system.pressureSomeAvg10.has_value());
  REQUIRE(r.workspaces.size() == 1);
  CHECK(r.workspaces[0].id == w.id);
  CHECK(r.workspaces[0].memoryCurrent == UINT64_MAX);
  CHECK(r.workspaces[0].heapInUse == 0u);
  CHECK_FALSE(r.workspaces[0].rss.has_value());
  CHECK(r.workspaces[0].unit == UnitState::Failed);
  CHECK(r.workspaces[0].nRestarts == 7);
  CHECK(r.workspaces[0].inFlight == ActionKind::Restart);
  CHECK(serializeSnapshot(r) == text);
}

TEST_CASE("outcome and model lines read back from what was written") {
  ActionOutcome outcome{.workspace = "/w",
                        .action = ActionKind::Trim,
                        .before = 3000,
                        .after = 2000,
                        .success = false,
                        .at = Usec(5'000'000)};
  auto line = parseTraceLine(serializeOutcome(outcome));
  REQUIRE(line.ok());
  REQUIRE(line->kind == TraceLine::Kind::Outcome);
  CHECK(line->outcome.workspace == "/w");
  CHECK(line->outcome.action == ActionKind::Trim);
  CHECK(line->outcome.before == 3000);
  CHECK(line->outcome.after == 2000);
  CHECK_FALSE(line->outcome.success);
  CHECK(line->outcome.at == Usec(5'000'000));

  SimulationModel model{.gcFrees = 0.25, .trimFrees = 0.5, .restartTo = 1ull << 30};
  auto modelLine = parseTraceLine(serializeModel(model));
  REQUIRE(modelLine.ok());
  REQUIRE(modelLine->kind == TraceLine::Kind::Model);
  CHECK(modelLine->model.gcFrees == 0.25);
  CHECK(modelLine->model.trimFrees == 0.5);
  CHECK(modelLine->model.restartTo == (1ull << 30));
  CHECK_FALSE(modelLine->model.gcHeapFrees.has_value());
  CHECK_FALSE(modelLine->model.restartHeapTo.has_value());
}

TEST_CASE("rungs and when the process was first seen read into the workspace snapshot") {
  auto line = parseTraceLine(
      R"({"type":"snapshot","t_us":1,"workspaces":[)"
      R"({"id":"/a","rungs":{"gc":true,"trim":false,"restart":true},"process_since_us":500},)"
      R"({"id":"/b","rungs":{"restart":false}},{"id":"/c"}]})");
  REQUIRE(line.ok());
  const auto& w = line->snapshot.workspaces;
  REQUIRE(w.size() == 3);
  CHECK(w[0].rungs.gc);
  CHECK_FALSE(w[0].rungs.trim);
  CHECK(w[0].rungs.restart);
  CHECK(w[0].processSince == Usec(500));
  // A rung left out can work, as can every rung of a workspace without "rungs".
  CHECK(w[1].rungs.gc);
  CHECK(w[1].rungs.trim);
  CHECK_FALSE(w[1].rungs.restart);
  CHECK(w[2].rungs.gc);
  CHECK(w[2].rungs.trim);
  CHECK(w[2].rungs.restart);
  CHECK_FALSE(w[2].processSince.has_value());
}

TEST_CASE("rungs are written only when one cannot work, the first-seen time only when known") {
  Snapshot s;
  s.now = Usec(2'000'000);
  WorkspaceSnapshot all;
  all.id = "/all";
  WorkspaceSnapshot some;
  some.id = "/some";
  some.rungs = RungSet{.gc = false, .trim = false, .restart = true};
  some.processSince = Usec(1'500'000);
  s.workspaces = {all, some};

  std::string text = serializeSnapshot(s);
  CHECK(text.find(R"("rungs":{"gc":false,"restart":true,"trim":false})") != std::string::npos);
  CHECK(text.find(R"("process_since_us":1500000)") != std::string::npos);
  CHECK(text.find("rungs") == text.rfind("rungs"));  // only for /some
  CHECK(text.find("process_since_us") == text.rfind("process_since_us"));
  auto back = parseTraceLine(text);
  REQUIRE(back.ok());
  const auto& w = back->snapshot.workspaces;
  REQUIRE(w.size() == 2);
  CHECK(w[0].rungs.trim);
  CHECK_FALSE(w[0].processSince.has_value());
  CHECK_FALSE(w[1].rungs.gc);
  CHECK_FALSE(w[1].rungs.trim);
  CHECK(w[1].rungs.restart);
  CHECK(w[1].processSince == Usec(1'500'000));
  CHECK(serializeSnapshot(back->snapshot) == text);
}

TEST_CASE("a GC's heap before and after read back from what was written, and only when set") {
  ActionOutcome outcome{.workspace = "/w",
                        .action = ActionKind::Gc,
                        .before = 3000,
                        .after = 2900,
                        .heapBefore = 2000,
                        .heapAfter = 1200,
                        .at = Usec(7'000'000)};
  std::string text = serializeOutcome(outcome);
  auto line = parseTraceLine(text);
  REQUIRE(line.ok());
  CHECK(line->outcome.heapBefore == 2000u);
  CHECK(line->outcome.heapAfter == 1200u);
  CHECK(line->outcome.success);
  CHECK(serializeOutcome(line->outcome) == text);

  outcome.heapBefore.reset();
  outcome.heapAfter.reset();
  std::string plain = serializeOutcome(outcome);
  CHECK(plain.find("heap") == std::string::npos);
  auto without = parseTraceLine(plain);
  REQUIRE(without.ok());
  CHECK_FALSE(without->outcome.heapBefore.has_value());
  CHECK_FALSE(without->outcome.heapAfter.has_value());
}

TEST_CASE("a model's heap share and heap after a restart read back from what was written") {
  SimulationModel model{.gcFrees = 0.04,
                        .trimFrees = 0,
                        .restartTo = 1ull << 30,
                        .gcHeapFrees = 0.4,
                        .restartHeapTo = 200ull << 20};
  std::string text = serializeModel(model);
  auto line = parseTraceLine(text);
  REQUIRE(line.ok());
  REQUIRE(line->kind == TraceLine::Kind::Model);
  CHECK(line->model.gcFrees == 0.04);
  CHECK(line->model.gcHeapFrees == 0.4);
  CHECK(line->model.restartHeapTo == (200ull << 20));
  CHECK(serializeModel(line->model) == text);
  CHECK(serializeModel(SimulationModel{}).find("heap") == std::string::npos);
}

TEST_CASE("blank lines are skipped") {
  auto line = parseTraceLine("  \r");
  REQUIRE(line.ok());
  CHECK(line->kind == TraceLine::Kind::Blank);
}

TEST_CASE("malformed trace lines are errors that name the place, never exceptions") {
  struct Case {
    const char* line;
    const char* path;
  };
  auto c = GENERATE(
      Case{R"({"type":"snapshot","t_us":1,"workspaces":[{"id":"/w","memory_current":-1}]})",
           "/workspaces/0/memory_current"},
      Case{R"({"type":"snapshot","t_us":1,"workspaces":[{"id":"/w","rss":"big"}]})",
           "/workspaces/0/rss"},
      Case{R"({"type":"snapshot","t_us":1,"workspaces":[{"memory_current":1}]})",
           "/workspaces/0/id"},
      Case{R"({"type":"snapshot","t_us":1,"workspaces":[{"id":"/w","unit":"dancing"}]})",
           "/workspaces/0/unit"},
      Case{R"({"type":"snapshot","t_us":1,"workspaces":[{"id":"/w","in_flight":"reboot"}]})",
           "/workspaces/0/in_flight"},
      Case{R"({"type":"snapshot","t_us":1,"workspaces":{}})", "/workspaces"},
      Case{R"({"type":"snapshot","t_us":1,"system":{"psi_some_avg10":"high"}})",
           "/system/psi_some_avg10"},
      Case{R"({"type":"snapshot","t_us":99999999999999999999})", "/t_us"},
      Case{R"({"type":"snapshot","t_us":1.5})", "/t_us"}, Case{R"({"type":"snapshot"})", "/t_us"},
      Case{R"({"type":"outcome","t_us":1,"workspace":"/w","action":"gc","before":1})", "/before"},
      Case{R"({"type":"model","gc_frees":1.5})", "/gc_frees"},
      Case{R"({"type":"model","trim_frees":-0.1})", "/trim_frees"},
      Case{R"({"type":"model","gc_heap_frees":2})", "/gc_heap_frees"},
      Case{R"({"type":"model","gc_heap_frees":"most"})", "/gc_heap_frees"},
      Case{R"({"type":"model","restart_heap_to":-1})", "/restart_heap_to"},
      Case{R"({"type":"snapshot","t_us":1,"workspaces":[{"id":"/w","rungs":true}]})",
           "/workspaces/0/rungs"},
      Case{R"({"type":"snapshot","t_us":1,"workspaces":[{"id":"/w","rungs":{"trim":"no"}}]})",
           "/workspaces/0/rungs/trim"},
      Case{R"({"type":"snapshot","t_us":1,"workspaces":[{"id":"/w","rungs":{"trimm":false}}]})",
           "/workspaces/0/rungs/trimm"},
      Case{R"({"type":"snapshot","t_us":1,"workspaces":[{"id":"/w","process_since_us":-1}]})",
           "/workspaces/0/process_since_us"},
      Case{R"({"type":"snapshot","t_us":1,"workspaces":[{"id":"/w","process_since_us":"0"}]})",
           "/workspaces/0/process_since_us"},
      Case{R"({"type":"outcome","t_us":1,"workspace":"/w","action":"gc","before":1,"after":1,)"
           R"("heap_before":"1","heap_after":1})",
           "/heap_before"},
      Case{R"({"type":"outcome","t_us":1,"workspace":"/w","action":"gc","before":1,"after":1,)"
           R"("heap_before":1})",
           "/heap_after"},
      Case{R"({"type":"outcome","t_us":1,"workspace":"/w","action":"gc","before":1,"after":1,)"
           R"("ok":"yes"})",
           "/ok"},
      // Unknown keys are errors: misspelt, they would silently read as left out.
      Case{R"({"type":"snapshot","t_us":1,"now":2})", "/now"},
      Case{R"({"type":"snapshot","t_us":1,"system":{"memtotal":1}})", "/system/memtotal"},
      Case{R"({"type":"snapshot","t_us":1,"workspaces":[{"id":"/w","heap":1}]})",
           "/workspaces/0/heap"},
      Case{R"({"type":"snapshot","t_us":1,"workspaces":[{"id":"/w","a/b~":1}]})",
           "/workspaces/0/a~1b~0"},
      Case{R"({"type":"outcome","t_us":1,"workspace":"/w","action":"gc","before":1,"after":1,)"
           R"("heap":1})",
           "/heap"},
      Case{R"({"type":"model","gc_free":0.5})", "/gc_free"},
      Case{R"({"type":"weather","t_us":1})", "/type"}, Case{R"({"t_us":1})", "/type"},
      Case{R"([1,2,3])", ""},
      Case{R"({"type":"snapshot","t_us":1,"workspaces":[{"id":"/w","memory_current":1)", ""},
      Case{"\xff\xfe garbage", ""});
  INFO(c.line);
  auto line = parseTraceLine(c.line);
  REQUIRE_FALSE(line.ok());
  CHECK(line.error().path == c.path);
  CHECK(line.error().code == EINVAL);
  CHECK_FALSE(line.error().message.empty());
}

TEST_CASE("a workspace id that is not UTF-8 is written with replacement characters, not thrown") {
  Snapshot s;
  WorkspaceSnapshot w;
  w.id = "/home/dev/\xff\xfe";
  s.workspaces.push_back(w);
  std::string text = serializeSnapshot(s);
  auto back = parseTraceLine(text);
  REQUIRE(back.ok());
  CHECK(back->snapshot.workspaces[0].id == "/home/dev/\xEF\xBF\xBD\xEF\xBF\xBD");
}
