#include "lib/config.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "lib/config_layers.h"
#include "lib/config_problems.h"
#include "tests/unit/fixtures.h"

using namespace wslgo;
using namespace std::chrono_literals;

namespace {

constexpr uint64_t kGiB = uint64_t{1} << 30;
constexpr uint64_t kMiB = uint64_t{1} << 20;
constexpr uint64_t kMemTotal = 16 * kGiB;

std::string defaultFile() { return std::string(WSLGO_SOURCE_DIR) + "/config/default.json"; }

// A scratch directory that stands in for $HOME; removed with everything in it.
class TempHome {
 public:
  TempHome() {
    std::string pattern = (std::filesystem::temp_directory_path() / "wslgo-config-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    path_ = pattern;
  }
  ~TempHome() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempHome(const TempHome&) = delete;
  TempHome& operator=(const TempHome&) = delete;

  const std::string& path() const { return path_; }

  std::string write(const std::string& relative, const std::string& text) const {
    std::filesystem::path file = std::filesystem::path(path_) / relative;
    std::filesystem::create_directories(file.parent_path());
    std::ofstream(file) << text;
    return file.string();
  }

  std::string userFile() const { return path_ + "/.config/wslgo-guard/config.json"; }

 private:
  std::string path_;
};

// Loads the shipped default with one user layer (in ~/.config) holding `userJson`.
Result<Config> loadWithUser(const TempHome& home, const std::string& userJson) {
  home.write(".config/wslgo-guard/config.json", userJson);
  return loadConfig({{defaultFile(), true}, {home.userFile(), false}}, kMemTotal, home.path());
}

std::string describeFailure(const Result<Config>& config) {
  REQUIRE_FALSE(config.ok());
  return config.error().describe();
}

// A user configuration that must be refused, where, and with what words.
struct Row {
  const char* json;
  const char* pointer;
  const char* expected;
};

// The user layer holding row.json is refused, the message naming the file and row.pointer
// first and saying row.expected.
void checkRefused(const Row& row) {
  CAPTURE(row.json);
  TempHome home;
  std::string message = describeFailure(loadWithUser(home, row.json));
  CHECK_THAT(message, Catch::StartsWith(
                          "~/.config/wslgo-guard/config.json: " + std::string(row.pointer) + ": "));
  CHECK_THAT(message, Catch::Contains(row.expected));
}

}  // namespace

TEST_CASE("the shipped default.json loads and yields the documented defaults", "[config]") {
  auto config = loadConfig({{defaultFile(), true}}, kMemTotal, "/home/me");
  INFO((config.ok() ? std::string() : config.error().describe()));
  REQUIRE(config.ok());

  CHECK(config->guard.sampleInterval == 2s);
  CHECK(config->guard.fastSampleInterval == 250ms);
  CHECK(config->guard.heapInterval == 30s);
  CHECK(config->guard.history == 1h);
  CHECK_FALSE(config->guard.dryRun);
  CHECK(config->gopls.path.empty());
  CHECK(config->gopls.args.empty());

  const Thresholds& available = config->system.memAvailable;
  CHECK_FALSE(available.higherIsWorse);
  CHECK(*available.warning == Approx(0.15 * kMemTotal).margin(1));
  CHECK(*available.high == Approx(0.10 * kMemTotal).margin(1));
  CHECK(*available.critical == Approx(0.05 * kMemTotal).margin(1));
  CHECK(available.sustain == 5s);
  CHECK(config->system.pressureSomeAvg10.at(Level::High) == 40.0);
  CHECK(config->system.pressureFullAvg10.at(Level::Critical) == 30.0);
  CHECK(config->system.pressureFullAvg10.hysteresis == 0.2);
  CHECK(config->system.reliefPick == ReliefPick::Largest);

  const WorkspaceSettings& defaults = config->defaults;
  CHECK(defaults.memory.higherIsWorse);
  CHECK(*defaults.memory.critical == Approx(0.40 * kMemTotal).margin(1));
  CHECK(defaults.memory.hysteresis == 0.1);
  CHECK(defaults.excludeInactiveFile);
  CHECK_FALSE(defaults.rss.enabled());
  CHECK_FALSE(defaults.heap.enabled());
  CHECK(defaults.growthBytesPerMinute == 512 * kMiB);
  CHECK(defaults.growthWindow == 2min);
  CHECK_FALSE(defaults.gomemlimit);
  CHECK_FALSE(defaults.memoryHigh);
  CHECK_FALSE(defaults.memoryMax);
  CHECK(defaults.oomScoreAdjust == 500);
  CHECK(defaults.cpuWeight == 50);
  CHECK(defaults.ioWeight == 50);
  CHECK(defaults.env.empty());
  CHECK(config->workspaces.empty());

  REQUIRE(config->actions.ladder.size() == 3);
  CHECK(config->actions.ladder[0].action == ActionKind::Gc);
  CHECK(config->actions.ladder[0].level == Level::Warning);
  CHECK(config->actions.ladder[2].action == ActionKind::Restart);
  CHECK(config->actions.ladder[2].level == Level::High);
  CHECK(config->actions.gc.cooldown == 1min);
  CHECK_FALSE(config->actions.trim.cacheBudget.has_value());  // deleting is opt-in
  CHECK(config->actions.restart.cooldown == 10min);
  CHECK(config->actions.restart.timeout == 30s);
  CHECK(config->profiles.maxTotalBytes == 256 * kMiB);
  CHECK(config->files == std::vector<std::string>{defaultFile()});
}

TEST_CASE("the defaults compiled into config.h agree with default.json", "[config]") {
  auto loaded = loadConfig({{defaultFile(), true}}, kMemTotal, "/home/me");
  REQUIRE(loaded.ok());
  const Config built;
  CHECK(loaded->guard.sampleInterval == built.guard.sampleInterval);
  CHECK(loaded->guard.fastSampleInterval == built.guard.fastSampleInterval);
  CHECK(loaded->guard.heapInterval == built.guard.heapInterval);
  CHECK(loaded->guard.history == built.guard.history);
  CHECK(loaded->guard.dryRun == built.guard.dryRun);
  CHECK(loaded->gopls.allowNonModule == built.gopls.allowNonModule);
  CHECK(loaded->keeper.autoAdd == built.keeper.autoAdd);
  CHECK(loaded->system.reliefPick == built.system.reliefPick);
  CHECK(loaded->defaults.excludeInactiveFile == built.defaults.excludeInactiveFile);
  CHECK(loaded->defaults.growthWindow == built.defaults.growthWindow);
  CHECK(loaded->defaults.important == built.defaults.important);
  CHECK(loaded->actions.settle == built.actions.settle);
  CHECK(loaded->actions.gc.minFreed == built.actions.gc.minFreed);
  CHECK(loaded->actions.restart.maxRestarts == built.actions.restart.maxRestarts);
  CHECK(loaded->actions.restart.window == built.actions.restart.window);
  CHECK(loaded->actions.restart.saveProfile == built.actions.restart.saveProfile);
  CHECK(loaded->profiles.keep == built.profiles.keep);
  CHECK(loaded->profiles.maxTotalBytes == built.profiles.maxTotalBytes);
}

TEST_CASE("layers merge default < /etc < user, each value from the highest layer that sets it",
          "[config]") {
  const std::string home = test::fixturePath("config/home");
  const std::string etc = test::fixturePath("config/etc/config.json");
  const std::string user = home + "/.config/wslgo-guard/config.json";
  auto config = loadConfig({{defaultFile(), true}, {etc, false}, {user, false}}, kMemTotal, home);
  INFO((config.ok() ? std::string() : config.error().describe()));
  REQUIRE(config.ok());

  CHECK(config->guard.sampleInterval == 3s);  // user over etc
  CHECK(config->guard.history == 2h);         // etc over default
  CHECK(config->guard.heapInterval == 30s);   // default
  CHECK(config->system.reliefPick == ReliefPick::FastestGrowing);
  CHECK(config->gopls.path == home + "/go/bin/gopls");
  CHECK(config->gopls.args == std::vector<std::string>{"-remote.debug=:0"});
  CHECK(config->defaults.rss.high == 5.0 * kGiB);
  CHECK_FALSE(config->defaults.rss.warning);
  CHECK(config->defaults.env.at("GOFLAGS") == "-mod=mod");

  // Arrays replace, they do not merge.
  REQUIRE(config->actions.ladder.size() == 2);
  CHECK(config->actions.ladder[0].action == ActionKind::Gc);
  CHECK(config->actions.ladder[0].level == Level::High);
  CHECK(config->files == std::vector<std::string>{defaultFile(), etc, user});
}

TEST_CASE("a per-workspace override is merged over the default workspace settings", "[config]") {
  const std::string home = test::fixturePath("config/home");
  const std::string etc = test::fixturePath("config/etc/config.json");
  const std::string user = home + "/.config/wslgo-guard/config.json";
  auto config = loadConfig({{defaultFile(), true}, {etc, false}, {user, false}}, kMemTotal, home);
  REQUIRE(config.ok());

  // "/home/me/src/big" (etc) and "/home/me/src/big/" (user) are one workspace.
  REQUIRE(config->workspaces.size() == 1);
  const WorkspaceSettings& big = config->forWorkspace("/home/me/src/big");
  CHECK(&big == &config->workspaces.at("/home/me/src/big"));
  CHECK(big.memory.high == 6.0 * kGiB);                            // etc's override
  CHECK_FALSE(big.memory.warning);                                 // null in the user's override
  CHECK(big.memory.critical == config->defaults.memory.critical);  // from the defaults
  CHECK(config->defaults.memory.warning);  // the null did not reach the defaults
  CHECK(big.gomemlimit == 4 * kGiB);
  CHECK(big.important);
  CHECK(big.rss.high == 5.0 * kGiB);  // the user's change to the defaults
  CHECK(big.env.at("GOFLAGS") == "-mod=mod");

  // The user layer removed etc's "~/src/small" override with null.
  CHECK(&config->forWorkspace(home + "/src/small") == &config->defaults);
  CHECK(&config->forWorkspace("/elsewhere") == &config->defaults);
}

TEST_CASE("workspace keys starting with ~/ expand to the home directory", "[config]") {
  TempHome home;
  auto config = loadWithUser(home, R"({"workspaces": {
      "~/src/small": {"important": true},
      "/opt/../srv/./go/": {"memory_high": "2G"}}})");
  INFO((config.ok() ? std::string() : config.error().describe()));
  REQUIRE(config.ok());
  CHECK(config->forWorkspace(home.path() + "/src/small").important);
  CHECK(config->forWorkspace("/srv/go").memoryHigh == 2 * kGiB);
  CHECK_FALSE(config->forWorkspace("/srv/go").important);
}

