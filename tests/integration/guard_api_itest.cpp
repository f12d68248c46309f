// The rest of org.wslgo.Guard1 over the bus: every property with its contract type, the
// writable DryRun, TrimCache, Restart with a reason, Busy while an action runs, and what the
// session keeper calls: AttachEditor, ReportEditors, Editors and Restarting.
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <mutex>
#include <regex>
#include <string>
#include <thread>

#include "tests/integration/support/guard_scenario.h"

namespace wslgo::test {
namespace {

using namespace std::chrono_literals;

// name -> D-Bus type of every property of `interface` in the contract XML.
std::map<std::string, std::string> contractProperties(const std::string& interface) {
  const std::string xml = readFile(std::string(WSLGO_SOURCE_DIR) + "/daemon/org.wslgo.Guard1.xml");
  const auto start = xml.find("<interface name=\"" + interface + "\"");
  const std::string block = xml.substr(start, xml.find("</interface>", start) - start);
  std::map<std::string, std::string> out;
  std::regex property(R"re(<property name="([^"]+)" type="([^"]+)")re");
  for (auto it = std::sregex_iterator(block.begin(), block.end(), property);
       it != std::sregex_iterator(); ++it) {
    out[(*it)[1].str()] = (*it)[2].str();
  }
  return out;
}

std::map<std::string, std::string> servedProperties(sdbus::IProxy& proxy,
                                                    const std::string& interface) {
  std::map<std::string, sdbus::Variant> all;
  proxy.callMethod("GetAll")
      .onInterface("org.freedesktop.DBus.Properties")
      .withArguments(interface)
      .storeResultsTo(all);
  std::map<std::string, std::string> out;
  for (const auto& [name, value] : all) out[name] = value.peekValueType();
  return out;
}

TEST_CASE("GetAll serves every property of both interfaces with the contract's types", "[guard]") {
  WSLGO_START_SCENARIO(s);
  auto workspace = s.workspaceProxy(addWorkspace(s, s.home.makeModule("app")));
  REQUIRE(waitUntil([&] { return workspaceProperty<uint32_t>(*workspace, "MainPID") > 0; }));

  const auto managerContract = contractProperties(kManager);
  const auto workspaceContract = contractProperties(kWorkspace);
  REQUIRE(managerContract.size() >= 10);
  REQUIRE(workspaceContract.size() >= 15);
  CHECK(servedProperties(*s.manager, kManager) == managerContract);
  CHECK(servedProperties(*workspace, kWorkspace) == workspaceContract);

  // The figures are this machine's, not placeholders.
  CHECK(managerProperty<uint64_t>(s, "MemTotal") >= managerProperty<uint64_t>(s, "MemAvailable"));
  CHECK(managerProperty<uint64_t>(s, "SwapTotal") >= managerProperty<uint64_t>(s, "SwapFree"));
  auto pressure = managerProperty<sdbus::Struct<double, double, double>>(s, "MemoryPressure");
  CHECK(std::get<0>(pressure) >= 0.0);
  CHECK(std::get<0>(pressure) <= 100.0);
  // Read from gopls' command line once the launcher has exec'd it.
  CHECK(waitUntil(
      [&] { return !workspaceProperty<std::string>(*workspace, "DebugAddress").empty(); }));
  CHECK_THAT(workspaceProperty<std::string>(*workspace, "DebugAddress"),
             Catch::Matches(R"(127\.0\.0\.1:[0-9]+)"));
  // The shipped thresholds are shares of MemTotal: 20%, 30%, 40%.
  const double total = static_cast<double>(managerProperty<uint64_t>(s, "MemTotal"));
  CHECK(static_cast<double>(workspaceProperty<uint64_t>(*workspace, "WarningLimit")) ==
        Approx(total * 0.2).epsilon(0.01));
  CHECK(workspaceProperty<uint64_t>(*workspace, "HighLimit") >
        workspaceProperty<uint64_t>(*workspace, "WarningLimit"));
  CHECK(workspaceProperty<uint64_t>(*workspace, "CriticalLimit") >
        workspaceProperty<uint64_t>(*workspace, "HighLimit"));
}

TEST_CASE("DryRun set over the bus turns actions into reports and survives a reload", "[guard]") {
  // The same low RSS lines as the ladder test: gopls is at high from its first sample.
  WSLGO_START_SCENARIO_WITH(s, R"({
    "guard": { "sample_interval": "200ms", "fast_sample_interval": "100ms", "heap_interval": "1s" },
    "workspaces": { "default": {
      "rss": { "warning": "1M", "high": "2M", "critical": null, "sustain": "0s" },
      "growth": { "bytes_per_minute": null } } }
  })",
                            false);
  s.manager->setProperty("DryRun").onInterface(kManager).toValue(true);
  CHECK(managerProperty<bool>(s, "DryRun"));
  s.manager->callMethod("Reload").onInterface(kManager);
  CHECK(managerProperty<bool>(s, "DryRun"));  // the operator's choice outlives the file's

