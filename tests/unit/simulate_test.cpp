#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "lib/policy_engine.h"
#include "lib/simulate.h"

using namespace wslgo;

namespace {

std::string tracesDir() { return std::string(WSLGO_SOURCE_DIR) + "/tests/traces/"; }
std::string defaultsFile() { return std::string(WSLGO_SOURCE_DIR) + "/config/default.json"; }

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

bool exists(const std::string& path) { return std::ifstream(path).good(); }

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// The first differing line, with a few lines of context from both sides.
std::string firstDifference(const std::string& expected, const std::string& actual) {
  auto want = lines(expected), got = lines(actual);
  size_t i = 0;
  while (i < want.size() && i < got.size() && want[i] == got[i]) ++i;
  std::string out = "first difference at line " + std::to_string(i + 1) + ":\n";
  for (size_t j = i; j < i + 3; ++j) {
    if (j < want.size()) out += "- " + want[j] + "\n";
  }
  for (size_t j = i; j < i + 3; ++j) {
    if (j < got.size()) out += "+ " + got[j] + "\n";
  }
  return out;
}

// Runs a golden trace exactly as `wslgo-simulate --config NAME.config.json NAME.jsonl` does.
Result<std::string> replay(const std::string& name) {
  std::string trace = slurp(tracesDir() + name + ".jsonl");
  std::string overrides = tracesDir() + name + ".config.json";
  auto config = loadSimulationConfig(defaultsFile(), exists(overrides) ? overrides : "", trace, "");
  if (!config) return config.error();
  return simulateTrace(PolicyEngine(std::move(*config)), trace);
}

}  // namespace

TEST_CASE("each golden trace replays to its expected timeline byte for byte") {
  auto name = GENERATE(as<std::string>{}, "leak", "go_build", "pressure", "crash_loop", "hover",
                       "gc_nothing", "gc_heap", "no_trim", "over_budget");
  INFO("trace tests/traces/" << name << ".jsonl");
  auto timeline = replay(name);
  INFO((timeline.ok() ? std::string() : timeline.error().describe()));
  REQUIRE(timeline.ok());
  std::string expectedPath = tracesDir() + name + ".expected";
  if (std::getenv("WSLGO_UPDATE_GOLDEN") != nullptr) {
    std::ofstream(expectedPath, std::ios::binary) << *timeline;
    WARN("rewrote " << expectedPath);
  }
  std::string expected = slurp(expectedPath);
  INFO(firstDifference(expected, *timeline)
       << "If the new timeline is right, regenerate: WSLGO_UPDATE_GOLDEN=1 "
          "build/tests/wslgo_unit_tests \"each golden trace*\", then read the diff.");
  CHECK(*timeline == expected);
}

TEST_CASE("the golden traces show what each was made to show") {
  // Guards against a regenerated golden file that silently lost its point.
  auto leak = replay("leak");
  REQUIRE(leak.ok());
  CHECK(leak->find("  gc  ") != std::string::npos);
  CHECK(leak->find("  trim  ") != std::string::npos);
  CHECK(leak->find("restart 1 of 3 in 30m, heap profile first") != std::string::npos);

  auto build = replay("go_build");
  REQUIRE(build.ok());
  CHECK(build->find("0 gc, 0 trim, 0 restart") != std::string::npos);

  auto pressure = replay("pressure");
  REQUIRE(pressure.ok());
  auto firstRelief = pressure->find("system relief");
  REQUIRE(firstRelief != std::string::npos);
  CHECK(pressure->rfind("/home/dev/api", firstRelief) != std::string::npos);
  CHECK(pressure->substr(0, firstRelief).find("monorepo") == std::string::npos);

  auto crashes = replay("crash_loop");
  REQUIRE(crashes.ok());
  CHECK(crashes->find("crash-loop") != std::string::npos);
  CHECK(crashes->find("not a restart: the unit is crash looping") != std::string::npos);
  CHECK(crashes->find(" 0 restart ") != std::string::npos);

  auto hover = replay("hover");
  REQUIRE(hover.ok());
  CHECK(hover->find("ok -> warning") == hover->rfind("ok -> warning"));  // entered once

  auto nothing = replay("gc_nothing");
  REQUIRE(nothing.ok());
  CHECK(nothing->find("trim           gc was ineffective") != std::string::npos);

  // The heap fell though memory hardly did: effective, so the trim waits the settle time.
  auto heap = replay("gc_heap");
  REQUIRE(heap.ok());
  CHECK(heap->find("ineffective") == std::string::npos);
  CHECK(heap->find("Go heap 2.60 GiB -> 1.56 GiB (40.0%)") != std::string::npos);
  CHECK(heap->find("00:00:40  /home/dev/services      high      trim           still high 30s "
                   "after gc") != std::string::npos);

  auto noTrim = replay("no_trim");
  REQUIRE(noTrim.ok());
  CHECK(noTrim->find("trim skipped: it cannot work for this workspace here; restart 1 of 3") !=
        std::string::npos);
  CHECK(noTrim->find("1 gc, 0 trim, 1 restart") != std::string::npos);

  auto overBudget = replay("over_budget");
  REQUIRE(overBudget.ok());
  auto reported = overBudget->find("over-budget    over budget: memory reloaded to 4.89 GiB");
  REQUIRE(reported != std::string::npos);
  CHECK(overBudget->find("over-budget", reported + 1) == std::string::npos);  // said once
  CHECK(overBudget->find("critical line 4.80 GiB", reported) != std::string::npos);
  CHECK(overBudget->find(" 1 restart ") != std::string::npos);
  // Afterwards only GC: no trim or restart in the action column, and GCs say why not a restart.
  std::string after = overBudget->substr(reported);
  CHECK(after.find("  trim   ") == std::string::npos);
  CHECK(after.find("  restart   ") == std::string::npos);
  CHECK(after.find("  gc             ") != std::string::npos);
  CHECK(after.find("not a restart: the workspace is over budget") != std::string::npos);
}