TEST_CASE("a user error names the file with ~, the JSON pointer and what to write instead",
          "[config]") {
  TempHome home;
  auto config = loadWithUser(home, R"({"workspaces": {"default": {"memory": {"high": "3Q"}}}})");
  CHECK(describeFailure(config) ==
        R"(~/.config/wslgo-guard/config.json: /workspaces/default/memory/high: "3Q" is not a )"
        R"(size (use bytes, "800M", "3G" or a percentage of MemTotal like "40%"))");
  CHECK(config.error().path == "~/.config/wslgo-guard/config.json");
}

TEST_CASE("every kind of mistake is reported with file, pointer and what was expected",
          "[config]") {
  auto row = GENERATE(
      Row{R"({"guard": {"sample_intervall": "2s"}})", "/guard/sample_intervall",
          R"(unknown key "sample_intervall" (did you mean "sample_interval"?))"},
      Row{R"({"frobnicate": 1})", "/frobnicate", R"(unknown key "frobnicate"; known keys)"},
      Row{R"({"guard": {"dry_run": "yes"}})", "/guard/dry_run", R"(expected true or false)"},
      Row{R"({"guard": {"sample_interval": 30}})", "/guard/sample_interval", "add a unit"},
      Row{R"({"guard": {"sample_interval": "50ms"}})", "/guard/sample_interval", "at least 100ms"},
      Row{R"({"guard": {"fast_sample_interval": "5s"}})", "/guard/fast_sample_interval",
          "must not be longer than sample_interval"},
      Row{R"({"guard": "fast"})", "/guard", "expected an object"},
      Row{R"({"guard": {"history": null}})", "/guard/history", "is missing or null"},
      Row{R"({"gopls": {"path": "bin/gopls"}})", "/gopls/path", "absolute path"},
      Row{R"({"gopls": {"args": ["-v", 3]}})", "/gopls/args/1", "expected a string"},
      Row{R"({"system": {"relief_pick": "random"}})", "/system/relief_pick",
          R"("largest" or "fastest_growing")"},
      Row{R"({"system": {"pressure_some_avg10": {"high": 120}}})",
          "/system/pressure_some_avg10/high", "at most 100"},
      Row{R"({"system": {"pressure_some_avg10": {"high": "40%"}}})",
          "/system/pressure_some_avg10/high", "as a number like 40"},
      Row{R"({"system": {"mem_available": {"hysteresis": 1}}})", "/system/mem_available/hysteresis",
          "a fraction from 0"},
      Row{R"({"system": {"mem_available": {"warning": "5%", "high": "10%"}}})",
          "/system/mem_available/high", "lower is worse here, so levels must fall"},
      Row{R"({"workspaces": {"default": {"memory": {"high": -5}}}})",
          "/workspaces/default/memory/high", "cannot be negative"},
      Row{R"({"workspaces": {"default": {"memory": {"high": 1.5}}}})",
          "/workspaces/default/memory/high", R"(a string like "1.5G")"},
      Row{R"({"workspaces": {"default": {"memory": {"high": "0"}}}})",
          "/workspaces/default/memory/high", "must be above 0"},
      Row{R"({"workspaces": {"default": {"memory": {"high": "101%"}}}})",
          "/workspaces/default/memory/high", "above 100%"},
      Row{R"({"workspaces": {"default": {"gomemlimit": "99999999999T"}}})",
          "/workspaces/default/gomemlimit", "larger than 2^64"},
      Row{R"({"workspaces": {"default": {"memory_max": -1}}})", "/workspaces/default/memory_max",
          "cannot be negative"},
      Row{R"({"workspaces": {"default": {"memory_max": true}}})", "/workspaces/default/memory_max",
          "expected a size"},
      Row{R"({"workspaces": {"default": {"oom_score_adjust": 1001}}})",
          "/workspaces/default/oom_score_adjust",
          "out of range: expected a whole number from -1000 "
          "to 1000"},
      Row{R"({"workspaces": {"default": {"oom_score_adjust": -1001}}})",
          "/workspaces/default/oom_score_adjust", "out of range"},
      Row{R"({"workspaces": {"default": {"oom_score_adjust": "500"}}})",
          "/workspaces/default/oom_score_adjust", "a whole number from -1000 to 1000"},
      Row{R"({"workspaces": {"default": {"oom_score_adjust": null}}})",
          "/workspaces/default/oom_score_adjust", "is missing or null"},
      Row{R"({"workspaces": {"default": {"cpu_weight": 0}}})", "/workspaces/default/cpu_weight",
          "out of range: expected a whole number from 1 to 10000"},
      Row{R"({"workspaces": {"default": {"cpu_weight": 10001}}})", "/workspaces/default/cpu_weight",
          "out of range"},
      Row{R"({"workspaces": {"default": {"cpu_weight": 2.5}}})", "/workspaces/default/cpu_weight",
          "a whole number from 1 to 10000"},
      Row{R"({"workspaces": {"default": {"io_weight": -3}}})", "/workspaces/default/io_weight",
          "out of range"},
      Row{R"({"workspaces": {"default": {"io_weight": 18446744073709551615}}})",
          "/workspaces/default/io_weight", "out of range"},
      Row{R"({"workspaces": {"default": {"io_weight": 100000000000000000000}}})",
          "/workspaces/default/io_weight", "a whole number from 1 to 10000"},
      Row{R"({"workspaces": {"default": {"io_weight": "high"}}})", "/workspaces/default/io_weight",
          "a whole number from 1 to 10000"},
      Row{R"({"workspaces": {"default": {"env": {"A=B": "x"}}}})", "/workspaces/default/env/A=B",
          "not an environment variable name"},
      Row{R"({"workspaces": {"src/x": {"important": true}}})", "/workspaces/src~1x",
          R"(workspace key "src/x" must be an absolute path or start with "~/")"},
      Row{R"({"workspaces": {"/w": {"dry_run": true}}})", "/workspaces/~1w/dry_run",
          R"(unknown key "dry_run")"},
      Row{R"({"workspaces": {"/w": {"memory": {"critical": "1G"}}}})",
          "/workspaces/~1w/memory/critical", "must be above high"},
      Row{R"({"actions": {"ladder": []}})", "/actions/ladder", "non-empty array"},
      Row{R"({"actions": {"ladder": [{"action": "kill", "level": "high"}]}})",
          "/actions/ladder/0/action", R"("gc", "trim" or "restart")"},
      Row{R"({"actions": {"ladder": [{"action": "gc", "level": "high"},
                                     {"action": "trim", "level": "warning"}]}})",
          "/actions/ladder/1/level", "levels must not decrease"},
      Row{R"({"actions": {"ladder": [{"action": "gc", "level": "ok"}]}})",
          "/actions/ladder/0/level", R"("warning", "high" or "critical")"},
      Row{R"({"actions": {"gc": {"min_freed": 1}}})", "/actions/gc/min_freed", "out of range"},
      Row{R"({"actions": {"trim": {"cache_budget": "10%"}}})", "/actions/trim/cache_budget",
          "makes no sense for disk space"},
      Row{R"({"actions": {"restart": {"max_restarts": 0}}})", "/actions/restart/max_restarts",
          "at least 1"},
      Row{R"({"profiles": {"keep": 0}})", "/profiles/keep", "at least 1"},
      Row{R"({"profiles": {"keep": 2.5}})", "/profiles/keep", "a whole number"},
      Row{R"([1, 2])", "/", "the top level must be a JSON object"});
  checkRefused(row);
}

