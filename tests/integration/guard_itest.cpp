// The wslgo-guard daemon over the bus: a private dbus-daemon, the fake systemd1 running real
// gopls for each unit, and the real wslgo-guard binary, driven only through org.wslgo.Guard1.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <sdbus-c++/sdbus-c++.h>
#include <nlohmann/json.hpp>

#include "tests/integration/support/guard_scenario.h"

namespace wslgo::test {
namespace {

// (kind, name, type) of every member of `interface` in an introspection XML.
std::set<std::string> membersOf(const std::string& xml, const std::string& interface) {
  std::set<std::string> out;
  auto start = xml.find("<interface name=\"" + interface + "\"");
  if (start == std::string::npos) return out;
  auto end = xml.find("</interface>", start);
  std::string block = xml.substr(start, end - start);
  std::regex member(R"re(<(method|signal|property) name="([^"]+)"(?: type="([^"]+)")?)re");
  for (auto it = std::sregex_iterator(block.begin(), block.end(), member);
       it != std::sregex_iterator(); ++it) {
    out.insert((*it)[1].str() + " " + (*it)[2].str() + " " + (*it)[3].str());
  }
  return out;
}

TEST_CASE("the guard owns org.wslgo.Guard1 and introspection shows exactly the interface XML",
          "[guard]") {
  WSLGO_START_SCENARIO(s);
  std::string xml;
  s.manager->callMethod("Introspect")
      .onInterface("org.freedesktop.DBus.Introspectable")
      .storeResultsTo(xml);
  std::string contract = readFile(std::string(WSLGO_SOURCE_DIR) + "/daemon/org.wslgo.Guard1.xml");
  auto expected = membersOf(contract, kManager);
  REQUIRE(expected.size() > 10);
  CHECK(membersOf(xml, kManager) == expected);
  CHECK(managerProperty<std::string>(s, "Version").size() > 0);
  CHECK(managerProperty<uint64_t>(s, "MemTotal") > 0);
  CHECK(managerProperty<std::string>(s, "State") == "ok");

  // --bus-introspect prints the same contract.
  std::string command = GuardDaemon::binaryPath() + " --bus-introspect";
  FILE* pipe = ::popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string printed;
  char buffer[4096];
  size_t got = 0;
  while ((got = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) printed.append(buffer, got);
  CHECK(::pclose(pipe) == 0);
  CHECK(membersOf(printed, kManager) == expected);
  CHECK(membersOf(printed, kWorkspace) == membersOf(contract, kWorkspace));
}

TEST_CASE("AddWorkspace starts a real gopls unit whose figures show on the bus",
          "[guard][gopls-compat]") {
  WSLGO_START_SCENARIO(s);
  std::string module = s.home.makeModule("app");
  sdbus::ObjectPath object = addWorkspace(s, module + "/");  // a trailing slash is fine
  auto workspace = s.workspaceProxy(object);
  CHECK(workspaceProperty<std::string>(*workspace, "Path") == module);
  CHECK(workspaceProperty<std::string>(*workspace, "Unit").rfind("wslgo-gopls@", 0) == 0);
  CHECK(waitUntil([&] { return s.sawEvent("WorkspaceAdded " + module); }));

  auto paths = managerProperty<std::vector<sdbus::ObjectPath>>(s, "Workspaces");
  REQUIRE(paths.size() == 1);
  CHECK(paths[0] == object);

  // The fake systemd runs real gopls with the environment the guard wrote.
  REQUIRE(waitUntil([&] { return workspaceProperty<uint32_t>(*workspace, "MainPID") > 0; }));
  std::string socket = workspaceProperty<std::string>(*workspace, "Socket");
  CHECK(waitUntil([&] { return std::filesystem::exists(socket); }));
  CHECK(waitUntil([&] { return workspaceProperty<uint64_t>(*workspace, "RSS") > 0; }));
  CHECK(waitUntil([&] { return workspaceProperty<uint64_t>(*workspace, "HeapInUse") > 0; }));
  CHECK(workspaceProperty<std::string>(*workspace, "State") == "running");

  // GetWorkspace takes any directory inside the workspace.
  std::filesystem::create_directories(module + "/internal/x");
  sdbus::ObjectPath found;
  s.manager->callMethod("GetWorkspace")
      .onInterface(kManager)
      .withArguments(module + "/internal/x")
      .storeResultsTo(found);
  CHECK(found == object);

  std::string status;
  s.manager->callMethod("GetStatus").onInterface(kManager).storeResultsTo(status);
  auto json = nlohmann::json::parse(status);
  CHECK(json["schema_version"] == 1);
  REQUIRE(json["workspaces"].size() == 1);
  CHECK(json["workspaces"][0]["path"] == module);
  CHECK(json["workspaces"][0]["editor_flags"] == "-remote=unix;" + socket);
}

TEST_CASE("GetStatus reports gopls processes the guard did not start, apart from its own",
          "[guard]") {
  WSLGO_START_SCENARIO(s);
  auto editors = GoplsDaemon::start();
  REQUIRE(editors.ok());
  auto workspace = s.workspaceProxy(addWorkspace(s, s.home.makeModule("app")));
  REQUIRE(waitUntil([&] { return workspaceProperty<uint32_t>(*workspace, "MainPID") > 0; }));
  uint32_t ours = workspaceProperty<uint32_t>(*workspace, "MainPID");

  std::string status;
  s.manager->callMethod("GetStatus").onInterface(kManager).storeResultsTo(status);
  auto others = nlohmann::json::parse(status)["other_gopls"];
  bool foundEditors = false;
  for (const auto& other : others) {
    CHECK(other["pid"] != ours);
    if (other["pid"] == (*editors)->pid()) {
      foundEditors = true;
      CHECK(other["role"] == "daemon");
      CHECK(other["rss"].get<uint64_t>() > 0);
    }
  }
  CHECK(foundEditors);
}

TEST_CASE("bad calls get the right error and the guard stays up", "[guard]") {
  WSLGO_START_SCENARIO(s);
  std::string module = s.home.makeModule("app");
  std::string plain = s.home.home() + "/plain";
  std::filesystem::create_directories(plain);
  std::ofstream(s.home.home() + "/file.txt") << "x";

  auto invalid = "org.wslgo.Guard1.Error.InvalidArgument";
  CHECK_THAT(errorOf([&] { addWorkspace(s, "src/app"); }), Catch::StartsWith(invalid));
  CHECK_THAT(errorOf([&] { addWorkspace(s, s.home.home() + "/nope"); }),
             Catch::StartsWith(invalid));
  CHECK_THAT(errorOf([&] { addWorkspace(s, s.home.home() + "/file.txt"); }),
             Catch::StartsWith(invalid));
  CHECK_THAT(errorOf([&] { addWorkspace(s, plain); }), Catch::StartsWith(invalid));
  CHECK_THAT(errorOf([&] { addWorkspace(s, std::string(64 * 1024, 'a')); }),
             Catch::StartsWith(invalid));
  CHECK_THAT(errorOf([&] { addWorkspace(s, "/" + std::string(64 * 1024, 'a')); }),
             Catch::StartsWith(invalid));
  CHECK_THAT(errorOf([&] {
               addWorkspace(s, module, {{"colour", sdbus::Variant(true)}});
             }),
             Catch::StartsWith(invalid) && Catch::Contains("colour"));
  CHECK_THAT(errorOf([&] {
               addWorkspace(s, module, {{"allow_non_module", sdbus::Variant(std::string("y"))}});
             }),
             Catch::StartsWith(invalid));

  CHECK(errorOf([&] { addWorkspace(s, module); }).empty());
  CHECK_THAT(errorOf([&] { addWorkspace(s, module); }),
             Catch::StartsWith("org.wslgo.Guard1.Error.AlreadyExists"));
  CHECK_THAT(errorOf([&] {
               s.manager->callMethod("RemoveWorkspace").onInterface(kManager).withArguments(plain);
             }),
             Catch::StartsWith("org.wslgo.Guard1.Error.NotFound"));
  // A directory without go.mod is accepted when asked for.
  CHECK(errorOf([&] {
          addWorkspace(s, plain, {{"allow_non_module", sdbus::Variant(true)}});
        }).empty());

  CHECK(s.guard->running());
  CHECK(managerProperty<std::vector<sdbus::ObjectPath>>(s, "Workspaces").size() == 2);
}

TEST_CASE("CollectGarbage and CaptureHeapProfile act on the real gopls", "[guard][gopls-compat]") {
  WSLGO_START_SCENARIO(s);
  std::string module = s.home.makeModule("app");
  auto workspace = s.workspaceProxy(addWorkspace(s, module));
  REQUIRE(waitUntil([&] { return workspaceProperty<uint64_t>(*workspace, "HeapInUse") > 0; }));

  uint64_t before = 0;
  uint64_t after = 0;
  workspace->callMethod("CollectGarbage")
      .onInterface(kWorkspace)
      .withTimeout(std::chrono::seconds(30))
      .storeResultsTo(before, after);
  CHECK(waitUntil([&] { return s.sawEvent("ActionTaken gc done"); }));
  CHECK(workspaceProperty<std::string>(*workspace, "LastAction") == "gc");
  CHECK(workspaceProperty<uint64_t>(*workspace, "LastActionUSec") > 0);

  std::string file;
  workspace->callMethod("CaptureHeapProfile")
      .onInterface(kWorkspace)
      .withTimeout(std::chrono::seconds(30))
      .storeResultsTo(file);
  REQUIRE(std::filesystem::exists(file));
  CHECK(file.rfind(s.home.stateDir() + "/wslgo-guard/profiles/", 0) == 0);
  std::string head = readFile(file).substr(0, 2);
  CHECK(head == "\x1f\x8b");

  std::vector<sdbus::Struct<uint64_t, uint64_t, uint64_t, uint64_t>> history;
  workspace->callMethod("GetHistory")
      .onInterface(kWorkspace)
      .withArguments(uint64_t{0})
      .storeResultsTo(history);
  CHECK(history.size() >= 2);
}

TEST_CASE("Reload with an invalid config keeps the old one and says why", "[guard]") {
  WSLGO_START_SCENARIO(s);
  s.home.writeUserConfig(R"({ "guard": { "sample_interval": "soon" } })");
  CHECK_THAT(errorOf([&] { s.manager->callMethod("Reload").onInterface(kManager); }),
             Catch::StartsWith("org.wslgo.Guard1.Error.InvalidArgument") &&
                 Catch::Contains("/guard/sample_interval"));
  CHECK(waitUntil([&] { return s.sawEvent("ConfigReloaded false"); }));
  CHECK(managerProperty<uint64_t>(s, "SampleIntervalUSec") == 200000);

  // SIGHUP does the same.
  s.guard->signal(SIGHUP);
  CHECK(waitUntil([&] {
    std::lock_guard<std::mutex> lock(s.mutex);
    return std::count_if(s.events.begin(), s.events.end(), [](const std::string& e) {
             return e.rfind("ConfigReloaded false", 0) == 0;
           }) >= 2;
  }));
  s.home.writeUserConfig(R"({ "guard": { "sample_interval": "1s" } })");
  s.manager->callMethod("Reload").onInterface(kManager);
  CHECK(waitUntil([&] { return s.sawEvent("ConfigReloaded true"); }));
  CHECK(managerProperty<uint64_t>(s, "SampleIntervalUSec") == 1000000);
  CHECK(s.guard->running());
}

TEST_CASE("RemoveWorkspace stops the unit and forgets the workspace", "[guard]") {
  WSLGO_START_SCENARIO(s);
  std::string module = s.home.makeModule("app");
  auto workspace = s.workspaceProxy(addWorkspace(s, module));
  REQUIRE(waitUntil([&] { return workspaceProperty<uint32_t>(*workspace, "MainPID") > 0; }));
  pid_t gopls = static_cast<pid_t>(workspaceProperty<uint32_t>(*workspace, "MainPID"));

  s.manager->callMethod("RemoveWorkspace").onInterface(kManager).withArguments(module);
  CHECK(waitUntil([&] { return s.sawEvent("WorkspaceRemoved " + module); }));
  CHECK(managerProperty<std::vector<sdbus::ObjectPath>>(s, "Workspaces").empty());
  CHECK(waitUntil([&] { return ::kill(gopls, 0) != 0; }));
  auto state = nlohmann::json::parse(readFile(s.home.stateDir() + "/wslgo-guard/state.json"));
  CHECK(state["workspaces"].empty());
}

TEST_CASE("a restarted guard re-adopts running units without restarting them", "[guard]") {
  WSLGO_START_SCENARIO(s);
  std::string module = s.home.makeModule("app");
  auto workspace = s.workspaceProxy(addWorkspace(s, module));
  REQUIRE(waitUntil([&] { return workspaceProperty<uint32_t>(*workspace, "MainPID") > 0; }));
  uint32_t gopls = workspaceProperty<uint32_t>(*workspace, "MainPID");

  auto stopped = s.guard->stop();
  REQUIRE(stopped.ok());
  CHECK(WIFEXITED(*stopped));
  CHECK(WEXITSTATUS(*stopped) == 0);
  CHECK(::kill(static_cast<pid_t>(gopls), 0) == 0);  // SIGTERM to the guard leaves gopls

  auto again = GuardDaemon::start(s.bus, s.home);
  REQUIRE(again.ok());
  s.guard = std::move(*again);
  sdbus::ObjectPath object;
  s.manager->callMethod("GetWorkspace")
      .onInterface(kManager)
      .withArguments(module)
      .storeResultsTo(object);
  auto readopted = s.workspaceProxy(object);
  CHECK(waitUntil([&] { return workspaceProperty<uint32_t>(*readopted, "MainPID") == gopls; }));

  // kill -9 is no different: the registry is on disk, the unit never depended on the guard.
  s.guard->kill();
  CHECK(::kill(static_cast<pid_t>(gopls), 0) == 0);
  auto third = GuardDaemon::start(s.bus, s.home);
  REQUIRE(third.ok());
  s.guard = std::move(*third);
  auto afterKill = s.workspaceProxy(object);
  CHECK(waitUntil([&] { return workspaceProperty<uint32_t>(*afterKill, "MainPID") == gopls; }));
}

TEST_CASE("a corrupt state file is kept aside and the guard starts anyway", "[guard]") {
  WSLGO_SKIP_WITHOUT_GOPLS();
  WSLGO_START_PRIVATE_BUS(bus);
  Scenario s(std::move(bus));
  std::filesystem::create_directories(s.home.stateDir() + "/wslgo-guard");
  std::ofstream(s.home.stateDir() + "/wslgo-guard/state.json") << "{ this is not json";
  s.start(kFastConfig);
  CHECK(managerProperty<std::vector<sdbus::ObjectPath>>(s, "Workspaces").empty());
  CHECK(readFile(s.home.stateDir() + "/wslgo-guard/state.json.bad") == "{ this is not json");
  CHECK_THAT(s.guard->log(), Catch::Contains("state.json.bad"));
}

}  // namespace
}  // namespace wslgo::test
