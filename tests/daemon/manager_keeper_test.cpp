// What the session keeper (wslgo-lsp) asks of the Manager: the workspace of an editor's folder
// (added when it is an unguarded module), the editors it relays, and a word before each restart.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include <catch2/catch.hpp>

#include "lib/unit_name.h"
#include "tests/daemon/guard_world.h"

namespace wslgo::test {
namespace {

using std::chrono::seconds;

constexpr const char* kAddCommand =
    "`busctl --user call org.wslgo.Guard1 /org/wslgo/Guard1 org.wslgo.Guard1.Manager "
    "AddWorkspace 'sa{sv}' ";

std::string makeDirectory(const std::string& path) {
  std::filesystem::create_directories(path);
  return path;
}

uint32_t editorsOf(GuardWorld& world, const std::string& root) {
  return world.manager().workspaceView(root)->editors;
}

// "editors" of each workspace in GetStatus, by path.
std::map<std::string, uint32_t> statusEditors(GuardWorld& world) {
  const auto status = nlohmann::json::parse(world.manager().statusJson());
  std::map<std::string, uint32_t> out;
  for (const auto& workspace : status["workspaces"]) {
    out[workspace["path"].get<std::string>()] = workspace["editors"].get<uint32_t>();
  }
  return out;
}

}  // namespace

TEST_CASE("an editor's folder inside a workspace attaches to that workspace and its socket",
          "[manager][keeper]") {
  GuardWorld world;
  world.start();
  const std::string root = world.addWorkspace("app");
  const std::string deep = makeDirectory(root + "/internal/db");
  // The editor may have opened it through a symlink: the guard answers the canonical root.
  const std::string link = (world.path() / "home/app-db").string();
  std::filesystem::create_directory_symlink(deep, link);

  for (const std::string& folder : {root, deep, link, deep + "/"}) {
    CAPTURE(folder);
    auto attached = world.attach(folder);
    INFO((attached ? std::string() : attached.error().describe()));
    REQUIRE(attached);
    CHECK(attached->root == root);
    CHECK(attached->socket == world.manager().workspaceView(root)->socket);
  }
  CHECK(world.observer.added == std::vector<std::string>{root});
  CHECK(world.systemd.count("start", world.unitOf(root)) == 1);
}

TEST_CASE("an editor's folder in an unguarded module adds the module as AddWorkspace would",
          "[manager][keeper]") {
  GuardWorld world;
  world.start();
  const std::string module = world.module("tool");
  const std::string folder = makeDirectory(module + "/cmd/tool");

  auto attached = world.attach(folder);
  INFO((attached ? std::string() : attached.error().describe()));
  REQUIRE(attached);
  CHECK(attached->root == module);
  REQUIRE(world.manager().workspaceRoots() == std::vector<std::string>{module});
  const WorkspaceView& view = *world.manager().workspaceView(module);
  CHECK(attached->socket == view.socket);
  CHECK(world.observer.added == std::vector<std::string>{module});
  // The same path as AddWorkspace: the unit started, the registry saved.
  auto unit = workspaceUnitName(module);
  REQUIRE(unit);
  CHECK(view.unit == *unit);
  CHECK(world.systemd.count("start", *unit) == 1);
  std::ifstream registry(world.path() / "state/wslgo-guard/state.json");
  const std::string saved((std::istreambuf_iterator<char>(registry)), {});
  CHECK_THAT(saved, Catch::Contains(module));

  // A second editor in another folder of the module joins the same workspace.
  auto again = world.attach(makeDirectory(module + "/internal"));
  REQUIRE(again);
  CHECK(again->root == module);
  CHECK(world.observer.added.size() == 1);
  CHECK(world.systemd.count("start", *unit) == 1);
}

TEST_CASE("an editor's folder below a go.work attaches to the go.work's directory",
          "[manager][keeper]") {
  GuardWorld world;
  world.start();
  const std::string work = makeDirectory((world.path() / "home/src/work").string());
  std::ofstream(work + "/go.work") << "go 1.22\n\nuse ./api\n";
  const std::string api = makeDirectory(work + "/api");
  std::ofstream(api + "/go.mod") << "module example.com/api\n";

  auto attached = world.attach(makeDirectory(api + "/v1"));
  INFO((attached ? std::string() : attached.error().describe()));
  REQUIRE(attached);
  CHECK(attached->root == work);
}

TEST_CASE("an editor's folder outside any module is refused with what to do, adding nothing",
          "[manager][keeper]") {
  GuardWorld world;
  world.start();
  const std::string notes = makeDirectory((world.path() / "home/notes").string());

  auto refused = world.attach(notes);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == ESRCH);
  CHECK(refused.error().path == notes);
  CHECK(refused.error().message ==
        "is not inside a guarded workspace and holds no go.mod or go.work above it; open a "
        "module folder, or add it with " +
            std::string(kAddCommand) + "DIR 0`");
  CHECK(world.manager().workspaceRoots().empty());
  CHECK(world.observer.added.empty());

  auto relative = world.attach("src/app");
  REQUIRE_FALSE(relative);
  CHECK(relative.error().code == EINVAL);
  CHECK_THAT(relative.error().describe(), Catch::Contains("relative path"));

  auto missing = world.attach(notes + "/gone");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code == ENOENT);
  CHECK_THAT(missing.error().describe(), Catch::Contains("does not exist"));
}