TEST_CASE("resource controls take their bounds' values and are set per workspace", "[config]") {
  TempHome home;
  auto config = loadWithUser(home, R"({"workspaces": {
      "default": {"memory_max": "4G", "oom_score_adjust": 1000, "cpu_weight": 1,
                  "io_weight": 10000},
      "/srv/important": {"memory_max": null, "oom_score_adjust": -1000, "cpu_weight": 10000,
                         "io_weight": 1}}})");
  INFO((config.ok() ? std::string() : config.error().describe()));
  REQUIRE(config.ok());
  const WorkspaceSettings& defaults = config->defaults;
  CHECK(defaults.memoryMax == 4 * kGiB);
  CHECK(defaults.oomScoreAdjust == 1000);
  CHECK(defaults.cpuWeight == 1);
  CHECK(defaults.ioWeight == 10000);
  const WorkspaceSettings& important = config->forWorkspace("/srv/important");
  CHECK_FALSE(important.memoryMax);
  CHECK(important.oomScoreAdjust == -1000);
  CHECK(important.cpuWeight == 10000);
  CHECK(important.ioWeight == 1);
}

TEST_CASE("gopls.debug_server is on by default and can be switched off", "[config]") {
  auto shipped = loadConfig({{defaultFile(), true}}, kMemTotal, "/home/me");
  REQUIRE(shipped.ok());
  CHECK(shipped->gopls.debugServer);
  TempHome home;
  auto off = loadWithUser(home, R"({"gopls": {"debug_server": false}})");
  INFO((off.ok() ? std::string() : off.error().describe()));
  REQUIRE(off.ok());
  CHECK_FALSE(off->gopls.debugServer);
}

