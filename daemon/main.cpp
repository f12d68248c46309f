// wslgo-guard: supervises gopls memory, one systemd unit per Go workspace, on the user bus.
#include <malloc.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include <sdbus-c++/sdbus-c++.h>
#include <CLI/CLI.hpp>

#include "daemon/bus_attachment.h"
#include "daemon/bus_service.h"
#include "daemon/event_loop.h"
#include "daemon/gopls_debug_client.h"
#include "daemon/guard1_xml.h"
#include "daemon/http_client.h"
#include "daemon/logging.h"
#include "daemon/manager.h"
#include "daemon/notify.h"
#include "daemon/systemd_client_dbus.h"
#include "daemon/wakeups.h"

namespace wslgo {
namespace {

constexpr Usec kHeapTrimInterval = std::chrono::seconds(30);
// Blocks this large or larger get their own mapping, returned to the kernel when freed.
constexpr int kMmapThresholdBytes = 128 * 1024;

std::string envOr(const char* name, const std::string& fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && value[0] == '/' ? std::string(value) : fallback;
}

// The shipped defaults: installed, else (run from a build tree) the source tree's.
std::string defaultConfigPath() {
  if (::access(WSLGO_INSTALLED_DEFAULT_CONFIG, R_OK) == 0) return WSLGO_INSTALLED_DEFAULT_CONFIG;
  return WSLGO_SOURCE_DEFAULT_CONFIG;
}

int fail(const std::string& message) {
  componentLogger("main")->critical("{}", message);
  return 1;
}

int runDaemon(const std::string& defaultConfig, bool dryRun) {
  // glibc raises its mmap threshold to the size of the largest mapped block freed: in the soak
  // it stood at 1 MiB + 4 KiB, the size of the buffer gopls' environment was read into, so any
  // later block below 1 MiB came from the heap, and the heap's holes grew VmRSS by ~130 KiB
  // over the first half hour while the bytes in use stayed flat (mallinfo2: 476 KiB). Fixed
  // thresholds keep large transient buffers out of the heap; setting them turns the raising off.
  ::mallopt(M_MMAP_THRESHOLD, kMmapThresholdBytes);
  ::mallopt(M_TRIM_THRESHOLD, kMmapThresholdBytes);
  const char* home = std::getenv("HOME");
  if (home == nullptr || home[0] != '/') return fail("$HOME is not set to an absolute path");
  const char* runtimeDir = std::getenv("XDG_RUNTIME_DIR");
  if (runtimeDir == nullptr || runtimeDir[0] != '/') {
    return fail(
        "$XDG_RUNTIME_DIR is not set; wslgo-guard runs under the user's systemd (systemctl "
        "--user start wslgo-guard), which sets it");
  }
  // Only main reads the environment; everything below takes what it needs from here.
  auto raw = [](const char* name) {
    const char* value = std::getenv(name);
    return value != nullptr ? std::string(value) : std::string();
  };
  ManagerPaths paths{
      .configLayers = standardConfigLayers(defaultConfig),
      .stateDir = envOr("XDG_STATE_HOME", std::string(home) + "/.local/state") + "/wslgo-guard",
      .runtimeDir = runtimeDir,
      .home = home,
      .cacheHome = envOr("XDG_CACHE_HOME", ""),
      .goplsCache = raw("GOPLSCACHE"),
      .goModCache = raw("GOMODCACHE"),
      .goPath = raw("GOPATH"),
  };

  auto loop = EventLoop::create();
  if (!loop) return fail("cannot create the event loop: " + loop.error().describe());
  (*loop)->setErrorHook(
      [](std::string_view what) { componentLogger("main")->error("callback failed: {}", what); });
  auto http = HttpClient::create((*loop)->raw());
  if (!http) return fail(http.error().describe());

  std::unique_ptr<sdbus::IConnection> connection;
  try {
    connection = sdbus::createSessionBusConnection();
  } catch (const sdbus::Error& e) {
    return fail("cannot connect to the user bus (" + e.getMessage() +
                "); is dbus-user-session installed and DBUS_SESSION_BUS_ADDRESS set?");
  }
  auto attachment = BusAttachment::attach(**loop, *connection, [&](const std::string& why) {
    componentLogger("main")->critical("lost the user bus: {}", why);
    (*loop)->exit(1);
  });
  if (!attachment) return fail("cannot attach the bus: " + attachment.error().describe());
  auto systemd = SystemdClientDbus::create(
      *connection, SystemdClientDbus::kDefaultCallTimeout,
      [](std::string_view what) { componentLogger("main")->error("callback failed: {}", what); });
  if (!systemd) return fail(systemd.error().describe());

  KernelWakeups wakeups(**loop);
  auto manager = Manager::create(
      ManagerServices{.scheduler = **loop,
                      .systemd = **systemd,
                      .wakeups = wakeups,
                      .debugClientFor = goplsDebugClients(**http, **loop, SysRoots{})},
      SysRoots{}, paths);
  if (!manager) return fail(manager.error().describe());
  if (dryRun) (*manager)->setDryRun(true);

  bool shuttingDown = false;
  BusService bus(*connection, **manager, [&] { return shuttingDown; });
  (*manager)->setObserver(&bus);

  auto stop = [&](int signo) {
    componentLogger("main")->info("{}: stopping; gopls units keep running", strsignal(signo));
    shuttingDown = true;
    notifyStopping();
    (*loop)->exit(0);
  };
  auto onTerm = (*loop)->onSignal(SIGTERM, stop);
  auto onInt = (*loop)->onSignal(SIGINT, stop);
  auto onHup = (*loop)->onSignal(SIGHUP, [&](int) { (void)(*manager)->reload(); });
  if (!onTerm || !onInt || !onHup) return fail("cannot watch signals");

  if (auto started = (*manager)->start(); !started) return fail(started.error().describe());
  try {
    bus.requestName();
  } catch (const sdbus::Error& e) {
    return fail("cannot own org.wslgo.Guard1 on the user bus (" + e.getMessage() +
                "); is another wslgo-guard running?");
  }
  (*attachment)->kick();
  if (auto watchdog = (*loop)->enableWatchdog(); !watchdog) {
    componentLogger("main")->warn("watchdog: {}", watchdog.error().describe());
  }
  // At rest the heap holds a few hundred KiB of live data, but start-up (configuration, state,
  // the first GetStatus) leaves freed pages behind that glibc keeps: hand them back now and
  // then. A trim of this heap takes microseconds.
  auto trimHeap = (*loop)->addRepeatingTimer(kHeapTrimInterval, [](Usec) { ::malloc_trim(0); });
  if (!trimHeap) componentLogger("main")->warn("heap trim: {}", trimHeap.error().describe());
  notifyReady();
  componentLogger("main")->info("ready: {}", (*manager)->statusLine());
  int code = (*loop)->run();
  (*manager)->setObserver(nullptr);
  return code < 0 ? 1 : code;
}

}  // namespace
}  // namespace wslgo

