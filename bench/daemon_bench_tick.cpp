// The tick figures: a Manager in this process with the real systemd and HTTP clients, on a
// private bus whose fake systemd runs each unit as `sleep` in a real cgroup of its own, so every
// tick reads real cgroup files, real /proc/PID/status and real PSI.
#include <systemd/sd-event.h>
#include <time.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <sdbus-c++/IConnection.h>

#include "bench/daemon_bench.h"
#include "daemon/bus_attachment.h"
#include "daemon/event_loop.h"
#include "daemon/gopls_debug_client.h"
#include "daemon/http_client.h"
#include "daemon/manager.h"
#include "daemon/systemd_client_dbus.h"
#include "daemon/wakeups.h"
#include "tests/integration/support/fake_systemd.h"
#include "tests/integration/support/guard_daemon.h"
#include "tests/integration/support/private_bus.h"

namespace wslgo::bench {
namespace {

using test::FakeSystemd;
using test::GuardHome;
using test::PrivateBus;

constexpr size_t kTicks = 200;
constexpr size_t kHeapTicks = 20;
// Issue #5: 0.5 ms for 8 workspaces, 4 ms for 64; both are 62.5 µs per workspace, which other
// counts are held to as well.
constexpr double kTargetMicrosPerWorkspace = 62.5;
constexpr auto kSettleTimeout = std::chrono::seconds(60);
// Later than any heap_interval, so every workspace's heap figures are due at such a tick.
constexpr Usec kHeapDueStep = std::chrono::hours(1);

Usec monotonicNow() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return Usec(static_cast<int64_t>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000);
}

double cpuMicros() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}

// Turns the loop (at most 10 ms per turn) until `done` holds; false if `timeout` passes first.
// sd_event_run rather than EventLoop::run: a loop that was exit()ed cannot run again.
bool turnUntil(EventLoop& loop, const std::function<bool()>& done,
               std::chrono::steady_clock::duration timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    if (sd_event_run(loop.raw(), 10000) < 0) return false;
  }
  return true;
}

// Everything one tick figure needs, declared in the order it must be torn down in reverse.
struct TickRig {
  GuardHome home;
  PrivateBus bus;
  std::optional<FakeSystemd> fake;
  std::unique_ptr<EventLoop> loop;
  std::unique_ptr<HttpClient> http;
  std::unique_ptr<sdbus::IConnection> connection;
  std::unique_ptr<BusAttachment> attachment;
  std::unique_ptr<SystemdClientDbus> systemd;
  std::unique_ptr<KernelWakeups> wakeups;
  std::unique_ptr<Manager> manager;
  std::vector<std::string> roots;

  explicit TickRig(PrivateBus started) : bus(std::move(started)) {}
};

Result<std::unique_ptr<TickRig>> setUp(size_t workspaces) {
  auto bus = PrivateBus::start();
  if (!bus) return bus.error();
  auto rig = std::make_unique<TickRig>(std::move(*bus));
  FakeSystemd::Options fakeOptions;
  fakeOptions.envDir = rig->home.unitEnvDir();
  fakeOptions.realCgroups = true;
  auto fake = FakeSystemd::start(rig->bus, fakeOptions);
  if (!fake) return fake.error();
  rig->fake.emplace(std::move(*fake));

  auto loop = EventLoop::create();
  if (!loop) return loop.error();
  rig->loop = std::move(*loop);
  auto http = HttpClient::create(rig->loop->raw());
  if (!http) return http.error();
  rig->http = std::move(*http);
  rig->connection = rig->bus.connect();
  auto attachment = BusAttachment::attach(*rig->loop, *rig->connection);
  if (!attachment) return attachment.error();
  rig->attachment = std::move(*attachment);
  auto systemd = SystemdClientDbus::create(*rig->connection);
  if (!systemd) return systemd.error();
  rig->systemd = std::move(*systemd);

  rig->wakeups = std::make_unique<KernelWakeups>(*rig->loop);

  ManagerPaths paths{
      .configLayers = {ConfigLayer{std::string(WSLGO_SOURCE_DIR) + "/config/default.json", true}},
      .stateDir = rig->home.stateDir() + "/wslgo-guard",
      .runtimeDir = rig->home.runtimeDir(),
      .home = rig->home.home(),
      .cacheHome = {},
      .goplsCache = {},
      .goModCache = {},
      .goPath = {},
  };
  auto manager = Manager::create(
      ManagerServices{.scheduler = *rig->loop,
                      .systemd = *rig->systemd,
                      .wakeups = *rig->wakeups,
                      .debugClientFor = goplsDebugClients(*rig->http, *rig->loop, SysRoots{})},
      SysRoots{}, std::move(paths));
  if (!manager) return manager.error();
  rig->manager = std::move(*manager);
  if (auto started = rig->manager->start(); !started) return started.error();

  TickRig& r = *rig;
  std::optional<Error> addFailed;
  size_t answered = 0;
  for (size_t i = 0; i < workspaces; ++i) {
    r.manager->addWorkspace(r.home.makeModule("ws" + std::to_string(i)), {},
                            [&](Result<std::string> root) {
                              ++answered;
                              if (!root) return addFailed.emplace(root.error()), void();
                              r.roots.push_back(*root);
                            });
  }
  if (!turnUntil(
          *r.loop, [&] { return answered == workspaces; }, kSettleTimeout)) {
    return errnoError(ETIMEDOUT, "AddWorkspace", "not all answered within 60 s");
  }
  if (addFailed) return *addFailed;
  // Running once the fake's jobs are done and the client has seen the units change.
  const bool running = turnUntil(
      *r.loop,
      [&] {
        for (const std::string& root : r.roots) {
          const WorkspaceView* view = r.manager->workspaceView(root);
          if (view == nullptr || view->mainPid == 0) return false;
        }
        return true;
      },
      kSettleTimeout);
  if (!running) {
    return errnoError(ETIMEDOUT, "wslgo-fake-systemd1",
                      "the units did not all run within 60 s; its stderr is above");
  }
  // One tick opens the readers and starts the first heap reads; they fail at once (nothing
  // listens on a sleep unit's debug address), and the next are due a heap interval later.
  r.manager->tick(monotonicNow());
  if (!turnUntil(
          *r.loop, [&] { return r.http->inFlight() == 0; }, kSettleTimeout)) {
    return errnoError(ETIMEDOUT, "heap reads", "did not finish within 60 s");
  }
  return rig;
}