TEST_CASE("gopls.args may not move the socket or the debug server the guard finds gopls by",
          "[config]") {
  TempHome home;
  for (const char* arg : {"-debug=0.0.0.0:6060", "-listen", "--remote=auto", "-port=4000"}) {
    INFO(arg);
    const std::string json = std::string(R"({"gopls": {"args": ["-rpc.trace", ")") + arg + "\"]}}";
    CHECK_THAT(describeFailure(loadWithUser(home, json)),
               Catch::Contains("/gopls/args/1: \"" + std::string(arg) + "\" is set by the guard") &&
                   Catch::Contains("gopls.debug_server"));
  }
  auto fine = loadWithUser(home, R"({"gopls": {"args": ["-rpc.trace", "-logfile=/tmp/g.log"]}})");
  INFO((fine.ok() ? std::string() : fine.error().describe()));
  CHECK(fine.ok());
}

TEST_CASE(
    "env names that are not shell names, WSLGO_* names and values spanning lines are refused at "
    "load, naming the pointer and the fix",
    "[config]") {
  auto row =
      GENERATE(Row{R"({"workspaces": {"default": {"env": {"MY-VAR": "x"}}}})",
                   "/workspaces/default/env/MY-VAR",
                   "letters, digits and _ only, not starting with a digit"},
               Row{R"({"workspaces": {"default": {"env": {"1GO": "x"}}}})",
                   "/workspaces/default/env/1GO", "is not an environment variable name"},
               Row{R"({"workspaces": {"default": {"env": {"GO FLAGS": "x"}}}})",
                   "/workspaces/default/env/GO FLAGS", "is not an environment variable name"},
               Row{R"({"workspaces": {"default": {"env": {"WSLGO_GOPLS": "/tmp/other-gopls"}}}})",
                   "/workspaces/default/env/WSLGO_GOPLS", "is the guard's own"},
               Row{R"({"workspaces": {"/w": {"env": {"WSLGO_WORKSPACE": "/"}}}})",
                   "/workspaces/~1w/env/WSLGO_WORKSPACE", "remove it"},
               Row{R"({"workspaces": {"default": {"env": {"GOFLAGS": "-mod=mod\n-x"}}}})",
                   "/workspaces/default/env/GOFLAGS", "put it on one line"},
               Row{R"({"workspaces": {"/w": {"env": {"GOFLAGS": "a\rb"}}}})",
                   "/workspaces/~1w/env/GOFLAGS", "newline or NUL"},
               Row{R"({"workspaces": {"default": {"env": {"GOPATH": "/go\u0000/x"}}}})",
                   "/workspaces/default/env/GOPATH", "newline or NUL"});
  checkRefused(row);
}