  auto workspace = s.workspaceProxy(addWorkspace(s, s.home.makeModule("app")));
  REQUIRE(waitUntil([&] { return workspaceProperty<uint32_t>(*workspace, "MainPID") > 0; }));
  const uint32_t pid = workspaceProperty<uint32_t>(*workspace, "MainPID");
  REQUIRE(waitUntil([&] { return s.sawEvent("ActionTaken gc dry-run"); }));
  CHECK(workspaceProperty<std::string>(*workspace, "LastAction") == "would gc");
  CHECK(s.eventsStartingWith("ActionTaken gc done").empty());
  CHECK(workspaceProperty<uint32_t>(*workspace, "MainPID") == pid);

  CHECK_THAT(errorOf([&] {
               s.manager->setProperty("DryRun").onInterface(kManager).toValue(std::string("yes"));
             }),
             Catch::Contains("org.freedesktop.DBus.Error") || Catch::Contains("InvalidArgument"));
  CHECK(s.guard->running());
}

TEST_CASE("TrimCache and Restart act on request, and a second action meanwhile is Busy",
          "[guard][gopls-compat]") {
  WSLGO_START_SCENARIO(s);
  std::string module = s.home.makeModule("app");
  auto workspace = s.workspaceProxy(addWorkspace(s, module));
  REQUIRE(waitUntil([&] { return workspaceProperty<uint64_t>(*workspace, "HeapInUse") > 0; }));
  const uint32_t firstPid = workspaceProperty<uint32_t>(*workspace, "MainPID");

  // A current gopls keeps a file cache in the home, and the trim prunes it. Debian's keeps none,
  // and without memory.reclaim (the fake's units have no cgroup) there is nothing to trim: a
  // clear failure, not a hang or a crash.
  if (goplsVersion() == "master") {
    CHECK_THAT(errorOf([&] { workspace->callMethod("TrimCache").onInterface(kWorkspace); }),
               Catch::StartsWith("org.wslgo.Guard1.Error.") && Catch::Contains("nothing to trim"));
  } else {
    const std::string cache = s.home.home() + "/.cache/gopls";
    CHECK(std::filesystem::is_directory(cache));
    auto files = [&] {
      std::vector<std::string> out;
      for (const auto& entry : std::filesystem::recursive_directory_iterator(cache)) {
        if (entry.is_regular_file()) out.push_back(entry.path().string());
      }
      return out;
    };
    const auto before = files();
    CHECK(errorOf([&] { workspace->callMethod("TrimCache").onInterface(kWorkspace); }).empty());
    CHECK(waitUntil([&] { return s.sawEvent("ActionTaken trim done"); }));
    // The shipped trim.cache_budget is null: the rung drops page cache and deletes nothing.
    for (const std::string& file : before) CHECK(std::filesystem::exists(file));
  }

  // A restart takes seconds (profile, restart, measure after): meanwhile a GC is refused.
  auto restarted = std::async(std::launch::async, [&] {
    return errorOf([&] {
      auto connection = s.bus.connect();
      auto proxy = sdbus::createProxy(*connection, kBusName, workspace->getObjectPath());
      proxy->callMethod("Restart")
          .onInterface(kWorkspace)
          .withArguments(std::string("testing the restart"))
          .withTimeout(60s);
    });
  });
  CHECK(waitUntil(
      [&] { return workspaceProperty<std::string>(*workspace, "State") == "restarting"; }, 10s));
  CHECK_THAT(errorOf([&] { workspace->callMethod("CollectGarbage").onInterface(kWorkspace); }),
             Catch::StartsWith("org.wslgo.Guard1.Error.Busy") && Catch::Contains("restart"));
  CHECK(restarted.get().empty());
  CHECK(waitUntil([&] { return s.sawEvent("ActionTaken restart done testing the restart"); }));
  CHECK(waitUntil([&] {
    uint32_t pid = workspaceProperty<uint32_t>(*workspace, "MainPID");
    return pid > 0 && pid != firstPid;
  }));
  CHECK_THAT(errorOf([&] {
               workspace->callMethod("Restart")
                   .onInterface(kWorkspace)
                   .withArguments(std::string(5000, 'x'));
             }),
             Catch::StartsWith("org.wslgo.Guard1.Error.InvalidArgument"));
  CHECK(s.guard->running());
}

