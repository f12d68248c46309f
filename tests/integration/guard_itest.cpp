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

#include "tests/integration/support/fake_systemd.h"
#include "tests/integration/support/gopls_daemon.h"
#include "tests/integration/support/guard_daemon.h"
#include "tests/integration/support/private_bus.h"
#include "tests/unit/live.h"

namespace wslgo::test {
namespace {

constexpr const char* kBusName = "org.wslgo.Guard1";
constexpr const char* kManagerPath = "/org/wslgo/Guard1";
constexpr const char* kManager = "org.wslgo.Guard1.Manager";
constexpr const char* kWorkspace = "org.wslgo.Guard1.Workspace";

// Fast enough for tests: the guard samples every 200 ms and reads heap figures every second.
constexpr const char* kFastConfig = R"({
  "guard": { "sample_interval": "200ms", "fast_sample_interval": "100ms", "heap_interval": "1s" }
})";

bool waitUntil(const std::function<bool()>& condition,
               std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return condition();
}

// Everything one scenario needs, started in order and stopped in reverse.
struct Scenario {
  GuardHome home;
  PrivateBus bus;
  std::unique_ptr<FakeSystemd> systemd;
  std::unique_ptr<GuardDaemon> guard;
  std::unique_ptr<sdbus::IConnection> client;
  std::unique_ptr<sdbus::IProxy> manager;

  std::mutex mutex;
  std::vector<std::string> events;  // "WorkspaceAdded <path>", "ActionTaken gc done", ...

  explicit Scenario(PrivateBus started) : bus(std::move(started)) {}

  void record(std::string event) {
    std::lock_guard<std::mutex> lock(mutex);
    events.push_back(std::move(event));
  }
  bool sawEvent(const std::string& prefix) {
    std::lock_guard<std::mutex> lock(mutex);
    for (const auto& event : events) {
      if (event.rfind(prefix, 0) == 0) return true;
    }
    return false;
  }

  std::unique_ptr<sdbus::IProxy> workspaceProxy(const sdbus::ObjectPath& path) {
    auto proxy = sdbus::createProxy(*client, kBusName, path);
    proxy->uponSignal("ActionTaken")
        .onInterface(kWorkspace)
        .call([this](const std::string& action, const std::string& result, uint64_t, uint64_t,
                     const std::string&) { record("ActionTaken " + action + " " + result); });
    proxy->finishRegistration();
    return proxy;
  }

  void connectClient() {
    client = bus.connect();
    manager = sdbus::createProxy(*client, kBusName, kManagerPath);
    manager->uponSignal("WorkspaceAdded")
        .onInterface(kManager)
        .call([this](const sdbus::ObjectPath&, const std::string& path) {
          record("WorkspaceAdded " + path);
        });
    manager->uponSignal("WorkspaceRemoved")
        .onInterface(kManager)
        .call([this](const sdbus::ObjectPath&, const std::string& path) {
          record("WorkspaceRemoved " + path);
        });
    manager->uponSignal("ConfigReloaded")
        .onInterface(kManager)
        .call([this](bool ok, const std::string& message) {
          record(std::string("ConfigReloaded ") + (ok ? "true " : "false ") + message);
        });
    manager->finishRegistration();
    client->enterEventLoopAsync();
  }

  ~Scenario() {
    if (client) client->leaveEventLoop();
  }
};

// Starts bus, fake systemd (running real gopls per unit), guard, and a client; skips or
// fails (CI) when a tool is missing.
#define WSLGO_START_SCENARIO(var)                                               \
  if (!GoplsDaemon::toolFound()) WSLGO_SKIP_LIVE_TEST("gopls is not on PATH");  \
  WSLGO_START_PRIVATE_BUS(var##Bus);                                            \
  Scenario var(std::move(var##Bus));                                            \
  var.home.writeUserConfig(kFastConfig);                                        \
  {                                                                             \
    FakeSystemd::Options fakeOptions;                                           \
    fakeOptions.envDir = var.home.unitEnvDir();                                 \
    fakeOptions.execCommand =                                                   \
        "cd \"$WSLGO_WORKSPACE\" && exec gopls -listen=\"unix;$WSLGO_SOCKET\" " \
        "-debug=\"$WSLGO_DEBUG_ADDRESS\"";                                      \
    auto fake = FakeSystemd::start(var.bus, fakeOptions);                       \
    REQUIRE(fake.ok());                                                         \
    var.systemd = std::make_unique<FakeSystemd>(std::move(*fake));              \
    auto guard = GuardDaemon::start(var.bus, var.home);                         \
    if (!guard.ok()) FAIL(guard.error().describe());                            \
    var.guard = std::move(*guard);                                              \
  }                                                                             \
  var.connectClient()

template <class T>
T managerProperty(Scenario& s, const std::string& name) {
  sdbus::Variant value = s.manager->getProperty(name).onInterface(kManager);
  return value.get<T>();
}

template <class T>
T workspaceProperty(sdbus::IProxy& proxy, const std::string& name) {
  sdbus::Variant value = proxy.getProperty(name).onInterface(kWorkspace);
  return value.get<T>();
}

sdbus::ObjectPath addWorkspace(Scenario& s, const std::string& path,
                               std::map<std::string, sdbus::Variant> options = {}) {
  sdbus::ObjectPath object;
  s.manager->callMethod("AddWorkspace")
      .onInterface(kManager)
      .withArguments(path, options)
      .storeResultsTo(object);
  return object;
}

// The error name a call fails with, or "" when it succeeds.
std::string errorOf(const std::function<void()>& call) {
  try {
    call();
  } catch (const sdbus::Error& e) {
    return e.getName() + ": " + e.getMessage();
  }
  return "";
}

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

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
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

TEST_CASE("AddWorkspace starts a real gopls unit whose figures show on the bus", "[guard]") {
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

TEST_CASE("CollectGarbage and CaptureHeapProfile act on the real gopls", "[guard]") {
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
  if (!GoplsDaemon::toolFound()) WSLGO_SKIP_LIVE_TEST("gopls is not on PATH");
  WSLGO_START_PRIVATE_BUS(bus);
  Scenario s(std::move(bus));
  std::filesystem::create_directories(s.home.stateDir() + "/wslgo-guard");
  std::ofstream(s.home.stateDir() + "/wslgo-guard/state.json") << "{ this is not json";
  auto fake = FakeSystemd::start(s.bus, FakeSystemd::Options{});
  REQUIRE(fake.ok());
  s.systemd = std::make_unique<FakeSystemd>(std::move(*fake));
  auto guard = GuardDaemon::start(s.bus, s.home);
  if (!guard.ok()) FAIL(guard.error().describe());
  s.guard = std::move(*guard);
  s.connectClient();
  CHECK(managerProperty<std::vector<sdbus::ObjectPath>>(s, "Workspaces").empty());
  CHECK(readFile(s.home.stateDir() + "/wslgo-guard/state.json.bad") == "{ this is not json");
  CHECK_THAT(s.guard->log(), Catch::Contains("state.json.bad"));
}

}  // namespace
}  // namespace wslgo::test