TEST_CASE("env accepts shell names, lower case and _ included, with any one-line value",
          "[config]") {
  TempHome home;
  auto config = loadWithUser(home, R"({"workspaces": {"default": {"env": {
      "_go_x": "a \"quoted\" \\ value", "GO111MODULE": "on", "MYWSLGO_X": "1", "EMPTY": ""}}}})");
  INFO((config.ok() ? std::string() : config.error().describe()));
  REQUIRE(config.ok());
  CHECK(config->defaults.env.at("_go_x") == "a \"quoted\" \\ value");
  CHECK(config->defaults.env.at("MYWSLGO_X") == "1");
  CHECK(config->defaults.env.at("EMPTY").empty());
}

TEST_CASE("keeper.auto_add is on by default, can be switched off, and takes only a boolean",
          "[config]") {
  auto shipped = loadConfig({{defaultFile(), true}}, kMemTotal, "/home/me");
  REQUIRE(shipped.ok());
  CHECK(shipped->keeper.autoAdd);

  TempHome home;
  auto off = loadWithUser(home, R"({"keeper": {"auto_add": false}})");
  INFO((off.ok() ? std::string() : off.error().describe()));
  REQUIRE(off.ok());
  CHECK_FALSE(off->keeper.autoAdd);

  CHECK_THAT(describeFailure(loadWithUser(home, R"({"keeper": {"auto_add": "no"}})")),
             Catch::StartsWith("~/.config/wslgo-guard/config.json: /keeper/auto_add: ") &&
                 Catch::Contains("expected true or false"));
  CHECK_THAT(describeFailure(loadWithUser(home, R"({"keeper": {"autoadd": true}})")),
             Catch::StartsWith("~/.config/wslgo-guard/config.json: /keeper/autoadd: ") &&
                 Catch::Contains(R"(did you mean "auto_add"?)"));
  CHECK_THAT(describeFailure(loadWithUser(home, R"({"keeper": true})")),
             Catch::Contains("/keeper: expected an object"));
}