TEST_CASE("in a real cgroup MemoryCurrent is the unit's cgroup memory and RSS gopls' VmRSS",
          "[guard]") {
  if (::geteuid() != 0) WSLGO_SKIP_LIVE_TEST("the fake systemd makes cgroups only as root");
  WSLGO_START_SCENARIO_WITH(s, kFastConfig, true);
  auto workspace = s.workspaceProxy(addWorkspace(s, s.home.makeModule("app")));
  REQUIRE(waitUntil([&] { return workspaceProperty<uint64_t>(*workspace, "MemoryCurrent") > 0; }));
  const pid_t pid = static_cast<pid_t>(workspaceProperty<uint32_t>(*workspace, "MainPID"));

  // The cgroup the fake put gopls in, as /proc says, and its memory file in that hierarchy.
  std::string cgroupLine;
  {
    std::ifstream in("/proc/" + std::to_string(pid) + "/cgroup");
    for (std::string line; std::getline(in, line);) {
      if (line.find(":memory:") != std::string::npos || line.rfind("0::", 0) == 0) {
        cgroupLine = line;
        if (line.find(":memory:") != std::string::npos) break;
      }
    }
  }
  REQUIRE_FALSE(cgroupLine.empty());
  const bool v1 = cgroupLine.find(":memory:") != std::string::npos;
  const std::string dir = cgroupLine.substr(cgroupLine.rfind(':') + 1);
  const std::string file = v1 ? "/sys/fs/cgroup/memory" + dir + "/memory.usage_in_bytes"
                              : "/sys/fs/cgroup" + dir + "/memory.current";
  INFO("cgroup file " << file);
  // Both move while gopls works: compare within a quarter or 16 MiB, as the e2e tests do.
  auto close = [](uint64_t a, uint64_t b) {
    const uint64_t diff = a > b ? a - b : b - a;
    return diff <= std::max<uint64_t>(16u << 20, std::max(a, b) / 4);
  };
  CHECK(waitUntil([&] {
    return close(workspaceProperty<uint64_t>(*workspace, "MemoryCurrent"),
                 std::stoull(readFile(file)));
  }));
  CHECK(waitUntil([&] {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    for (std::string line; std::getline(status, line);) {
      if (line.rfind("VmRSS:", 0) == 0) {
        return close(workspaceProperty<uint64_t>(*workspace, "RSS"),
                     std::stoull(line.substr(6)) * 1024);
      }
    }
    return false;
  }));
}

// Starts the fake systemd with units that run the real launcher, as the installed template
// does, then the guard with `config`. The launcher finds the tests' gopls as $GOPLS.
void startWithLauncher(Scenario& s, const std::string& config) {
  const std::string launcher = std::string(WSLGO_BINARY_DIR) + "/launcher/wslgo-gopls-launch";
  s.home.writeUserConfig(config);
  FakeSystemd::Options options;
  options.envDir = s.home.unitEnvDir();
  options.execCommand =
      exportHomeEnvironment(s.home) + " GOPLS=" + shellQuoted(GoplsDaemon::binary()) + " exec " +
      shellQuoted(launcher) + " \"$(systemd-escape --unescape --path \"$WSLGO_INSTANCE\")\"";
  auto fake = FakeSystemd::start(s.bus, options);
  REQUIRE(fake.ok());
  s.systemd = std::make_unique<FakeSystemd>(std::move(*fake));
  auto guard = GuardDaemon::start(s.bus, s.home);
  REQUIRE(guard.ok());
  s.guard = std::move(*guard);
  s.connectClient();
}

TEST_CASE("gopls.args from the config reach the gopls the unit's launcher starts", "[guard]") {
  WSLGO_SKIP_WITHOUT_GOPLS();
  WSLGO_START_PRIVATE_BUS(bus);
  Scenario s(std::move(bus));
  startWithLauncher(s, R"({ "gopls": { "args": ["-rpc.trace", "-remote.debug="] } })");
  auto workspace = s.workspaceProxy(addWorkspace(s, s.home.makeModule("app")));
  REQUIRE(waitUntil([&] { return workspaceProperty<uint32_t>(*workspace, "MainPID") > 0; }));
  // The unit's shell execs the launcher, which execs gopls: wait for the last one.
  std::string cmdline;
  CHECK(waitUntil([&] {
    cmdline = readFile(
        "/proc/" + std::to_string(workspaceProperty<uint32_t>(*workspace, "MainPID")) + "/cmdline");
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    return cmdline.find("-listen=unix;") != std::string::npos;
  }));
  CHECK_THAT(cmdline, Catch::Contains(" -rpc.trace ") && Catch::EndsWith("-remote.debug= "));
  CHECK(waitUntil([&] { return workspaceProperty<uint64_t>(*workspace, "HeapInUse") > 0; }));
}

