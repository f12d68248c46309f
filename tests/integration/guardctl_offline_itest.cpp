// wslgo-guardctl's commands that need no guard (inspect, simulate, config check) as a person runs
// them: the built binary, its output and exit codes (docs/guardctl.md). No bus is started.
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/integration/support/guard_scenario.h"

namespace wslgo::test {
namespace {

std::string binary(const std::string& name) {
  return std::string(WSLGO_BINARY_DIR) + "/cli/" + name;
}

std::string fixture(const std::string& name) {
  return std::string(WSLGO_FIXTURES_DIR) + "/ctl/config/" + name;
}

struct Ran {
  int exitCode = -1;
  std::string out;
  std::string err;
};

// Runs `PROGRAM ARGS` under env(1) with `environment` (`NAME=value` words; `-u NAME` unsets),
// without colour.
Ran runProgram(const std::string& program, const std::string& args,
               const std::string& environment = "") {
  char dirTemplate[] = "/tmp/wslgo-offline-XXXXXX";
  REQUIRE(::mkdtemp(dirTemplate) != nullptr);
  const std::string dir = dirTemplate;
  const std::string command = "env NO_COLOR=1 " + environment + " " + shellQuoted(binary(program)) +
                              " " + args + " >" + dir + "/out 2>" + dir + "/err";
  const int status = std::system(command.c_str());
  Ran ran;
  ran.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  ran.out = readFile(dir + "/out");
  ran.err = readFile(dir + "/err");
  std::filesystem::remove_all(dir);
  UNSCOPED_INFO(program << " " << args << " -> " << ran.exitCode << "\nstdout:\n"
                        << ran.out << "stderr:\n"
                        << ran.err);
  return ran;
}

Ran guardctl(const std::string& args, const std::string& environment = "") {
  return runProgram("wslgo-guardctl", args, environment);
}

std::string firstLine(const std::string& text) { return text.substr(0, text.find('\n')); }

// A scratch $XDG_CONFIG_HOME; removed with everything in it.
class TempConfigHome {
 public:
  TempConfigHome() {
    char pattern[] = "/tmp/wslgo-xdg-XXXXXX";
    REQUIRE(::mkdtemp(pattern) != nullptr);
    path_ = pattern;
  }
  ~TempConfigHome() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempConfigHome(const TempConfigHome&) = delete;
  TempConfigHome& operator=(const TempConfigHome&) = delete;

  const std::string& path() const { return path_; }
  std::string userFile() const { return path_ + "/wslgo-guard/config.json"; }
  void writeUserFile(const std::string& from) const {
    std::filesystem::create_directories(path_ + "/wslgo-guard");
    std::filesystem::copy_file(from, userFile());
  }