TEST_CASE("a dry run reports the same actions as would-run and applies none of their effects") {
  std::string trace = slurp(tracesDir() + "gc_nothing.jsonl");
  auto config = loadSimulationConfig(defaultsFile(), "", trace, "");
  REQUIRE(config.ok());
  config->guard.dryRun = true;
  auto timeline = simulateTrace(PolicyEngine(std::move(*config)), trace);
  REQUIRE(timeline.ok());
  CHECK(timeline->find("would gc") != std::string::npos);
  CHECK(timeline->find("outcome") == std::string::npos);
  // Without the trim's effect the workspace stays high: nothing brought it back to warning.
  CHECK(timeline->find("high -> warning") == std::string::npos);
  // gc, trim, then restart (the shipped ladder restarts when still high after trim): all three
  // only reported.
  CHECK(timeline->find("would restart") != std::string::npos);
  CHECK(timeline->find("(3 dry run)") != std::string::npos);
}

TEST_CASE("outcome lines in a trace reach the engine") {
  Config config;
  config.defaults.memory = Thresholds{.warning = 100, .high = 200, .critical = std::nullopt};
  config.actions.ladder = {{ActionKind::Gc, Level::Warning}, {ActionKind::Trim, Level::High}};
  std::string trace =
      R"({"type":"snapshot","t_us":0,"workspaces":[{"id":"/w","memory_current":250}]})"
      "\n"
      R"({"type":"outcome","t_us":1000000,"workspace":"/w","action":"gc","before":250,"after":249})"
      "\n"
      R"({"type":"snapshot","t_us":2000000,"workspaces":[{"id":"/w","memory_current":250}]})"
      "\n";
  auto timeline = simulateTrace(PolicyEngine(config), trace);
  REQUIRE(timeline.ok());
  auto rows = lines(*timeline);
  REQUIRE(rows.size() == 5);
  CHECK(rows[1].find("  gc  ") != std::string::npos);
  CHECK(rows[2].find("gc freed 1 B") != std::string::npos);
  CHECK(rows[3].find("trim") != std::string::npos);  // not 30s later: the gc was ineffective
  CHECK(rows[3].rfind("00:00:02", 0) == 0);
}

TEST_CASE("a model's heap share lowers the later heap figures and the GC's outcome quotes it") {
  Config config;
  config.defaults.memory = Thresholds{.warning = 500, .high = std::nullopt, .critical = {}};
  config.actions.ladder = {{ActionKind::Gc, Level::Warning}};
  std::string trace =
      R"({"type":"model","gc_frees":0.02,"gc_heap_frees":0.5})"
      "\n"
      R"({"type":"snapshot","t_us":0,"workspaces":[{"id":"/w","memory_current":1000,)"
      R"("heap_in_use":800}]})"
      "\n";
  auto timeline = simulateTrace(PolicyEngine(config), trace);
  REQUIRE(timeline.ok());
  // Memory fell by 2 %, the heap by half: effective on the heap alone.
  CHECK(timeline->find("gc freed 20 B (1000 B -> 980 B, 2.0%), Go heap 800 B -> 400 B (50.0%)") !=
        std::string::npos);
  CHECK(timeline->find("ineffective") == std::string::npos);
}