TEST_CASE("a unit already running when added keeps its gopls, socket and debug port", "[guard]") {
  WSLGO_SKIP_WITHOUT_GOPLS();
  WSLGO_START_PRIVATE_BUS(bus);
  Scenario s(std::move(bus));
  // With no environment file the launcher takes the guard's default socket and a port of its own.
  startWithLauncher(s, kFastConfig);

  // Started by hand, before the guard knows the workspace.
  const std::string module = s.home.makeModule("app");
  std::string escaped;
  {
    FILE* pipe = ::popen(("systemd-escape --path '" + module + "'").c_str(), "r");
    REQUIRE(pipe != nullptr);
    char buffer[4096];
    escaped.assign(buffer, std::fread(buffer, 1, sizeof buffer, pipe));
    ::pclose(pipe);
    escaped.erase(escaped.find_last_not_of('\n') + 1);
  }
  const std::string unit = "wslgo-gopls@" + escaped + ".service";
  auto systemd =
      sdbus::createProxy(*s.client, "org.freedesktop.systemd1", "/org/freedesktop/systemd1");
  sdbus::ObjectPath job;
  systemd->callMethod("StartUnit")
      .onInterface("org.freedesktop.systemd1.Manager")
      .withArguments(unit, std::string("replace"))
      .storeResultsTo(job);
  const std::string socketDir = s.home.runtimeDir() + "/wslgo-guard";
  REQUIRE(waitUntil(
      [&] { return std::filesystem::exists(socketDir) && !std::filesystem::is_empty(socketDir); }));
  const std::string handSocket = std::filesystem::directory_iterator(socketDir)->path().string();

  auto workspace = s.workspaceProxy(addWorkspace(s, module));
  const uint32_t pid = workspaceProperty<uint32_t>(*workspace, "MainPID");
  CHECK(pid > 0);
  CHECK(workspaceProperty<std::string>(*workspace, "Socket") == handSocket);
  // The guard reaches this gopls' debug server: heap figures arrive, and it was not restarted.
  CHECK(waitUntil([&] { return workspaceProperty<uint64_t>(*workspace, "HeapInUse") > 0; }));
  CHECK(workspaceProperty<uint32_t>(*workspace, "MainPID") == pid);
  const std::string cmdline = readFile("/proc/" + std::to_string(pid) + "/cmdline");
  CHECK(cmdline.find("-debug=" + workspaceProperty<std::string>(*workspace, "DebugAddress")) !=
        std::string::npos);
}

