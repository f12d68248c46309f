#include <poll.h>
#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <sdbus-c++/IConnection.h>
#include <catch2/catch.hpp>

#include "daemon/systemd_client_dbus.h"
#include "lib/unit_name.h"
#include "tests/integration/support/fake_systemd.h"
#include "tests/integration/support/private_bus.h"

namespace wslgo {
namespace {

using namespace std::chrono_literals;

struct JobEvent {
  uint32_t id;
  std::string job;
  std::string unit;
  std::string result;
};

// Processes the client's connection the way the daemon's sd-event loop does (poll data, then
// processPendingRequest until it has nothing left) until `done` holds or the deadline passes.
bool pumpUntil(sdbus::IConnection& connection, const std::function<bool()>& done,
               std::chrono::milliseconds timeout = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    while (connection.processPendingRequest()) {
      if (done()) return true;
    }
    if (done()) return true;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    const auto pollData = connection.getEventLoopPollData();
    int timeoutMs = pollData.getPollTimeout();
    const int leftMs = static_cast<int>(left.count());
    timeoutMs = timeoutMs < 0 ? leftMs : std::min(timeoutMs, leftMs);
    pollfd pfd{pollData.fd, pollData.events, 0};
    ::poll(&pfd, 1, timeoutMs);
  }
}

bool processAlive(uint32_t pid) { return pid > 0 && ::kill(static_cast<pid_t>(pid), 0) == 0; }

std::string unitFor(const std::string& workspace) {
  auto name = workspaceUnitName(workspace);
  REQUIRE(name.ok());
  return *name;
}

// A private bus, the fake manager on it, and the client under test on its own connection.
struct Harness {
  test::PrivateBus bus;
  test::FakeSystemd fake;
  std::unique_ptr<sdbus::IConnection> connection;
  std::unique_ptr<SystemdClientDbus> client;
  std::vector<JobEvent> jobs;

  Harness(test::PrivateBus privateBus, test::FakeSystemd fakeSystemd)
      : bus(std::move(privateBus)), fake(std::move(fakeSystemd)), connection(bus.connect()) {
    auto created = SystemdClientDbus::create(*connection);
    if (!created.ok()) FAIL("SystemdClientDbus::create: " << created.error().describe());
    client = std::move(created).value();
    client->onJobRemoved([this](uint32_t id, const std::string& job, const std::string& unit,
                                const std::string& result) {
      jobs.push_back({id, job, unit, result});
    });
  }

  // The client's calls, answered: the connection is processed until `done` runs.
  template <class T, class Call>
  Result<T> answered(Call call) {
    std::optional<Result<T>> got;
    call([&got](Result<T> result) { got.emplace(std::move(result)); });
    if (!pumpUntil(
            *connection, [&] { return got.has_value(); }, 15s)) {
      FAIL("the client's done never ran");
    }
    return std::move(*got);
  }
  Result<std::string> startUnit(const std::string& name, const std::string& mode = "replace") {
    return answered<std::string>([&](auto done) { client->startUnit(name, mode, done); });
  }
  Result<std::string> stopUnit(const std::string& name) {
    return answered<std::string>([&](auto done) { client->stopUnit(name, "replace", done); });
  }
  Result<UnitInfo> unitInfo(const std::string& name) {
    return answered<UnitInfo>([&](auto done) { client->unitInfo(name, done); });
  }
  Result<void> setResourceControls(const std::string& name, const ResourceControls& controls) {
    return answered<void>(
        [&](auto done) { client->setResourceControls(name, controls, true, done); });
  }
  Result<void> resetFailed(const std::string& name) {
    return answered<void>([&](auto done) { client->resetFailed(name, done); });
  }
  Result<std::vector<ListedUnit>> listUnits(const std::vector<std::string>& states,
                                            const std::vector<std::string>& patterns) {
    return answered<std::vector<ListedUnit>>(
        [&](auto done) { client->listUnits(states, patterns, done); });
  }
  Result<void> watchUnit(const std::string& name) {
    return answered<void>([&](auto done) { client->watchUnit(name, done); });
  }