 private:
  std::string path_;
};

#define WSLGO_REQUIRE_BUILT(name)             \
  if (!std::filesystem::exists(binary(name))) \
  FAIL(binary(name) << " is not built: cmake --build BUILD --target " << name)

}  // namespace

TEST_CASE("guardctl config check passes a good file with its name and ok", "[guardctl][offline]") {
  WSLGO_REQUIRE_BUILT("wslgo-guardctl");
  auto ran = guardctl("config check " + shellQuoted(fixture("good.json")));
  CHECK(ran.exitCode == 0);
  CHECK(ran.out == fixture("good.json") + ": ok\n");
  CHECK(ran.err.empty());
}

TEST_CASE("guardctl config check names the file and the place of each broken fixture",
          "[guardctl][offline]") {
  WSLGO_REQUIRE_BUILT("wslgo-guardctl");
  struct Row {
    const char* file;
    const char* where;  // a JSON pointer, or a line and column for bad JSON
    const char* says;
  };
  const Row rows[] = {
      {"bad_json.json", ": line 4, column 3: ", "invalid JSON"},
      {"wrong_type.json", ": /guard/dry_run: ", "true or false"},
      {"unknown_key.json", ": /guard/sample_intervall: ", "unknown key"},
      {"nested_too_deep.json", ": ", "nests deeper than 64 levels"},
  };
  for (const Row& row : rows) {
    CAPTURE(row.file);
    auto ran = guardctl("config check " + shellQuoted(fixture(row.file)));
    CHECK(ran.exitCode == 1);
    CHECK(ran.out.empty());
    CHECK_THAT(ran.err, Catch::StartsWith(fixture(row.file) + row.where) &&
                            Catch::Contains(row.says, Catch::CaseSensitive::No));
  }
}

TEST_CASE("guardctl config check on a file that is not there fails and says so",
          "[guardctl][offline]") {
  WSLGO_REQUIRE_BUILT("wslgo-guardctl");
  auto ran = guardctl("config check /nonexistent/wslgo-guard.json");
  CHECK(ran.exitCode == 1);
  CHECK_THAT(ran.err, Catch::StartsWith("wslgo-guardctl: /nonexistent/wslgo-guard.json: no such "
                                        "file"));
  CHECK(guardctl("config check a.json b.json").exitCode == 2);
  CHECK(guardctl("config").exitCode == 2);
}

TEST_CASE("guardctl config check without a file checks the user's, under XDG_CONFIG_HOME",
          "[guardctl][offline]") {
  WSLGO_REQUIRE_BUILT("wslgo-guardctl");
  TempConfigHome xdg;
  const std::string environment =
      "XDG_CONFIG_HOME=" + shellQuoted(xdg.path()) + " HOME=/nonexistent";

  auto none = guardctl("config check", environment);
  CHECK(none.exitCode == 0);
  CHECK_THAT(none.out, Catch::StartsWith(xdg.userFile() + ": not found") &&
                           Catch::Contains("default.json") && Catch::EndsWith(": ok\n"));

  xdg.writeUserFile(fixture("good.json"));
  auto good = guardctl("config check", environment);
  CHECK(good.exitCode == 0);
  CHECK(good.out == xdg.userFile() + ": ok\n");

  std::filesystem::remove(xdg.userFile());
  xdg.writeUserFile(fixture("unknown_key.json"));
  auto bad = guardctl("config check", environment);
  CHECK(bad.exitCode == 1);
  CHECK_THAT(bad.err, Catch::StartsWith(xdg.userFile() + ": /guard/sample_intervall: "));
}

TEST_CASE("guardctl inspect prints what wslgo-inspect prints", "[guardctl][offline]") {
  WSLGO_REQUIRE_BUILT("wslgo-guardctl");
  WSLGO_REQUIRE_BUILT("wslgo-inspect");
  // The fixture tree holds still, so the two reports are equal byte for byte.
  const std::string roots = "--proc " + shellQuoted(std::string(WSLGO_FIXTURES_DIR) + "/v2/proc") +
                            " --sys " + shellQuoted(std::string(WSLGO_FIXTURES_DIR) + "/v2/sys");
  auto ctlText = guardctl("inspect " + roots);
  auto inspectText = runProgram("wslgo-inspect", roots);
  CHECK(ctlText.exitCode == 0);
  CHECK(inspectText.exitCode == 0);
  CHECK(ctlText.out == inspectText.out);
  CHECK(firstLine(ctlText.out) == "wslgo-inspect: what wslgo-guard sees on this machine");

  auto ctlJson = guardctl("inspect --json " + roots);
  auto inspectJson = runProgram("wslgo-inspect", "--json " + roots);
  CHECK(ctlJson.exitCode == 0);
  CHECK(ctlJson.out == inspectJson.out);

  // This machine: figures move between two runs, the shape does not.
  auto live = nlohmann::json::parse(guardctl("inspect --json").out, nullptr, false);
  auto liveInspect =
      nlohmann::json::parse(runProgram("wslgo-inspect", "--json").out, nullptr, false);
  REQUIRE(live.is_object());
  REQUIRE(liveInspect.is_object());
  for (const auto& [key, value] : liveInspect.items()) CHECK(live.contains(key));
  CHECK(live.size() == liveInspect.size());
}

TEST_CASE("guardctl simulate prints what wslgo-simulate prints, dry run too",
          "[guardctl][offline]") {
  WSLGO_REQUIRE_BUILT("wslgo-guardctl");
  WSLGO_REQUIRE_BUILT("wslgo-simulate");
  const std::string trace = shellQuoted(std::string(WSLGO_SOURCE_DIR) + "/tests/traces/leak.jsonl");
  for (const std::string options : {"", "--dry-run"}) {
    CAPTURE(options);
    auto ctl = guardctl("simulate " + options + " " + trace);
    auto simulate = runProgram("wslgo-simulate", options + " " + trace);
    CHECK(ctl.exitCode == 0);
    CHECK(simulate.exitCode == 0);
    CHECK(!ctl.out.empty());
    CHECK(ctl.out == simulate.out);
  }
  auto missing = guardctl("simulate /nonexistent/trace.jsonl");
  CHECK(missing.exitCode == 1);
  CHECK_THAT(missing.err, Catch::StartsWith("wslgo-guardctl: /nonexistent/trace.jsonl"));
  CHECK(guardctl("simulate").exitCode == 2);
}

}  // namespace wslgo::test
