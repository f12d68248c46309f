// FakeSystemdClient: an in-process systemd user manager for the Manager's unit tests — units
// that start, restart, crash, stop and vanish on command, with change signals delivered on the
// next turn of the (fake) loop as the real bus delivers them.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "daemon/systemd_client.h"
#include "tests/support/fake_scheduler.h"

namespace wslgo::test {

class FakeSystemdClient final : public SystemdClient {
 public:
  enum class Call { Start, Stop, Restart, UnitInfo, SetResourceControls, ListUnits };

  // Units live in cgroups below `cgroupParent` ("/user.slice/…/app.slice").
  FakeSystemdClient(FakeScheduler& scheduler, std::string cgroupParent);

  // Each call takes effect at once and answers on the next turn of the scheduler, as the bus
  // would; held() answers keep until releaseAnswers() (a hung manager).
  void startUnit(const std::string& name, const std::string& mode,
                 SystemdDone<std::string> done) override;
  void stopUnit(const std::string& name, const std::string& mode,
                SystemdDone<std::string> done) override;
  void restartUnit(const std::string& name, const std::string& mode,
                   SystemdDone<std::string> done) override;
  void unitInfo(const std::string& name, SystemdDone<UnitInfo> done) override;
  void setResourceControls(const std::string& name, const ResourceControls& controls, bool runtime,
                           SystemdDone<void> done) override;
  void resetFailed(const std::string& name, SystemdDone<void> done) override;
  // The units it has seen (started, asked about), matched as systemd does: fnmatch patterns,
  // states against the load, active and sub state.
  void listUnits(const std::vector<std::string>& states, const std::vector<std::string>& patterns,
                 SystemdDone<std::vector<ListedUnit>> done) override;
  void watchUnit(const std::string& name, SystemdDone<void> done) override;
  void unwatchUnit(const std::string& name) override;
  void onUnitChanged(UnitChangedHandler handler) override { unitChanged_ = std::move(handler); }
  void onJobRemoved(JobRemovedHandler handler) override { jobRemoved_ = std::move(handler); }
  void onManagerReloaded(ManagerReloadedHandler handler) override {
    reloaded_ = std::move(handler);
  }

  // Fault injection: the next such call fails with `error`.
  void failNext(Call call, Error error) { failures_[call] = std::move(error); }
  // A manager that does not answer: calls still take effect, their answers wait.
  void holdAnswers() { holding_ = true; }
  // Answers within the call, for a test whose loop runs on another thread (the bus's).
  void answerAtOnce() { atOnce_ = true; }
  // Delivers the answers held so far (on the next turn) and stops holding.
  void releaseAnswers();
  size_t answersHeld() const { return held_.size(); }

  // The synchronous forms the tests use to set the scene; they run the scheduler until the
  // answer arrives.
  Result<std::string> startNow(const std::string& name);
  Result<std::string> stopNow(const std::string& name);
  // The unit is gone (its unit file removed, say): every call about it fails as systemd's
  // "Unit … not found." does.
  void vanish(const std::string& name);
  // gopls died and systemd restarted it on its own: a new MainPID and NRestarts + 1.
  void crash(const std::string& name);
  // The kernel's OOM killer took gopls and systemd saw it (cgroup v2): as crash(), with the
  // unit's Result "oom-kill".
  void oomKill(const std::string& name);

  // Runs with each new MainPID, so a test can give the process its /proc files.
  std::function<void(const UnitInfo&)> onProcessStarted;

  const UnitInfo* unit(const std::string& name) const;
  // "start wslgo-gopls@….service", "restart …", "stop …", in order.
  const std::vector<std::string>& calls() const { return calls_; }
  size_t count(const std::string& verb, const std::string& name) const;
  // How many SetUnitProperties calls the unit has had.
  size_t controlsSet(const std::string& name) const;
  bool watched(const std::string& name) const { return watched_.count(name) != 0; }

 private:
  std::optional<Error> takeFailure(Call call);
  template <class T>
  void answer(SystemdDone<T> done, Result<T> result);
  Result<UnitInfo*> existing(const std::string& name);
  void run(UnitInfo& unit);
  std::string job(const std::string& verb, const std::string& name);
  // Delivers the change and the job's end on the next turn, as the bus would.
  void announce(const std::string& name, std::string jobPath);

  FakeScheduler& scheduler_;
  std::string cgroupParent_;
  std::map<std::string, UnitInfo> units_;
  std::map<std::string, size_t> controlsSet_;
  std::set<std::string> vanished_;
  std::set<std::string> watched_;
  std::map<Call, Error> failures_;
  std::vector<std::string> calls_;
  std::vector<Timer> deliveries_;
  bool holding_ = false;
  bool atOnce_ = false;
  std::vector<std::function<void()>> held_;
  uint32_t nextPid_ = 5000;
  uint32_t nextJob_ = 1;
  UnitChangedHandler unitChanged_;
  JobRemovedHandler jobRemoved_;
  ManagerReloadedHandler reloaded_;
};

}  // namespace wslgo::test
