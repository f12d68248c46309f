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
                       "gc_nothing");
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
