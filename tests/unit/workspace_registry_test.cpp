#include "lib/workspace_registry.h"
#include "lib/kept_file.h"
#include "lib/settings_file.h"
#include "tests/unit/fixtures.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

namespace wslgo {
namespace {

std::string goldenText() {
  std::string buffer;
  auto text = readFileInto(test::fixturePath("registry/state.json"), buffer);
  REQUIRE(text);
  return std::string(*text);
}

// One workspace entry with every required key, `extra` spliced in (starting with a comma).
std::string workspaceJson(const std::string& path, const std::string& extra = "") {
  return R"({"path": ")" + path +
         R"(", "unit": "u.service", "socket": "/run/s.sock", "debug_port": 4000, )"
         R"("added_usec": 5)" +
         extra + "}";
}

std::string registryJson(const std::string& workspaces) {
  return R"({"schema_version": 1, "workspaces": [)" + workspaces + "]}";
}

TEST_CASE("the golden state file parses and serializes back byte for byte") {
  std::string golden = goldenText();
  auto registry = parseRegistry(golden);
  REQUIRE(registry);
  CHECK(registry->schemaVersion == 1);
  REQUIRE(registry->workspaces.size() == 3);

  const auto& tools = registry->workspaces[1];
  CHECK(tools.path == "/home/me/src/my tools");
  CHECK(tools.unit == "wslgo-gopls@home-me-src-my\\x20tools.service");
  CHECK(tools.socket == "/run/user/1000/wslgo-guard/gopls-2.sock");
  CHECK(tools.addedUsec == 1718000100000000);
  CHECK(tools.options ==
        std::map<std::string, std::string>{{"allow_non_module", "true"}, {"gomemlimit", "2G"}});
  CHECK(registry->workspaces[2].addedUsec == UINT64_MAX);
  CHECK(registry->workspaces[2].path == "/mnt/c/Users/Me/go/src/github.com/org/wiki-\xc3\xbc");

  CHECK(serializeRegistry(*registry) == golden);
}

TEST_CASE("serializing sorts workspaces by path, whatever order they were added in") {
  auto golden = parseRegistry(goldenText());
  REQUIRE(golden);
  Registry shuffled = *golden;
  std::swap(shuffled.workspaces[0], shuffled.workspaces[2]);
  CHECK(serializeRegistry(shuffled) == goldenText());

  auto back = parseRegistry(serializeRegistry(shuffled));
  REQUIRE(back);
  CHECK(*back == *golden);
}

TEST_CASE("an empty registry round-trips") {
  Registry empty;
  auto back = parseRegistry(serializeRegistry(empty));
  REQUIRE(back);
  CHECK(back->workspaces.empty());
  CHECK(back->schemaVersion == kRegistrySchemaVersion);
}

TEST_CASE("options are optional in a workspace entry") {
  auto registry = parseRegistry(registryJson(workspaceJson("/a")));
  REQUIRE(registry);
  REQUIRE(registry->workspaces.size() == 1);
  CHECK(registry->workspaces[0].options.empty());
}

TEST_CASE(
    "an old state file's debug_port is read past and not written back: ports are picked "
    "afresh at every start") {
  // workspaceJson still writes one, as state files before the launcher picked ports did.
  auto registry = parseRegistry(registryJson(workspaceJson("/a")));
  REQUIRE(registry);
  REQUIRE(registry->workspaces.size() == 1);
  CHECK(serializeRegistry(*registry).find("debug_port") == std::string::npos);
}

TEST_CASE("a state file from a newer schema is refused with what to do") {
  for (std::string version : {"2", "0", "\"1\"", "1.0", "-1", "null"}) {
    INFO("schema_version: " << version);
    // The newer schema's extra key must not be what is reported.
    auto registry = parseRegistry(R"({"schema_version": )" + version +
                                  R"(, "workspaces": [], "shiny_new_thing": true})");
    REQUIRE_FALSE(registry);
    CHECK(registry.error().path == "/schema_version");
    CHECK(registry.error().message.find("upgrade wslgo-guard") != std::string::npos);
  }
}

struct Bad {
  std::string json;
  std::string pointer;
  std::string says;
};

