#include "tests/support/fake_systemd_client.h"

#include <fnmatch.h>

#include <algorithm>
#include <cerrno>

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

Result<std::string> FakeSystemdClient::startUnit(const std::string& name, const std::string&) {
  if (auto failure = takeFailure(Call::Start)) return *failure;
  auto unit = existing(name);
  if (!unit) return unit.error();
  std::string path = job("start", name);
  if ((*unit)->activeState != "active") run(**unit);
  announce(name, path);
  return path;
}

Result<std::string> FakeSystemdClient::restartUnit(const std::string& name, const std::string&) {
  if (auto failure = takeFailure(Call::Restart)) return *failure;
  auto unit = existing(name);
  if (!unit) return unit.error();
  std::string path = job("restart", name);
  run(**unit);  // systemd counts only its own automatic restarts in NRestarts
  announce(name, path);
  return path;
}

Result<std::string> FakeSystemdClient::stopUnit(const std::string& name, const std::string&) {
  if (auto failure = takeFailure(Call::Stop)) return *failure;
  auto unit = existing(name);
  if (!unit) return unit.error();
  std::string path = job("stop", name);
  (*unit)->activeState = "inactive";
  (*unit)->subState = "dead";
  (*unit)->mainPid = 0;
  announce(name, path);
  return path;
}

Result<UnitInfo> FakeSystemdClient::unitInfo(const std::string& name) {
  if (auto failure = takeFailure(Call::UnitInfo)) return *failure;
  auto unit = existing(name);
  if (!unit) return unit.error();
  return **unit;
}

Result<void> FakeSystemdClient::setResourceControls(const std::string& name,
                                                    const ResourceControls& controls, bool) {
  if (auto failure = takeFailure(Call::SetResourceControls)) return *failure;
  auto unit = existing(name);
  if (!unit) return unit.error();
  (*unit)->memoryHigh = controls.memoryHigh;
  (*unit)->memoryMax = controls.memoryMax;
  (*unit)->cpuWeight = controls.cpuWeight;
  (*unit)->ioWeight = controls.ioWeight;
  ++controlsSet_[name];
  return {};
}

Result<void> FakeSystemdClient::resetFailed(const std::string& name) {
  auto unit = existing(name);
  if (!unit) return unit.error();
  if ((*unit)->activeState == "failed") (*unit)->activeState = "inactive";
  return {};
}

Result<std::vector<ListedUnit>> FakeSystemdClient::listUnits(
    const std::vector<std::string>& states, const std::vector<std::string>& patterns) {
  if (auto failure = takeFailure(Call::ListUnits)) return *failure;
  auto anyOf = [](const std::vector<std::string>& wanted, auto&& matches) {
    return wanted.empty() || std::any_of(wanted.begin(), wanted.end(), matches);
  };
  std::vector<ListedUnit> out;
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
  return out;
}

Result<void> FakeSystemdClient::watchUnit(const std::string& name) {
  watched_.insert(name);
  return {};
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
