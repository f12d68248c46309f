#include "tests/integration/support/guard_scenario.h"

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string_view>
#include <thread>

#include "lib/shell_word.h"

namespace wslgo::test {

bool waitUntil(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return condition();
}

Scenario::~Scenario() {
  if (client) client->leaveEventLoop();
}

std::string shellQuoted(const std::string& text) { return shellWord(text); }

std::string goplsVersion() {
  // The first line is "golang.org/x/tools/gopls VERSION".
  FILE* pipe = ::popen((shellQuoted(GoplsDaemon::binary()) + " version 2>/dev/null").c_str(), "r");
  if (pipe == nullptr) return "";
  char line[512] = {};
  const bool read = std::fgets(line, sizeof line, pipe) != nullptr;
  ::pclose(pipe);
  std::istringstream words(read ? line : "");
  std::string module;
  std::string version;
  words >> module >> version;
  return version;
}

std::string exportHomeEnvironment(const GuardHome& home) {
  std::string out = "export";
  for (const auto& [name, value] : home.environment()) out += " " + name + "=" + shellQuoted(value);
  return out + ";";
}

// The unit's real launcher, as wslgo-gopls@.service runs it: it reads the guard's environment
// file, picks the debug port and execs gopls, which keeps the unit's MainPID.
std::string goplsUnitCommand(const GuardHome& home) {
  return exportHomeEnvironment(home) + " export GOPLS=" + shellQuoted(GoplsDaemon::binary()) +
         "; exec " + shellQuoted(WSLGO_BINARY_DIR "/launcher/wslgo-gopls-launch") +
         " \"$WSLGO_WORKSPACE\"";
}

void Scenario::start(const std::string& config, bool realCgroups) {
  home.writeUserConfig(config);
  FakeSystemd::Options options;
  options.envDir = home.unitEnvDir();
  options.execCommand = goplsUnitCommand(home);
  options.realCgroups = realCgroups;
  auto fake = FakeSystemd::start(bus, options);
  if (!fake.ok()) FAIL(fake.error().describe());
  systemd = std::make_unique<FakeSystemd>(std::move(*fake));
  auto started = GuardDaemon::start(bus, home);
  if (!started.ok()) FAIL(started.error().describe());
  guard = std::move(*started);
  connectClient();
}

void Scenario::record(std::string event) {
  std::lock_guard<std::mutex> lock(mutex);
  events.push_back(std::move(event));
}

bool Scenario::sawEvent(const std::string& prefix) { return !eventsStartingWith(prefix).empty(); }

std::vector<std::string> Scenario::eventsStartingWith(const std::string& prefix) {
  std::lock_guard<std::mutex> lock(mutex);
  std::vector<std::string> out;
  for (const auto& event : events) {
    if (event.rfind(prefix, 0) == 0) out.push_back(event);
  }
  return out;
}

std::unique_ptr<sdbus::IProxy> Scenario::workspaceProxy(const sdbus::ObjectPath& path) {
  auto proxy = sdbus::createProxy(*client, kBusName, path);
  proxy->uponSignal("ActionTaken")
      .onInterface(kWorkspace)
      .call([this](const std::string& action, const std::string& result, uint64_t, uint64_t,
                   const std::string& reason) {
        record("ActionTaken " + action + " " + result + " " + reason);
      });
  proxy->uponSignal("ThresholdCrossed")
      .onInterface(kWorkspace)
      .call([this](const std::string& level, const std::string& metric, uint64_t, uint64_t) {
        record("ThresholdCrossed " + level + " " + metric);
      });
  proxy->finishRegistration();
  return proxy;
}

void Scenario::connectClient() {
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

sdbus::ObjectPath addWorkspace(Scenario& s, const std::string& path,
                               std::map<std::string, sdbus::Variant> options) {
  sdbus::ObjectPath object;
  s.manager->callMethod("AddWorkspace")
      .onInterface(kManager)
      .withArguments(path, options)
      .storeResultsTo(object);
  return object;
}

std::string errorOf(const std::function<void()>& call) {
  try {
    call();
  } catch (const sdbus::Error& e) {
    return e.getName() + ": " + e.getMessage();
  }
  return "";
}

TreeSnapshot homeOutsideGuard(const GuardHome& home) {
  // Relative to the home, from GuardHome's own layout rather than a second copy of it.
  auto inHome = [&](const std::string& path) {
    return std::filesystem::relative(path, home.home()).string();
  };
  TreeSnapshot snapshot = snapshotTree(home.home(), {inHome(home.stateDir() + "/wslgo-guard"),
                                                     inHome(home.runtimeDir() + "/wslgo-guard"),
                                                     ".cache", inHome(home.configDir() + "/go")});
  std::erase_if(snapshot, [](const auto& entry) {
    const std::string_view path = entry.first;
    return path.find('/') == std::string_view::npos && path.starts_with("guard-") &&
           path.ends_with(".log");
  });
  return snapshot;
}

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace wslgo::test