TEST_CASE("each problem in the state file is reported at its JSON pointer") {
  const std::vector<Bad> cases = {
      {"not json", "/", "not valid JSON"},
      {"", "/", "not valid JSON"},
      {"[]", "/", "expected an object"},
      {R"({"workspaces": []})", "/schema_version", "missing"},
      {R"({"schema_version": 1})", "/workspaces", "missing"},
      {R"({"schema_version": 1, "workspaces": {}})", "/workspaces", "expected an array"},
      {R"({"schema_version": 1, "workspaces": [], "extra": 1})", "/extra", "unknown key"},
      {registryJson("7"), "/workspaces/0", "expected an object"},
      {registryJson(R"({"path": "/a"})"), "/workspaces/0/socket", "missing"},
      {registryJson(R"({"path": "/a", "unit": 7})"), "/workspaces/0/unit", "expected a string"},
      {registryJson(workspaceJson("relative")), "/workspaces/0/path", "absolute path"},
      {registryJson(workspaceJson("/a", R"(, "colour": "red")")), "/workspaces/0/colour",
       "unknown key"},
      {registryJson(workspaceJson("/a", R"(, "a/b~c": 1)")), "/workspaces/0/a~1b~0c",
       "unknown key"},
      {registryJson(workspaceJson("/a", R"(, "options": [])")), "/workspaces/0/options",
       "expected an object"},
      {registryJson(workspaceJson("/a", R"(, "options": {"x/y": 3})")),
       "/workspaces/0/options/x~1y", "expected a string"},
      {registryJson(workspaceJson("/a") + "," + workspaceJson("/a")), "/workspaces/1/path",
       "/workspaces/0/path"},
  };
  for (const auto& bad : cases) {
    INFO("json: " << bad.json);
    auto registry = parseRegistry(bad.json);
    REQUIRE_FALSE(registry);
    CHECK(registry.error().path == bad.pointer);
    CHECK(registry.error().message.find(bad.says) != std::string::npos);
    CHECK(registry.error().message.find("remove it") != std::string::npos);
  }
}

TEST_CASE("numbers out of range or of the wrong kind are errors, never wrapped") {
  auto withAdded = [](const std::string& added) {
    return registryJson(R"({"path": "/a", "unit": "u", "socket": "/s", "debug_port": 1, )"
                        R"("added_usec": )" +
                        added + "}");
  };
  for (std::string added : {"18446744073709551616", "-5", "1.5", "true"}) {
    INFO("added_usec: " << added);
    auto registry = parseRegistry(withAdded(added));
    REQUIRE_FALSE(registry);
    CHECK(registry.error().path == "/workspaces/0/added_usec");
  }
}

TEST_CASE("every truncation of the state file is an error, never a throw or a partial registry") {
  std::string golden = goldenText();
  for (size_t length = 0; length + 1 < golden.size(); ++length) {
    // The last byte is the newline, after which the JSON is whole again.
    if (golden.find_first_not_of(" \n", length) == std::string::npos) break;
    INFO("length: " << length);
    CHECK_FALSE(parseRegistry(std::string_view(golden).substr(0, length)));
  }
}

TEST_CASE("garbage, deep nesting and bad UTF-8 in the state file are errors") {
  CHECK_FALSE(parseRegistry(std::string(10000, '[') + std::string(10000, ']')));
  CHECK_FALSE(parseRegistry(std::string("\0\xff\xfe{", 4)));
  CHECK_FALSE(parseRegistry(registryJson(workspaceJson("/a\xff"))));
  CHECK_FALSE(parseRegistry(registryJson(workspaceJson("/a\\u0000b"))));
}

TEST_CASE("a path that is not UTF-8 serializes without throwing") {
  Registry registry;
  registry.workspaces.push_back({"/bad\xff", "u.service", "/s.sock", 2, {}});
  std::string text = serializeRegistry(registry);
  CHECK(text.find("/bad\xef\xbf\xbd") != std::string::npos);
  CHECK(parseRegistry(text));
}

}  // namespace
}  // namespace wslgo

namespace wslgo {

TEST_CASE("a state file's unit is derived from the path, whatever unit the file names") {
  // A hand edit (or a hostile one) naming another unit must not have the guard start and stop
  // it: the guard only ever touches wslgo-gopls@<path>.service.
  auto registry =
      parseRegistry(R"({"schema_version": 1, "workspaces": [{"path": "/home/me/src/app", )"
                    R"("unit": "ssh-agent.service", "socket": "/run/s.sock", "debug_port": 4000, )"
                    R"("added_usec": 5}]})");
  REQUIRE(registry);
  REQUIRE(registry->workspaces.size() == 1);
  CHECK(registry->workspaces[0].unit == "wslgo-gopls@home-me-src-app.service");
}

TEST_CASE("a state file without the unit key still gives the derived unit") {
  auto registry =
      parseRegistry(R"({"schema_version": 1, "workspaces": [{"path": "/a", "socket": "/s", )"
                    R"("debug_port": 1, "added_usec": 5}]})");
  REQUIRE(registry);
  CHECK(registry->workspaces[0].unit == "wslgo-gopls@a.service");
}

TEST_CASE("a state file nested 300,000 levels deep is refused before parsing, without a crash") {
  std::string deep = R"({"schema_version": 1, "workspaces": )" + std::string(300000, '[') +
                     std::string(300000, ']') + "}";
  auto registry = parseRegistry(deep);
  REQUIRE_FALSE(registry);
  CHECK_THAT(registry.error().message, Catch::Contains("nested deeper than 64"));
}

TEST_CASE("a state file over 1 MiB is refused before parsing") {
  std::string big = R"({"schema_version": 1, "workspaces": [], "pad": ")" +
                    std::string(kMaxSettingsBytes, 'x') + "\"}";
  auto registry = parseRegistry(big);
  REQUIRE_FALSE(registry);
  CHECK_THAT(registry.error().message, Catch::Contains("bytes"));
}

}  // namespace wslgo
