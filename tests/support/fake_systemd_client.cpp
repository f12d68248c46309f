#include "tests/support/fake_systemd_client.h"

#include <fnmatch.h>

#include <algorithm>
#include <cerrno>
#include <optional>

namespace wslgo::test {

FakeSystemdClient::FakeSystemdClient(FakeScheduler& scheduler, std::string cgroupParent)
    : scheduler_(scheduler), cgroupParent_(std::move(cgroupParent)) {}

std::optional<Error> FakeSystemdClient::takeFailure(Call call) {
  auto it = failures_.find(call);
  if (it == failures_.end()) return std::nullopt;
  Error error = std::move(it->second);
  failures_.erase(it);
  return error;
}

Result<UnitInfo*> FakeSystemdClient::existing(const std::string& name) {
  if (vanished_.count(name) != 0) {
    return errnoError(ENOENT, name,
                      "org.freedesktop.systemd1.NoSuchUnit: Unit " + name + " not found.");
  }
  UnitInfo& unit = units_[name];
  if (unit.name.empty()) {
    unit.name = name;
    unit.loadState = "loaded";
    unit.activeState = "inactive";
    unit.subState = "dead";
  }
  return &unit;
}

std::string FakeSystemdClient::job(const std::string& verb, const std::string& name) {
  calls_.push_back(verb + " " + name);
  return "/org/freedesktop/systemd1/job/" + std::to_string(nextJob_++);
}

void FakeSystemdClient::run(UnitInfo& unit) {
  unit.result = "success";
  unit.activeState = "active";
  unit.subState = "running";
  unit.controlGroup = cgroupParent_ + "/" + unit.name;
  unit.mainPid = nextPid_++;
  if (onProcessStarted) onProcessStarted(unit);
}

void FakeSystemdClient::announce(const std::string& name, std::string jobPath) {
  std::erase_if(deliveries_, [](const Timer& timer) { return !timer.pending(); });
  auto timer = scheduler_.addOneShotTimer(Usec(0), [this, name, jobPath](Usec) {
    if (watched_.count(name) != 0 && unitChanged_) unitChanged_(name);
    if (!jobPath.empty() && jobRemoved_) jobRemoved_(0, jobPath, name, "done");
  });
  if (timer) deliveries_.push_back(std::move(*timer));
}

template <class T>
void FakeSystemdClient::answer(SystemdDone<T> done, Result<T> result) {
  if (atOnce_) return done(std::move(result));
  auto deliver = [done = std::move(done), result = std::move(result)]() mutable {
    done(std::move(result));
  };
  if (holding_) {
    held_.push_back(std::move(deliver));
    return;
  }
  std::erase_if(deliveries_, [](const Timer& timer) { return !timer.pending(); });
  auto timer = scheduler_.addOneShotTimer(
      Usec(0), [deliver = std::move(deliver)](Usec) mutable { deliver(); });
  if (timer) deliveries_.push_back(std::move(*timer));
}

void FakeSystemdClient::releaseAnswers() {
  holding_ = false;
  std::vector<std::function<void()>> held = std::move(held_);
  held_.clear();
  for (auto& deliver : held) {
    auto timer = scheduler_.addOneShotTimer(
        Usec(0), [deliver = std::move(deliver)](Usec) mutable { deliver(); });
    if (timer) deliveries_.push_back(std::move(*timer));
  }
}

namespace {

template <class T>
Result<T> runUntilAnswered(FakeScheduler& scheduler,
                           const std::function<void(SystemdDone<T>)>& call) {
  std::optional<Result<T>> got;
  call([&got](Result<T> result) { got.emplace(std::move(result)); });
  for (int turn = 0; turn < 10 && !got; ++turn) scheduler.runDue();
  if (!got) return errnoError(ETIMEDOUT, "fake systemd", "no answer (answers held?)");
  return std::move(*got);
}

}  // namespace

Result<std::string> FakeSystemdClient::startNow(const std::string& name) {
  return runUntilAnswered<std::string>(
      scheduler_, [&](SystemdDone<std::string> done) { startUnit(name, "replace", done); });
}

Result<std::string> FakeSystemdClient::stopNow(const std::string& name) {
  return runUntilAnswered<std::string>(
      scheduler_, [&](SystemdDone<std::string> done) { stopUnit(name, "replace", done); });
}

void FakeSystemdClient::startUnit(const std::string& name, const std::string&,
                                  SystemdDone<std::string> done) {
  if (auto failure = takeFailure(Call::Start)) return answer<std::string>(done, *failure);
  auto unit = existing(name);
  if (!unit) return answer<std::string>(done, unit.error());
  std::string path = job("start", name);
  if ((*unit)->activeState != "active") run(**unit);
  announce(name, path);
  answer<std::string>(done, path);
}

void FakeSystemdClient::restartUnit(const std::string& name, const std::string&,
                                    SystemdDone<std::string> done) {
  if (auto failure = takeFailure(Call::Restart)) return answer<std::string>(done, *failure);
  auto unit = existing(name);
  if (!unit) return answer<std::string>(done, unit.error());
  std::string path = job("restart", name);
  run(**unit);  // systemd counts only its own automatic restarts in NRestarts
  announce(name, path);
  answer<std::string>(done, path);
}

void FakeSystemdClient::stopUnit(const std::string& name, const std::string&,
                                 SystemdDone<std::string> done) {
  if (auto failure = takeFailure(Call::Stop)) return answer<std::string>(done, *failure);
  auto unit = existing(name);
  if (!unit) return answer<std::string>(done, unit.error());
  std::string path = job("stop", name);
  (*unit)->activeState = "inactive";
  (*unit)->subState = "dead";
  (*unit)->mainPid = 0;
  announce(name, path);
  answer<std::string>(done, path);
}

void FakeSystemdClient::unitInfo(const std::string& name, SystemdDone<UnitInfo> done) {
  if (auto failure = takeFailure(Call::UnitInfo)) return answer<UnitInfo>(done, *failure);
  auto unit = existing(name);
  if (!unit) return answer<UnitInfo>(done, unit.error());
  // What systemd says when it answers, not when it was asked.
  const bool holding = holding_;
  answer<UnitInfo>(
      [this, name, done, holding](Result<UnitInfo> asked) {
        if (!holding || !asked) return done(std::move(asked));
        const UnitInfo* now = this->unit(name);
        done(now != nullptr ? Result<UnitInfo>(*now) : std::move(asked));
      },
      **unit);
}

void FakeSystemdClient::setResourceControls(const std::string& name,
                                            const ResourceControls& controls, bool,
                                            SystemdDone<void> done) {
  if (auto failure = takeFailure(Call::SetResourceControls)) return answer<void>(done, *failure);
  auto unit = existing(name);
  if (!unit) return answer<void>(done, unit.error());
  (*unit)->memoryHigh = controls.memoryHigh;
  (*unit)->memoryMax = controls.memoryMax;
  (*unit)->cpuWeight = controls.cpuWeight;
  (*unit)->ioWeight = controls.ioWeight;
  ++controlsSet_[name];
  answer<void>(done, {});
}

void FakeSystemdClient::resetFailed(const std::string& name, SystemdDone<void> done) {
  auto unit = existing(name);
  if (!unit) return answer<void>(done, unit.error());
  if ((*unit)->activeState == "failed") (*unit)->activeState = "inactive";
  answer<void>(done, {});
}

void FakeSystemdClient::listUnits(const std::vector<std::string>& states,
                                  const std::vector<std::string>& patterns,
                                  SystemdDone<std::vector<ListedUnit>> done) {
  using Listed = std::vector<ListedUnit>;
  if (auto failure = takeFailure(Call::ListUnits)) return answer<Listed>(done, *failure);
  auto anyOf = [](const std::vector<std::string>& wanted, auto&& matches) {
    return wanted.empty() || std::any_of(wanted.begin(), wanted.end(), matches);
  };
  Listed out;
  for (const auto& [name, unit] : units_) {
    bool stateMatches = anyOf(states, [&](const std::string& state) {
      return state == unit.loadState || state == unit.activeState || state == unit.subState;
    });
    bool nameMatches = anyOf(patterns, [&](const std::string& pattern) {
      return ::fnmatch(pattern.c_str(), name.c_str(), 0) == 0;
    });
    if (stateMatches && nameMatches) {
      out.push_back(ListedUnit{.name = name,
                               .loadState = unit.loadState,
                               .activeState = unit.activeState,
                               .subState = unit.subState});
    }
  }
  answer<Listed>(done, std::move(out));
}

void FakeSystemdClient::watchUnit(const std::string& name, SystemdDone<void> done) {
  watched_.insert(name);
  answer<void>(done, {});
}

void FakeSystemdClient::unwatchUnit(const std::string& name) { watched_.erase(name); }

void FakeSystemdClient::vanish(const std::string& name) {
  vanished_.insert(name);
  units_.erase(name);
  announce(name, "");
}

void FakeSystemdClient::crash(const std::string& name) {
  auto it = units_.find(name);
  if (it == units_.end()) return;
  run(it->second);
  ++it->second.nRestarts;
  announce(name, "");
}

void FakeSystemdClient::oomKill(const std::string& name) {
  auto it = units_.find(name);
  if (it == units_.end()) return;
  run(it->second);
  // systemd keeps the Result of the run that ended until the next explicit start.
  it->second.result = "oom-kill";
  ++it->second.nRestarts;
  announce(name, "");
}

size_t FakeSystemdClient::controlsSet(const std::string& name) const {
  auto it = controlsSet_.find(name);
  return it == controlsSet_.end() ? 0 : it->second;
}

const UnitInfo* FakeSystemdClient::unit(const std::string& name) const {
  auto it = units_.find(name);
  return it == units_.end() ? nullptr : &it->second;
}

size_t FakeSystemdClient::count(const std::string& verb, const std::string& name) const {
  return static_cast<size_t>(std::count(calls_.begin(), calls_.end(), verb + " " + name));
}

}  // namespace wslgo::test
