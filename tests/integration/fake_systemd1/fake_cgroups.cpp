#include "tests/integration/fake_systemd1/fake_cgroups.h"

#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string_view>

#include "lib/cgroup_hierarchy.h"

namespace wslgo::fake {
namespace {

// The v1 controllers systemd itself puts services in on a hybrid host. cpuset and freezer are
// left alone as systemd leaves them: a new v1 cpuset admits no process until its cpus and mems
// are filled in.
constexpr std::string_view kManagedV1[] = {"memory", "pids",    "cpu",         "cpuacct",
                                           "blkio",  "devices", "name=systemd"};
constexpr auto kRemoveTimeout = std::chrono::seconds(3);

bool managedBySystemd(const CgroupMount& mount) {
  return std::any_of(std::begin(kManagedV1), std::end(kManagedV1),
                     [&](std::string_view controller) { return mount.has(controller); });
}

std::vector<pid_t> procsIn(const std::string& dir) {
  std::vector<pid_t> pids;
  std::ifstream in(dir + "/cgroup.procs");
  std::string line;
  while (std::getline(in, line)) {
    pid_t pid = 0;
    if (std::from_chars(line.data(), line.data() + line.size(), pid).ec == std::errc{} && pid > 0) {
      pids.push_back(pid);
    }
  }
  return pids;
}

}  // namespace

Result<FakeCgroups> FakeCgroups::create(const SysRoots& roots, const std::string& parentName) {
  auto layout = readCgroupLayout(roots);
  if (!layout) return layout.error();
  std::vector<const CgroupMount*> mounts;
  if (layout->unified) mounts.push_back(&*layout->unified);
  for (const CgroupMount& mount : layout->v1) {
    if (managedBySystemd(mount)) mounts.push_back(&mount);
  }
  const std::string parentPath = "/" + parentName;
  std::vector<std::string> made;
  std::string refused;
  for (const CgroupMount* mount : mounts) {
    auto dir = cgroupDirIn(*mount, parentPath, roots);
    if (!dir) continue;
    if (::mkdir(dir->c_str(), 0755) == 0 || errno == EEXIST) {
      made.push_back(*dir);
    } else {
      refused += " " + *dir + " (" + std::strerror(errno) + ")";
    }
  }
  if (made.empty()) {
    return errnoError(EACCES, roots.rebase("/sys/fs/cgroup"),
                      "no cgroup hierarchy lets us make " + parentPath +
                          "; run as root or with a delegated cgroup, or without "
                          "WSLGO_FAKE_SYSTEMD_CGROUP. Refused:" +
                          refused);
  }
  return FakeCgroups(parentPath, std::move(made));
}

FakeCgroups::~FakeCgroups() { removeAll(); }

std::string FakeCgroups::controlGroup(const std::string& unit) const {
  return parentPath_ + "/" + unit;
}

Result<std::vector<std::string>> FakeCgroups::prepareUnit(const std::string& unit) {
  if (std::find(units_.begin(), units_.end(), unit) == units_.end()) units_.push_back(unit);
  std::vector<std::string> procs;
  for (const std::string& parent : parentDirs_) {
    const std::string dir = parent + "/" + unit;
    if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
      return errnoError(errno, dir, "cannot make the unit's cgroup");
    }
    procs.push_back(dir + "/cgroup.procs");
  }
  return procs;
}

void FakeCgroups::releaseUnit(const std::string& unit) {
  if (killAndRemove(unit)) std::erase(units_, unit);
}

bool FakeCgroups::killAndRemove(const std::string& unit) {
  bool allGone = true;
  for (const std::string& parent : parentDirs_) {
    const std::string dir = parent + "/" + unit;
    for (pid_t pid : procsIn(dir)) ::kill(pid, SIGKILL);
    if (::rmdir(dir.c_str()) != 0 && errno != ENOENT) allGone = false;
  }
  return allGone;
}

void FakeCgroups::removeAll() {
  if (parentDirs_.empty()) return;
  // SIGKILLed processes leave their cgroup when they exit, not when they are reaped, so this
  // waits for the kernel only; the poll is a bounded teardown, not a synchronization.
  const auto deadline = std::chrono::steady_clock::now() + kRemoveTimeout;
  for (;;) {
    std::erase_if(units_, [&](const std::string& unit) { return killAndRemove(unit); });
    if (units_.empty() || std::chrono::steady_clock::now() >= deadline) break;
    ::poll(nullptr, 0, 20);
  }
  for (const std::string& unit : units_) {
    std::fprintf(stderr, "wslgo-fake-systemd1: could not remove the cgroups of %s\n", unit.c_str());
  }
  for (const std::string& parent : parentDirs_) {
    if (::rmdir(parent.c_str()) != 0 && errno != ENOENT) {
      std::fprintf(stderr, "wslgo-fake-systemd1: could not remove %s: %s\n", parent.c_str(),
                   std::strerror(errno));
    }
  }
  parentDirs_.clear();
  units_.clear();
}

}  // namespace wslgo::fake
