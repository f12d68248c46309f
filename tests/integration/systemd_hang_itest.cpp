// A systemd user manager that stops answering (it happens under the memory pressure the guard
// is there for): the real guard on a private bus, its fake systemd1 frozen with SIGSTOP.
#include <signal.h>
#include <sys/types.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <future>
#include <string>
#include <thread>

#include "lib/unit_name.h"
#include "tests/integration/support/guard_scenario.h"

namespace wslgo::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// SIGSTOP now, SIGCONT when it goes out of scope (a failed check must not leave it frozen).
class Frozen {
 public:
  explicit Frozen(pid_t pid) : pid_(pid) { REQUIRE(::kill(pid_, SIGSTOP) == 0); }
  ~Frozen() { thaw(); }
  Frozen(const Frozen&) = delete;
  Frozen& operator=(const Frozen&) = delete;
  void thaw() {
    if (pid_ > 0) ::kill(pid_, SIGCONT);
    pid_ = -1;
  }

 private:
  pid_t pid_;
};

std::string activeStateOf(Scenario& s, const std::string& unit) {
  auto systemd =
      sdbus::createProxy(*s.client, "org.freedesktop.systemd1", "/org/freedesktop/systemd1");
  sdbus::ObjectPath path;
  systemd->callMethod("LoadUnit")
      .onInterface("org.freedesktop.systemd1.Manager")
      .withArguments(unit)
      .storeResultsTo(path);
  auto proxy = sdbus::createProxy(*s.client, "org.freedesktop.systemd1", path);
  return proxy->getProperty("ActiveState")
      .onInterface("org.freedesktop.systemd1.Unit")
      .get<std::string>();
}

TEST_CASE(
    "a systemd manager that stops answering costs the guard nothing: GetStatus answers at once, "
    "AddWorkspace fails inside D-Bus' 25 s naming the timeout, and all works when systemd is back",
    "[guard][systemd]") {
  WSLGO_START_SCENARIO(s);
  addWorkspace(s, s.home.makeModule("first"));
  const std::string slow = s.home.makeModule("slow");
  const std::string slowUnit = *workspaceUnitName(slow);

  Frozen frozen(s.systemd->pid());
  const auto askedAt = Clock::now();
  auto pending =
      std::async(std::launch::async, [&] { return errorOf([&] { addWorkspace(s, slow); }); });
  // The guard's loop goes on: every GetStatus while the add waits is answered at once.
  Clock::duration slowest{};
  while (pending.wait_for(200ms) != std::future_status::ready) {
    const auto asked = Clock::now();
    std::string status;
    s.manager->callMethod("GetStatus").onInterface(kManager).storeResultsTo(status);
    slowest = std::max(slowest, Clock::now() - asked);
    CHECK(status.find("first") != std::string::npos);
    REQUIRE(Clock::now() - askedAt < 30s);
  }
  const auto took = Clock::now() - askedAt;
  const std::string error = pending.get();
  CHECK(slowest < 1s);
  CHECK(took < 25s);
  CHECK(took >= 5s);  // it did wait for systemd, one call's timeout at least
  CHECK_THAT(error, Catch::StartsWith("org.wslgo.Guard1.Error.Failed") &&
                        Catch::Contains(slowUnit) && Catch::Contains("timed out"));

  // Back: what it queued while frozen runs, the start and the stop behind it, so the unit the
  // guard gave up on does not run unguarded; then the workspace can be added.
  frozen.thaw();
  CHECK(waitUntil([&] { return activeStateOf(s, slowUnit) == "inactive"; }, 15s));
  std::this_thread::sleep_for(500ms);
  CHECK(activeStateOf(s, slowUnit) == "inactive");
  CHECK(errorOf([&] { addWorkspace(s, slow); }).empty());
  CHECK(waitUntil([&] { return activeStateOf(s, slowUnit) == "active"; }, 30s));
}

}  // namespace
}  // namespace wslgo::test