int main(int argc, char** argv) {
  CLI::App app{
      "wslgo-guard: keeps gopls from taking the machine down. Runs one gopls daemon per Go\n"
      "workspace as a systemd user unit (wslgo-gopls@.service), watches system and workspace\n"
      "memory, and asks gopls to GC, trims caches or restarts it before memory runs out.\n"
      "Run it as a user service: systemctl --user enable --now wslgo-guard.\n"
      "Its API is org.wslgo.Guard1 on the user bus (busctl --user introspect org.wslgo.Guard1\n"
      "/org/wslgo/Guard1); see docs/dbus-api.md."};
  std::string logLevel = "info";
  std::string defaultConfig = wslgo::defaultConfigPath();
  bool dryRun = false;
  bool introspect = false;
  app.set_version_flag("--version", std::string("wslgo-guard ") + WSLGO_VERSION);
  app.add_option("--log-level", logLevel, "trace, debug, info, warning, error, critical or off")
      ->capture_default_str();
  app.add_option("--default-config", defaultConfig,
                 "the shipped default.json; /etc/wslgo-guard/config.json and "
                 "$XDG_CONFIG_HOME/wslgo-guard/config.json are layered over it")
      ->capture_default_str();
  app.add_flag("--dry-run", dryRun, "decide and report every action as \"would ...\", run none");
  app.add_flag("--bus-introspect", introspect,
               "print the D-Bus interface XML (org.wslgo.Guard1) and exit");
  CLI11_PARSE(app, argc, argv);

  if (introspect) {
    std::fputs(wslgo::kGuard1InterfaceXml, stdout);
    return 0;
  }
  auto level = wslgo::parseLogLevel(logLevel);
  if (!level) {
    std::fprintf(stderr, "wslgo-guard: --log-level: %s\n", level.error().describe().c_str());
    return 2;
  }
  wslgo::setupLogging(wslgo::detectLogTarget(), *level);
  // What escapes the loop's and the bus's own guards (setting up, loading the state, tearing
  // down) is logged and ends the daemon with status 1, for systemd to restart it; uncaught it
  // would abort with a core dump and no word of why.
  try {
    return wslgo::runDaemon(defaultConfig, dryRun);
  } catch (const std::exception& e) {
    return wslgo::fail("stopping: " + wslgo::describeException(e));
  }
}