TEST_CASE("all mistakes are reported, one line each", "[config]") {
  TempHome home;
  std::string message = describeFailure(loadWithUser(home, R"({
      "guard": {"sample_interval": "2 s", "dry_run": 1},
      "profiles": {"keep": 0}})"));
  CHECK(std::count(message.begin(), message.end(), '\n') == 2);
  CHECK_THAT(message, Catch::Contains("config.json: /guard/sample_interval: "));
  CHECK_THAT(message, Catch::Contains("\n~/.config/wslgo-guard/config.json: /guard/dry_run: "));
  CHECK_THAT(message, Catch::Contains("\n~/.config/wslgo-guard/config.json: /profiles/keep: "));
}

TEST_CASE("a mistake in the default workspace is reported once, not once per override",
          "[config]") {
  TempHome home;
  std::string message = describeFailure(loadWithUser(home, R"({"workspaces": {
      "default": {"heap": {"high": "3Q"}}, "/a": {"important": true}, "/b": {}}})"));
  CHECK(std::count(message.begin(), message.end(), '\n') == 0);
  CHECK_THAT(message, Catch::Contains("/workspaces/default/heap/high"));
}

TEST_CASE("inverted thresholds across two layers name the file that set the offending value",
          "[config]") {
  TempHome home;
  const std::string defaults = defaultFile();

  SECTION("the user raises warning above the default high") {
    std::string message = describeFailure(
        loadWithUser(home, R"({"workspaces": {"default": {"memory": {"warning": "35%"}}}})"));
    CHECK_THAT(message, Catch::StartsWith("~/.config/wslgo-guard/config.json: "
                                          "/workspaces/default/memory/warning: warning \"35%\""));
    CHECK_THAT(message, Catch::Contains("must be below high \"30%\""));
    CHECK_THAT(message,
               Catch::Contains("set in " + defaults + " at /workspaces/default/memory/high"));
  }
  SECTION("the user lowers high below the default warning") {
    std::string message = describeFailure(
        loadWithUser(home, R"({"workspaces": {"default": {"memory": {"high": "2G"}}}})"));
    CHECK_THAT(message, Catch::StartsWith("~/.config/wslgo-guard/config.json: "
                                          "/workspaces/default/memory/high: high \"2G\" must "
                                          "be above warning \"20%\""));
  }
  SECTION("an override's level clashes with a default level it did not touch") {
    std::string message = describeFailure(
        loadWithUser(home, R"({"workspaces": {"~/w": {"memory": {"critical": "4G"}}}})"));
    std::string root = home.path() + "/w";
    std::string token;
    for (char c : root) token += c == '/' ? std::string("~1") : std::string(1, c);
    CHECK_THAT(message,
               Catch::StartsWith("~/.config/wslgo-guard/config.json: /workspaces/" + token +
                                 "/memory/critical: critical \"4G\" must be above "
                                 "high \"30%\""));
    CHECK_THAT(message,
               Catch::Contains("set in " + defaults + " at /workspaces/default/memory/high"));
  }
}

TEST_CASE("an invalid JSON layer is an error naming the file, line and column", "[config]") {
  const std::string bad = test::fixturePath("config/syntax_error.json");
  auto config = loadConfig({{defaultFile(), true}, {bad, false}}, kMemTotal, "/home/me");
  std::string message = describeFailure(config);
  // The column is that of the last character read, the "l" of "flase".
  CHECK_THAT(message, Catch::StartsWith(bad + ": line 4, column 17: invalid JSON: "));
  CHECK_THAT(message, Catch::Contains("invalid literal"));
}

TEST_CASE("a layer may hold // and /* */ comments, which count for nothing", "[config]") {
  TempHome home;
  auto config = loadWithUser(home, R"(// the team's settings
{
  /* a block comment,
     over lines */
  "guard": { "history": "2h" }, // after a value
  // "guard": { "history": "3h" },
  "profiles": { /* inside an object */ "keep": 3 }
}
// at the end
)");
  INFO((config.ok() ? std::string() : config.error().describe()));
  REQUIRE(config.ok());
  CHECK(config->guard.history == 2h);
  CHECK(config->profiles.keep == 3);
}