TEST_CASE("with keeper.auto_add off an unguarded module is refused, naming the key and the module",
          "[manager][keeper]") {
  GuardWorld world(R"({"keeper": {"auto_add": false}})");
  world.start();
  const std::string module = world.module("tool");

  auto refused = world.attach(makeDirectory(module + "/cmd"));
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == ESRCH);
  CHECK_THAT(refused.error().describe(),
             Catch::Contains("keeper.auto_add is off") &&
                 Catch::Contains(std::string(kAddCommand) + module + " 0`") &&
                 Catch::Contains("set keeper.auto_add to true"));
  CHECK(world.manager().workspaceRoots().empty());

  // A workspace added by hand is still found.
  const std::string root = world.addWorkspace("app");
  auto attached = world.attach(root);
  REQUIRE(attached);
  CHECK(attached->root == root);
}

TEST_CASE(
    "editor reports add up over reporters, each replacing its last, and a reporter gone "
    "counts no more",
    "[manager][keeper]") {
  GuardWorld world;
  world.start();
  const std::string app = world.addWorkspace("app");
  const std::string tool = world.addWorkspace("tool");

  REQUIRE(world.manager().reportEditors(":1.7", {{app, 2}, {tool, 1}}));
  REQUIRE(world.manager().reportEditors(":1.9", {{app, 3}, {"/not/guarded", 5}}));
  CHECK(editorsOf(world, app) == 5);
  CHECK(editorsOf(world, tool) == 1);
  CHECK(statusEditors(world) == std::map<std::string, uint32_t>{{app, 5}, {tool, 1}});
  CHECK(std::count(world.observer.workspaceChanges.begin(), world.observer.workspaceChanges.end(),
                   "Editors " + app) == 2);

  // A report is the reporter's whole picture: what it leaves out is no longer there.
  REQUIRE(world.manager().reportEditors(":1.7", {{app, 1}}));
  CHECK(editorsOf(world, app) == 4);
  CHECK(editorsOf(world, tool) == 0);

  world.manager().forgetEditorReporter(":1.9");
  CHECK(editorsOf(world, app) == 1);
  REQUIRE(world.manager().reportEditors(":1.7", {}));
  CHECK(editorsOf(world, app) == 0);
  CHECK(statusEditors(world) == std::map<std::string, uint32_t>{{app, 0}, {tool, 0}});
}

TEST_CASE("an editor report of more than 1024 workspaces is refused and changes nothing",
          "[manager][keeper]") {
  GuardWorld world;
  world.start();
  const std::string app = world.addWorkspace("app");
  REQUIRE(world.manager().reportEditors(":1.7", {{app, 2}}));

  std::map<std::string, uint32_t> flood;
  for (size_t i = 0; i <= Manager::kMaxEditorReports; ++i) flood["/w/" + std::to_string(i)] = 1;
  flood[app] = 9;
  auto refused = world.manager().reportEditors(":1.7", flood);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == EINVAL);
  CHECK_THAT(refused.error().describe(), Catch::Contains("at most 1024"));
  CHECK(editorsOf(world, app) == 2);
}

TEST_CASE(
    "a restart by the guard is announced before systemd restarts the unit, with the reason "
    "ActionTaken carries",
    "[manager][keeper]") {
  GuardWorld world;
  world.start();
  const std::string root = world.addWorkspace("app");
  const std::string unit = world.unitOf(root);
  std::vector<size_t> restartJobsThen;
  world.observer.whenRestarting = [&](const std::string&) {
    restartJobsThen.push_back(world.systemd.count("restart", unit));
  };

  SECTION("an operator's restart") {
    std::optional<Result<void>> restarted;
    world.manager().restart(root, "the keeper asked",
                            [&](Result<void> result) { restarted = result; });
    world.scheduler.advance(seconds(5));
    REQUIRE(restarted);
    CHECK(*restarted);
  }
  SECTION("the ladder's restart at critical") {
    world.setMemory(root, 2200 * kMiB);
    world.scheduler.advance(seconds(20));
  }

  REQUIRE(world.observer.actions.size() == 1);
  const ActionTaken& taken = world.observer.actions[0];
  CHECK(taken.action == ActionKind::Restart);
  CHECK(taken.result == "done");
  REQUIRE(world.observer.restartings.size() == 1);
  CHECK(world.observer.restartings[0].first == root);
  CHECK(world.observer.restartings[0].second == taken.reason);
  CHECK(restartJobsThen == std::vector<size_t>{0});
  CHECK(world.systemd.count("restart", unit) == 1);
}

TEST_CASE("a unit found running without the guard's settings is announced before its restart",
          "[manager][keeper]") {
  GuardWorld world;
  world.start();
  const std::string module = world.module("app");
  auto unit = workspaceUnitName(module);
  REQUIRE(unit);
  // Started by hand: a gopls whose command line the guard cannot read for a socket.
  REQUIRE(world.systemd.startNow(*unit));
  world.scheduler.advance(seconds(1));
  size_t restartJobsThen = 1;
  world.observer.whenRestarting = [&](const std::string&) {
    restartJobsThen = world.systemd.count("restart", *unit);
  };

  REQUIRE(world.add(module));
  REQUIRE(world.observer.restartings.size() == 1);
  CHECK(world.observer.restartings[0].first == module);
  CHECK_THAT(world.observer.restartings[0].second, Catch::Contains("already running"));
  CHECK(restartJobsThen == 0);
  CHECK(world.systemd.count("restart", *unit) == 1);
}

TEST_CASE("a GC announces no restart", "[manager][keeper]") {
  GuardWorld world;
  world.start();
  const std::string root = world.addWorkspace("app");
  std::optional<Result<std::pair<uint64_t, uint64_t>>> gc;
  world.manager().collectGarbage(root, [&](auto result) { gc = std::move(result); });
  world.scheduler.advance(seconds(40));
  REQUIRE(gc);
  CHECK(world.observer.restartings.empty());
}

}  // namespace wslgo::test