TEST_CASE("without a heap share a GC's outcome quotes no heap, as before the field existed") {
  Config config;
  config.defaults.memory = Thresholds{.warning = 500, .high = std::nullopt, .critical = {}};
  config.actions.ladder = {{ActionKind::Gc, Level::Warning}};
  std::string trace =
      R"({"type":"model","gc_frees":0.02})"
      "\n"
      R"({"type":"snapshot","t_us":0,"workspaces":[{"id":"/w","memory_current":1000,)"
      R"("heap_in_use":800}]})"
      "\n";
  auto timeline = simulateTrace(PolicyEngine(config), trace);
  REQUIRE(timeline.ok());
  CHECK(timeline->find("Go heap") == std::string::npos);
  CHECK(timeline->find("ineffective") != std::string::npos);
}

TEST_CASE("the model's effect lasts until the trace shows a process started after the action") {
  Config config;
  config.defaults.memory = Thresholds{.warning = 1000, .high = 2000, .critical = std::nullopt};
  config.actions.ladder = {{ActionKind::Trim, Level::Warning}};
  auto snapshot = [](int seconds, int memory, int since) {
    return R"({"type":"snapshot","t_us":)" + std::to_string(seconds * 1'000'000) +
           R"(,"workspaces":[{"id":"/w","memory_current":)" + std::to_string(memory) +
           R"(,"heap_in_use":1,"process_since_us":)" + std::to_string(since * 1'000'000) + "}]}\n";
  };
  // The trim frees 500: the same process's 900 reads as 400 (ok), the new process's 1000 as
  // its own (warning again).
  std::string trace = R"({"type":"model","trim_frees":0.5})"
                      "\n" +
                      snapshot(0, 1000, 0) + snapshot(2, 900, 0) + snapshot(4, 1000, 3);
  auto timeline = simulateTrace(PolicyEngine(config), trace);
  REQUIRE(timeline.ok());
  INFO(*timeline);
  auto rows = lines(*timeline);
  REQUIRE(rows.size() >= 5);
  CHECK(rows[3].find("warning -> ok: memory 400 B") != std::string::npos);
  CHECK(rows[4].rfind("00:00:04", 0) == 0);
  CHECK(rows[4].find("ok -> warning: memory 1000 B") != std::string::npos);
}

TEST_CASE("after a simulated restart the engine is shown a new process, not the traced one") {
  Config config;
  config.defaults.memory = Thresholds{.warning = 100, .high = 200, .critical = std::nullopt};
  config.actions.ladder = {{ActionKind::Restart, Level::High}};
  auto snapshot = [](int seconds, int memory) {
    return R"({"type":"snapshot","t_us":)" + std::to_string(seconds * 1'000'000) +
           R"(,"workspaces":[{"id":"/w","memory_current":)" + std::to_string(memory) +
           R"(,"heap_in_use":1,"process_since_us":0}]})"
           "\n";
  };
  // The trace keeps naming the process first seen at 0; what the model left of it after the
  // restart (250 - 200) climbs back to the high line: the new process reloads over budget.
  std::string trace = R"({"type":"model","restart_to":50})"
                      "\n" +
                      snapshot(0, 250) + snapshot(2, 250) + snapshot(4, 400);
  auto timeline = simulateTrace(PolicyEngine(config), trace);
  REQUIRE(timeline.ok());
  INFO(*timeline);
  CHECK(timeline->find("over budget: memory reloaded to 200 B within 4s of the restart") !=
        std::string::npos);
}

TEST_CASE("a malformed trace line is an error naming the line and the JSON pointer") {
  std::string trace =
      R"({"type":"snapshot","t_us":0,"workspaces":[]})"
      "\n\n"
      R"({"type":"snapshot","t_us":2,"workspaces":[{"id":"/w","memory_current":-5}]})"
      "\n";
  auto timeline = simulateTrace(PolicyEngine(Config{}), trace);
  REQUIRE_FALSE(timeline.ok());
  CHECK(timeline.error().path == "trace line 3 at /workspaces/0/memory_current");
  CHECK(timeline.error().code == EINVAL);
}

TEST_CASE("the timeline renders time since the start, workspace, level, what and reason") {
  Decision decision{.at = Usec(3723'500'000),
                    .kind = DecisionKind::Action,
                    .workspace = "/home/dev/app",
                    .level = Level::High,
                    .action = ActionKind::Trim,
                    .dryRun = true,
                    .reason = "why"};
  CHECK(renderDecision(decision, Usec(0)) ==
        "01:02:03.500  /home/dev/app           high      would trim     why");
  decision.workspace.clear();
  decision.kind = DecisionKind::Level;
  CHECK(renderDecision(decision, Usec(3723'000'000)) ==
        "00:00:00.500  system                  high      level          why");
}