TEST_CASE("the /etc/wslgo-guard/config.json the package ships loads and changes nothing",
          "[config]") {
  const std::string etc = std::string(WSLGO_SOURCE_DIR) + "/packaging/config.json";
  ConfigProblems problems;
  auto withEtc = readConfigLayers({{defaultFile(), true}, {etc, true}}, "/home/me", problems);
  REQUIRE(withEtc.ok());
  INFO((problems.empty() ? std::string() : problems.toError().describe()));
  REQUIRE(problems.empty());
  CHECK(withEtc->files == std::vector<std::string>{defaultFile(), etc});
  auto defaultsOnly = readConfigLayers({{defaultFile(), true}}, "/home/me", problems);
  REQUIRE(defaultsOnly.ok());
  CHECK(withEtc->document == defaultsOnly->document);

  auto config = loadConfig({{defaultFile(), true}, {etc, true}}, kMemTotal, "/home/me");
  INFO((config.ok() ? std::string() : config.error().describe()));
  REQUIRE(config.ok());
}

TEST_CASE("a missing optional layer is skipped", "[config]") {
  TempHome home;
  auto config = loadConfig({{defaultFile(), true},
                            {home.path() + "/nope/config.json", false},
                            {defaultFile() + "/not-a-dir/config.json", false}},
                           kMemTotal, home.path());
  REQUIRE(config.ok());
  CHECK(config->files == std::vector<std::string>{defaultFile()});
}

TEST_CASE("a missing required default layer is an error", "[config]") {
  TempHome home;
  auto config = loadConfig({{home.path() + "/default.json", true}}, kMemTotal, home.path());
  REQUIRE_FALSE(config.ok());
  CHECK(config.error().code == ENOENT);
  CHECK(config.error().path == "~/default.json");
  CHECK_THAT(config.error().describe(), Catch::Contains("cannot read the default configuration"));
}

TEST_CASE("a layer that is a directory is an error, not skipped", "[config]") {
  TempHome home;
  std::filesystem::create_directories(home.userFile());
  auto config =
      loadConfig({{defaultFile(), true}, {home.userFile(), false}}, kMemTotal, home.path());
  REQUIRE_FALSE(config.ok());
  CHECK(config.error().code == EISDIR);
  CHECK(config.error().path == "~/.config/wslgo-guard/config.json");
}

TEST_CASE("an unreadable layer is an error", "[config]") {
  TempHome home;
  std::string user = home.write(".config/wslgo-guard/config.json", "{}");
  REQUIRE(::chmod(user.c_str(), 0) == 0);
  if (::access(user.c_str(), R_OK) == 0) {
    WARN("running as root, permissions are not enforced; skipped");
    return;
  }
  auto config = loadConfig({{defaultFile(), true}, {user, false}}, kMemTotal, home.path());
  REQUIRE_FALSE(config.ok());
  CHECK(config.error().code == EACCES);
}

TEST_CASE("a percentage size without a known MemTotal is an error, not a zero", "[config]") {
  auto config = loadConfig({{defaultFile(), true}}, 0, "/home/me");
  std::string message = describeFailure(config);
  CHECK_THAT(message, Catch::Contains("/system/mem_available/warning: \"15%\" is a percentage of "
                                      "MemTotal, but MemTotal is unknown"));
}

TEST_CASE("standard layers are default, /etc, then XDG_CONFIG_HOME or ~/.config", "[config]") {
  auto withXdg = standardConfigLayers("/usr/share/wslgo-guard/default.json", "/x", "/home/me");
  REQUIRE(withXdg.size() == 3);
  CHECK(withXdg[0].path == "/usr/share/wslgo-guard/default.json");
  CHECK(withXdg[0].required);
  CHECK(withXdg[1].path == "/etc/wslgo-guard/config.json");
  CHECK_FALSE(withXdg[1].required);
  CHECK(withXdg[2].path == "/x/wslgo-guard/config.json");
  CHECK_FALSE(withXdg[2].required);

  auto noXdg = standardConfigLayers("d.json", "", "/home/me");
  CHECK(noXdg.back().path == "/home/me/.config/wslgo-guard/config.json");
  auto relativeXdg = standardConfigLayers("d.json", "rel", "/home/me");
  CHECK(relativeXdg.back().path == "/home/me/.config/wslgo-guard/config.json");
  CHECK(standardConfigLayers("d.json", "", "").size() == 2);
}

TEST_CASE("thresholds answer per level and an unset level is absent", "[config]") {
  Thresholds thresholds;
  thresholds.high = 7;
  CHECK_FALSE(thresholds.at(Level::Ok));
  CHECK_FALSE(thresholds.at(Level::Warning));
  CHECK(thresholds.at(Level::High) == 7.0);
  CHECK_FALSE(thresholds.at(Level::Critical));
  CHECK(thresholds.enabled());
}

