// FakeManager: a small org.freedesktop.systemd1 that runs real processes, with fault injection.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <sdbus-c++/IConnection.h>
#include <sdbus-c++/IObject.h>

#include "tests/integration/fake_systemd1/fake_cgroups.h"

namespace wslgo::fake {

using Clock = std::chrono::steady_clock;

// Only wslgo-gopls@X.service units exist (LoadState "loaded"); a name containing "masked" is
// masked; everything else is "not-found", as systemd reports a unit without a unit file.
// Unit and job signals go out only while someone is subscribed, as on a real user manager, so a
// client that forgets to (re-)Subscribe sees nothing.
class FakeManager {
 public:
  struct Options {
    std::string execCommand;  // run with sh -c for every unit; WSLGO_FAKE_SYSTEMD_EXEC
    std::string envDir;       // <instance>.env files; WSLGO_FAKE_SYSTEMD_ENV_DIR
  };

  // With `cgroups`, every unit's processes run in a real cgroup of their own and ControlGroup
  // names it; without, they stay in ours and ControlGroup is a made-up path.
  FakeManager(sdbus::IConnection& connection, Options options,
              std::optional<FakeCgroups> cgroups = std::nullopt);
  ~FakeManager();
  FakeManager(const FakeManager&) = delete;
  FakeManager& operator=(const FakeManager&) = delete;

  // A child exited (from the main loop's SIGCHLD handling).
  void childExited(pid_t pid, int status);
  // Runs the timers that are due; returns when the next one is due, if any.
  std::optional<Clock::time_point> runDueTimers(Clock::time_point now);
  // SIGKILL to every unit's process group and cgroup, then the cgroups are removed (on exit, so
  // no test leaves processes or cgroups behind).
  void killAll();

 private:
  enum class JobType { kStart, kStop, kRestart };
  struct Job {
    uint32_t id = 0;
    std::string path;
    JobType type = JobType::kStart;
  };
  struct Unit {
    std::string name;
    std::string path;
    std::string instance;
    std::string loadState;
    std::string activeState = "inactive";
    std::string subState = "dead";
    pid_t mainPid = 0;
    uint32_t nRestarts = 0;
    uint64_t memoryHigh = UINT64_MAX;
    uint64_t memoryMax = UINT64_MAX;
    uint64_t cpuWeight = UINT64_MAX;  // systemd's "unset"
    uint64_t ioWeight = UINT64_MAX;
    bool failNextJob = false;
    bool stopping = false;
    uint64_t generation = 0;  // bumped on every transition, so stale timers do nothing
    std::vector<Clock::time_point> recentRestarts;
    std::optional<Job> job;
    std::unique_ptr<sdbus::IObject> object;
  };

  void registerManager();
  void registerControl();
  Unit& loadUnit(const std::string& name);
  Unit& loadedUnitOrThrow(const std::string& name);
  Unit& startableUnitOrThrow(const std::string& name);
  std::string queueJob(const std::string& name, const std::string& mode, JobType type);
  void runJob(const std::string& name);
  void finishJob(Unit& unit, const std::string& result);
  void beginStop(Unit& unit);
  bool spawn(Unit& unit);
  void setState(Unit& unit, const std::string& active, const std::string& sub);
  void emitUnitChanged(Unit& unit, std::vector<std::string> unitProperties,
                       std::vector<std::string> serviceProperties);
  void addTimer(Clock::duration delay, std::function<void()> action);
  bool subscribed() const { return !subscribers_.empty(); }

  sdbus::IConnection& connection_;
  Options options_;
  std::optional<FakeCgroups> cgroups_;
  std::unique_ptr<sdbus::IObject> manager_;
  std::unique_ptr<sdbus::IObject> control_;
  std::map<std::string, std::unique_ptr<Unit>> units_;
  std::set<std::string> subscribers_;
  std::multimap<Clock::time_point, std::function<void()>> timers_;
  std::chrono::microseconds startDelay_{0};
  uint32_t nextJobId_ = 1;
};

}  // namespace wslgo::fake