TEST_CASE("the keeper attaches editors' folders, its reports show as Editors, and they go with it",
          "[guard]") {
  WSLGO_START_SCENARIO(s);
  const std::string module = std::filesystem::canonical(s.home.makeModule("app")).string();
  std::filesystem::create_directories(module + "/cmd/app");
  // The session keeper: a connection of its own, as wslgo-lsp has.
  auto keeper = s.bus.connect();
  auto guard = sdbus::createProxy(*keeper, kBusName, kManagerPath);

  // A folder in a module nobody guards yet: the guard adds the module and answers it.
  sdbus::ObjectPath object;
  std::string root;
  std::string socket;
  guard->callMethod("AttachEditor")
      .onInterface(kManager)
      .withArguments(module + "/cmd/app")
      .storeResultsTo(object, root, socket);
  CHECK(root == module);
  CHECK(waitUntil([&] { return s.sawEvent("WorkspaceAdded " + module); }));
  auto workspace = s.workspaceProxy(object);
  CHECK(workspaceProperty<std::string>(*workspace, "Path") == root);
  CHECK(workspaceProperty<std::string>(*workspace, "Socket") == socket);
  sdbus::ObjectPath again;
  std::string againRoot;
  guard->callMethod("AttachEditor")
      .onInterface(kManager)
      .withArguments(module)
      .storeResultsTo(again, againRoot, socket);
  CHECK(again == object);

  // A folder in no module: a message the editor's user can act on.
  std::filesystem::create_directories(s.home.home() + "/notes");
  const std::string refused = errorOf([&] {
    guard->callMethod("AttachEditor").onInterface(kManager).withArguments(s.home.home() + "/notes");
  });
  CHECK_THAT(refused, Catch::StartsWith("org.wslgo.Guard1.Error.NotFound") &&
                          Catch::Contains("holds no go.mod or go.work above it") &&
                          Catch::Contains("AddWorkspace 'sa{sv}' DIR 0`") &&
                          !Catch::Contains("No such process"));
  CHECK_THAT(errorOf([&] {
               guard->callMethod("AttachEditor").onInterface(kManager).withArguments(std::string());
             }),
             Catch::StartsWith("org.wslgo.Guard1.Error.InvalidArgument"));

  // Reports from two connections add up; roots nobody guards are ignored. The keeper does not
  // wait for an answer to its reports (wslgo-lsp sends them so): they count all the same.
  CHECK(workspaceProperty<uint32_t>(*workspace, "Editors") == 0);
  guard->callMethod("ReportEditors")
      .onInterface(kManager)
      .withArguments(std::map<std::string, uint32_t>{{root, 2}, {"/not/guarded", 4}})
      .dontExpectReply();
  s.manager->callMethod("ReportEditors")
      .onInterface(kManager)
      .withArguments(std::map<std::string, uint32_t>{{root, 1}});
  CHECK(waitUntil([&] { return workspaceProperty<uint32_t>(*workspace, "Editors") == 3; }));
  std::string status;
  s.manager->callMethod("GetStatus").onInterface(kManager).storeResultsTo(status);
  CHECK_THAT(status, Catch::Contains("\"editors\":3"));
  std::map<std::string, uint32_t> flood;
  for (int i = 0; i < 1025; ++i) flood["/w/" + std::to_string(i)] = 1;
  CHECK_THAT(errorOf([&] {
               guard->callMethod("ReportEditors").onInterface(kManager).withArguments(flood);
             }),
             Catch::StartsWith("org.wslgo.Guard1.Error.InvalidArgument") &&
                 Catch::Contains("at most 1024"));
  CHECK(workspaceProperty<uint32_t>(*workspace, "Editors") == 3);

  // The keeper's connection closes: its editors no longer count, the other's still do.
  guard.reset();
  keeper.reset();
  CHECK(waitUntil([&] { return workspaceProperty<uint32_t>(*workspace, "Editors") == 1; }));
  s.manager->callMethod("ReportEditors")
      .onInterface(kManager)
      .withArguments(std::map<std::string, uint32_t>{});
  CHECK(workspaceProperty<uint32_t>(*workspace, "Editors") == 0);
  CHECK(s.guard->running());
}

TEST_CASE("Restarting comes before a restart's ActionTaken and carries the same reason",
          "[guard]") {
  WSLGO_START_SCENARIO(s);
  const sdbus::ObjectPath object = addWorkspace(s, s.home.makeModule("app"));
  auto workspace = s.workspaceProxy(object);
  REQUIRE(waitUntil([&] { return workspaceProperty<uint32_t>(*workspace, "MainPID") > 0; }));

  // Both signals on one connection, so their order is the order the guard sent them in.
  std::mutex mutex;
  std::vector<std::string> heard;
  auto listener = s.bus.connect();
  auto watched = sdbus::createProxy(*listener, kBusName, object);
  watched->uponSignal("Restarting").onInterface(kWorkspace).call([&](const std::string& reason) {
    std::lock_guard<std::mutex> lock(mutex);
    heard.push_back("Restarting " + reason);
  });
  watched->uponSignal("ActionTaken")
      .onInterface(kWorkspace)
      .call([&](const std::string& action, const std::string& result, uint64_t, uint64_t,
                const std::string& reason) {
        std::lock_guard<std::mutex> lock(mutex);
        heard.push_back("ActionTaken " + action + " " + result + " " + reason);
      });
  watched->finishRegistration();
  listener->enterEventLoopAsync();

  workspace->callMethod("Restart")
      .onInterface(kWorkspace)
      .withArguments(std::string("the keeper test"))
      .withTimeout(60s);
  CHECK(waitUntil([&] {
    std::lock_guard<std::mutex> lock(mutex);
    return heard.size() >= 2;
  }));
  listener->leaveEventLoop();
  CHECK(heard == std::vector<std::string>{"Restarting the keeper test",
                                          "ActionTaken restart done the keeper test"});
}

}  // namespace
}  // namespace wslgo::test