TEST_CASE("null in a higher layer switches a default level off and plain byte counts are sizes",
          "[config]") {
  TempHome home;
  auto config = loadWithUser(home, R"({"workspaces": {"default": {
      "memory": {"warning": null, "high": 5368709120, "critical": "5.5G"},
      "growth": {"bytes_per_minute": null}}}})");
  INFO((config.ok() ? std::string() : config.error().describe()));
  REQUIRE(config.ok());
  CHECK_FALSE(config->defaults.memory.warning);
  CHECK(config->defaults.memory.high == 5.0 * kGiB);
  CHECK(config->defaults.memory.critical == 5.5 * kGiB);
  CHECK_FALSE(config->defaults.growthBytesPerMinute);
}

namespace wslgo {

TEST_CASE("a FIFO as the user's configuration is refused at once, not waited on", "[config]") {
  // It once hung the guard until the watchdog killed it.
  TempHome home;
  std::filesystem::create_directories(std::filesystem::path(home.userFile()).parent_path());
  REQUIRE(::mkfifo(home.userFile().c_str(), 0600) == 0);
  auto started = std::chrono::steady_clock::now();
  auto config =
      loadConfig({{defaultFile(), true}, {home.userFile(), false}}, kMemTotal, home.path());
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(1));
  REQUIRE_FALSE(config.ok());
  CHECK_THAT(config.error().message, Catch::Contains("not a regular file"));
}

TEST_CASE("a configuration nested 300,000 levels deep is refused before parsing", "[config]") {
  TempHome home;
  std::string user = home.write(".config/wslgo-guard/config.json",
                                std::string(300000, '[') + std::string(300000, ']'));
  auto config = loadConfig({{defaultFile(), true}, {user, false}}, kMemTotal, home.path());
  REQUIRE_FALSE(config.ok());
  CHECK_THAT(config.error().message, Catch::Contains("nests deeper than 64"));

  // Comments are allowed, and a quote in one must not hide the depth from the check.
  home.write(".config/wslgo-guard/config.json",
             "// a \"\n" + std::string(300000, '[') + std::string(300000, ']'));
  config = loadConfig({{defaultFile(), true}, {user, false}}, kMemTotal, home.path());
  REQUIRE_FALSE(config.ok());
  CHECK_THAT(config.error().message, Catch::Contains("nests deeper than 64"));
}

TEST_CASE("trim.cache_budget turns deleting on with a size, and null keeps it off", "[config]") {
  TempHome home;
  home.write(".config/wslgo-guard/config.json",
             R"({"actions": {"trim": {"cache_budget": "512M"}}})");
  auto on = loadConfig({{defaultFile(), true}, {home.userFile(), false}}, kMemTotal, home.path());
  REQUIRE(on.ok());
  CHECK(on->actions.trim.cacheBudget == std::optional<uint64_t>(512 * kMiB));
  home.write(".config/wslgo-guard/config.json", R"({"actions": {"trim": {"cache_budget": null}}})");
  auto off = loadConfig({{defaultFile(), true}, {home.userFile(), false}}, kMemTotal, home.path());
  REQUIRE(off.ok());
  CHECK_FALSE(off->actions.trim.cacheBudget.has_value());
}

TEST_CASE(
    "every size the configuration sets is bounded, and an over-bound one is refused by "
    "pointer, bound and fix",
    "[config]") {
  // 1000000h at 100 ms once made AddWorkspace fail with bad_alloc and the next start abort.
  auto row = GENERATE(
      Row{R"({"guard": {"history": "1000000h"}})", "/guard/history",
          R"("1000000h" is too long: at most 24h)"},
      Row{R"({"guard": {"history": "25h"}})", "/guard/history", "use a shorter one"},
      Row{R"({"guard": {"history": "2h", "sample_interval": "100ms",
                        "fast_sample_interval": "100ms"}})",
          "/guard/history",
          "2h at sample_interval 100ms is 72000 samples per workspace, more than the 43200 kept; "
          "shorten history or lengthen sample_interval"},
      Row{R"({"workspaces": {"default": {"growth": {"window": "2h"}}}})",
          "/workspaces/default/growth/window", "at most 1h"},
      Row{R"({"guard": {"fast_sample_interval": "10ms"},
               "workspaces": {"default": {"growth": {"window": "10m"}}}})",
          "/workspaces/default/growth/window",
          "10m at /guard/fast_sample_interval 10ms is 60000 readings per workspace, more than "
          "the 43200 kept; shorten the window or lengthen fast_sample_interval"},
      Row{R"({"workspaces": {"/w": {"growth": {"window": "3h"}}}})",
          "/workspaces/~1w/growth/window", "at most 1h"});
  checkRefused(row);
}

TEST_CASE("sizes at their bounds are accepted: 24h of history at 2s, a 1h growth window",
          "[config]") {
  TempHome home;
  auto config = loadWithUser(home, R"({"guard": {"history": "24h"},
      "workspaces": {"default": {"growth": {"window": "1h"}}}})");
  INFO((config.ok() ? std::string() : config.error().describe()));
  REQUIRE(config.ok());
  CHECK(config->guard.history == 24h);
  CHECK(config->defaults.growthWindow == 1h);
}

}  // namespace wslgo