std::string microsLine(std::vector<double>& costs) {
  char line[96];
  const double median = quantile(costs, 0.5);
  std::snprintf(line, sizeof line, "median %.1f us, p99 %.1f us CPU", median,
                quantile(costs, 0.99));
  return line;
}

bool tickFigure(size_t workspaces) {
  const std::string name = "tick: " + std::to_string(workspaces) + " workspaces";
  auto rig = setUp(workspaces);
  if (!rig) {
    return reportFigure(name, "could not set up: " + rig.error().describe(), "-", false);
  }
  TickRig& r = **rig;

  size_t withCgroupMemory = 0;
  for (const std::string& root : r.roots) {
    const WorkspaceView* view = r.manager->workspaceView(root);
    if (view != nullptr && view->memoryCurrent > 0) ++withCgroupMemory;
  }
  reportNote(name + ", set-up",
             std::to_string(withCgroupMemory) + " of " + std::to_string(workspaces) +
                 " show a non-zero memory figure from their own cgroup; no heap read is due in "
                 "the measured ticks");

  std::vector<double> costs;
  costs.reserve(kTicks);
  for (size_t i = 0; i < kTicks; ++i) {
    const double start = cpuMicros();
    r.manager->tick(monotonicNow());
    costs.push_back(cpuMicros() - start);
    sd_event_run(r.loop->raw(), 0);  // what the tick queued, outside the measurement
  }
  const double targetMicros = kTargetMicrosPerWorkspace * static_cast<double>(workspaces);
  const double p99 = quantile(costs, 0.99);
  char target[48];
  std::snprintf(target, sizeof target, "p99 <= %.0f us", targetMicros);
  const bool ok = reportFigure(name, microsLine(costs), target, p99 <= targetMicros);

  // The ticks at which heap figures are due also start one GET per workspace; they come once a
  // heap interval (30 s by default), so they are shown apart and held to no target.
  std::vector<double> heapCosts;
  Usec now = monotonicNow();
  for (size_t i = 0; i < kHeapTicks; ++i) {
    now += kHeapDueStep;
    const double start = cpuMicros();
    r.manager->tick(now);
    heapCosts.push_back(cpuMicros() - start);
    if (!turnUntil(
            *r.loop, [&] { return r.http->inFlight() == 0; }, kSettleTimeout))
      break;
  }
  reportNote(name + ", heap read due",
             microsLine(heapCosts) + " (heap refreshes due: the tick starts its share of GETs)");
  return ok;
}

}  // namespace

bool runTickFigures(const DaemonBenchOptions& options) {
  bool ok = true;
  for (size_t workspaces : options.tickWorkspaces) ok &= tickFigure(workspaces);
  return ok;
}

}  // namespace wslgo::bench