  // The JobRemoved for `jobPath`, once it arrives.
  std::optional<JobEvent> waitForJob(const std::string& jobPath) {
    auto find = [&]() -> const JobEvent* {
      for (const auto& e : jobs) {
        if (e.job == jobPath) return &e;
      }
      return nullptr;
    };
    if (!pumpUntil(*connection, [&] { return find() != nullptr; })) return std::nullopt;
    return *find();
  }

  std::string startAndWait(const std::string& unit) {
    auto job = startUnit(unit);
    REQUIRE(job.ok());
    auto done = waitForJob(*job);
    REQUIRE(done.has_value());
    REQUIRE(done->result == "done");
    return *job;
  }
};

#define WSLGO_START_FAKE_SYSTEMD(var, options)                                 \
  WSLGO_START_PRIVATE_BUS(var##Bus);                                           \
  auto var##Fake = ::wslgo::test::FakeSystemd::start(var##Bus, options);       \
  if (!var##Fake.ok()) FAIL("fake systemd: " << var##Fake.error().describe()); \
  Harness var(std::move(var##Bus), std::move(var##Fake).value())

TEST_CASE("a started unit reports JobRemoved done and runs a live main process until stopped",
          "[systemd_client]") {
  WSLGO_START_FAKE_SYSTEMD(h, {});
  const std::string unit = unitFor("/tmp/ws-start");

  auto job = h.startUnit(unit);
  REQUIRE(job.ok());
  CHECK(job->starts_with("/org/freedesktop/systemd1/job/"));
  auto started = h.waitForJob(*job);
  REQUIRE(started.has_value());
  CHECK(started->unit == unit);
  CHECK(started->result == "done");

  auto info = h.unitInfo(unit);
  REQUIRE(info.ok());
  CHECK(info->name == unit);
  CHECK(info->loadState == "loaded");
  CHECK(info->activeState == "active");
  CHECK(info->subState == "running");
  CHECK_FALSE(info->controlGroup.empty());
  CHECK(info->nRestarts == 0);
  CHECK_FALSE(info->memoryHigh.has_value());
  // The unit name escapes '-' and '/': the path must come from systemd, not be built by hand.
  CHECK(info->objectPath.starts_with("/org/freedesktop/systemd1/unit/wslgo_2dgopls_40"));
  const uint32_t pid = info->mainPid;
  REQUIRE(processAlive(pid));

  auto stopJob = h.stopUnit(unit);
  REQUIRE(stopJob.ok());
  auto stopped = h.waitForJob(*stopJob);
  REQUIRE(stopped.has_value());
  CHECK(stopped->result == "done");
  auto after = h.unitInfo(unit);
  REQUIRE(after.ok());
  CHECK(after->activeState == "inactive");
  CHECK(after->mainPid == 0);
  CHECK_FALSE(processAlive(pid));
}

TEST_CASE("ListUnitsByPatterns lists the loaded units matching a pattern and a state",
          "[systemd_client]") {
  WSLGO_START_FAKE_SYSTEMD(h, {});
  const std::string running = unitFor("/tmp/ws-listed");
  const std::string stopped = unitFor("/tmp/ws-stopped");
  h.startAndWait(running);
  REQUIRE(h.unitInfo(stopped).ok());  // loaded, never started

  auto active = h.listUnits({"active", "activating"}, {"wslgo-gopls@*.service"});
  REQUIRE(active.ok());
  REQUIRE(active->size() == 1);
  CHECK(active->front().name == running);
  CHECK(active->front().loadState == "loaded");
  CHECK(active->front().activeState == "active");
  CHECK(active->front().subState == "running");

  auto any = h.listUnits({}, {"wslgo-gopls@*.service"});
  REQUIRE(any.ok());
  CHECK(any->size() == 2);
  auto none = h.listUnits({}, {"other@*.service"});
  REQUIRE(none.ok());
  CHECK(none->empty());
}

TEST_CASE("a unit runs the configured command with its instance and environment file",
          "[systemd_client]") {
  char dirTemplate[] = "/tmp/wslgo-fake-env-XXXXXX";
  REQUIRE(::mkdtemp(dirTemplate) != nullptr);
  const std::string dir = dirTemplate;
  const std::string unit = unitFor("/tmp/ws-env");
  const std::string instance = unit.substr(12, unit.size() - 12 - 8);
  std::ofstream(dir + "/" + instance + ".env") << "# comment\nGOPLS_FLAGS=-rpc.trace\n";
  const std::string out = dir + "/out";
  test::FakeSystemd::Options options;
  options.execCommand = "echo \"$WSLGO_INSTANCE $GOPLS_FLAGS\" > " + out + ".tmp && mv " + out +
                        ".tmp " + out + " && exec sleep 600";
  options.envDir = dir;
  WSLGO_START_FAKE_SYSTEMD(h, options);

  h.startAndWait(unit);
  std::string line;
  REQUIRE(pumpUntil(*h.connection, [&] {
    std::ifstream in(out);
    return static_cast<bool>(std::getline(in, line));
  }));
  CHECK(line == instance + " -rpc.trace");
}

TEST_CASE("a job systemd fails reaches onJobRemoved as failed and leaves the unit failed",
          "[systemd_client]") {
  WSLGO_START_FAKE_SYSTEMD(h, {});
  const std::string unit = unitFor("/tmp/ws-fail");
  REQUIRE(h.fake.failNextJob(unit).ok());

  auto job = h.startUnit(unit);
  REQUIRE(job.ok());  // systemd accepts the job; only its end says it failed
  auto removed = h.waitForJob(*job);
  REQUIRE(removed.has_value());
  CHECK(removed->result == "failed");
  auto info = h.unitInfo(unit);
  REQUIRE(info.ok());
  CHECK(info->activeState == "failed");

  REQUIRE(h.resetFailed(unit).ok());
  auto reset = h.unitInfo(unit);
  REQUIRE(reset.ok());
  CHECK(reset->activeState == "inactive");
}

TEST_CASE("a crashed unit is restarted by systemd and the watcher hears of it",
          "[systemd_client]") {
  WSLGO_START_FAKE_SYSTEMD(h, {});
  const std::string unit = unitFor("/tmp/ws-crash");
  const std::string other = unitFor("/tmp/ws-unwatched");
  std::vector<std::string> changed;
  h.client->onUnitChanged([&](const std::string& name) { changed.push_back(name); });
  REQUIRE(h.watchUnit(unit).ok());
  h.startAndWait(unit);
  h.startAndWait(other);
  auto before = h.unitInfo(unit);
  REQUIRE(before.ok());
  REQUIRE(before->nRestarts == 0);
  changed.clear();

  REQUIRE(h.fake.crashUnit(unit).ok());
  uint32_t newPid = 0;
  REQUIRE(pumpUntil(*h.connection, [&] {
    if (changed.empty()) return false;
    auto info = h.unitInfo(unit);
    if (!info.ok() || info->nRestarts != 1 || info->activeState != "active") return false;
    newPid = info->mainPid;
    return true;
  }));
  CHECK(std::all_of(changed.begin(), changed.end(), [&](const auto& n) { return n == unit; }));
  CHECK(newPid != before->mainPid);
  CHECK(processAlive(newPid));

  // Unwatched, a crash is no longer reported, while systemd still restarts the unit.
  h.client->unwatchUnit(unit);
  changed.clear();
  REQUIRE(h.fake.crashUnit(unit).ok());
  REQUIRE(pumpUntil(*h.connection, [&] {
    auto info = h.unitInfo(unit);
    return info.ok() && info->nRestarts == 2 && info->activeState == "active";
  }));
  CHECK(changed.empty());
}

TEST_CASE(
    "resource controls set through the client read back from systemd, and infinity clears "
    "the memory limits",
    "[systemd_client]") {
  WSLGO_START_FAKE_SYSTEMD(h, {});
  const std::string unit = unitFor("/tmp/ws-memory");
  h.startAndWait(unit);

  REQUIRE(
      h.setResourceControls(
           unit,
           {.memoryHigh = 768ull << 20, .memoryMax = 1ull << 30, .cpuWeight = 50, .ioWeight = 20})
          .ok());
  auto limited = h.unitInfo(unit);
  REQUIRE(limited.ok());
  CHECK(limited->memoryHigh == 768ull << 20);
  CHECK(limited->memoryMax == 1ull << 30);
  CHECK(limited->cpuWeight == 50u);
  CHECK(limited->ioWeight == 20u);

  REQUIRE(h.setResourceControls(unit, {.memoryHigh = std::nullopt,
                                       .memoryMax = std::nullopt,
                                       .cpuWeight = 100,
                                       .ioWeight = 100})
              .ok());
  auto unlimited = h.unitInfo(unit);
  REQUIRE(unlimited.ok());
  CHECK_FALSE(unlimited->memoryHigh.has_value());
  CHECK_FALSE(unlimited->memoryMax.has_value());
  CHECK(unlimited->cpuWeight == 100u);
}

TEST_CASE("units systemd refuses are errors that name the unit and quote systemd",
          "[systemd_client]") {
  WSLGO_START_FAKE_SYSTEMD(h, {});

  auto missing = h.startUnit("no-such-thing.service");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().code == ENOENT);
  CHECK_THAT(missing.error().describe(), Catch::Contains("no-such-thing.service") &&
                                             Catch::Contains("not found") &&
                                             Catch::Contains("StartUnit"));

  auto masked = h.startUnit("masked-thing.service");
  REQUIRE_FALSE(masked.ok());
  CHECK_THAT(masked.error().describe(),
             Catch::Contains("masked-thing.service") && Catch::Contains("is masked"));

  auto badMode = h.startUnit(unitFor("/tmp/ws-mode"), "sideways");
  REQUIRE_FALSE(badMode.ok());
  CHECK(badMode.error().code == EINVAL);

  auto setOnMissing = h.setResourceControls(
      "no-such-thing.service",
      {.memoryHigh = std::nullopt, .memoryMax = 1ull << 30, .cpuWeight = 100, .ioWeight = 100});
  REQUIRE_FALSE(setOnMissing.ok());
  CHECK_THAT(setOnMissing.error().describe(), Catch::Contains("no-such-thing.service"));

  // Reading a unit without a unit file is not an error: systemd loads it as "not-found".
  auto info = h.unitInfo("no-such-thing.service");
  REQUIRE(info.ok());
  CHECK(info->loadState == "not-found");
  CHECK(info->activeState == "inactive");
}

TEST_CASE("after a manager reload the client re-subscribes and keeps its watches",
          "[systemd_client]") {
  WSLGO_START_FAKE_SYSTEMD(h, {});
  const std::string unit = unitFor("/tmp/ws-reload");
  int reloads = 0;
  std::vector<std::string> changed;
  h.client->onManagerReloaded([&] { ++reloads; });
  h.client->onUnitChanged([&](const std::string& name) { changed.push_back(name); });
  REQUIRE(h.watchUnit(unit).ok());
  auto subscribedBefore = h.fake.subscribers();
  REQUIRE(subscribedBefore.ok());
  REQUIRE(*subscribedBefore == 1);

  REQUIRE(h.fake.emitReload().ok());
  REQUIRE(pumpUntil(*h.connection, [&] { return reloads == 1; }));
  // The fake forgets subscribers on reload, as a re-executed manager does.
  auto subscribedAfter = h.fake.subscribers();
  REQUIRE(subscribedAfter.ok());
  CHECK(*subscribedAfter == 1);

  h.startAndWait(unit);
  REQUIRE(pumpUntil(*h.connection, [&] { return !changed.empty(); }));
  CHECK(changed.front() == unit);
}

TEST_CASE("a start job that takes time shows the unit activating until JobRemoved",
          "[systemd_client]") {
  WSLGO_START_FAKE_SYSTEMD(h, {});
  const std::string unit = unitFor("/tmp/ws-slow");
  REQUIRE(h.fake.setStartDelay(300ms).ok());

  auto job = h.startUnit(unit);
  REQUIRE(job.ok());
  auto during = h.unitInfo(unit);
  REQUIRE(during.ok());
  CHECK(during->activeState == "activating");
  CHECK(during->mainPid == 0);
  auto done = h.waitForJob(*job);
  REQUIRE(done.has_value());
  CHECK(done->result == "done");
  auto after = h.unitInfo(unit);
  REQUIRE(after.ok());
  CHECK(after->activeState == "active");
}

TEST_CASE("the client cannot be created on a bus without a systemd manager, and says so",
          "[systemd_client]") {
  WSLGO_START_PRIVATE_BUS(bus);
  auto connection = bus.connect();
  auto created = SystemdClientDbus::create(*connection);
  REQUIRE_FALSE(created.ok());
  CHECK_THAT(created.error().describe(), Catch::Contains("systemd --user"));
}

}  // namespace
}  // namespace wslgo
