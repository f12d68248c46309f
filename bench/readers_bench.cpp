// Reader benchmarks: system memory + PSI, and one workspace (its cgroup files plus the
// smaps_rollup of its main process), measured on this machine's real kernel files.
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "bench/bench.h"
#include "bench/benches.h"
#include "lib/cgroup_hierarchy.h"
#include "lib/cgroup_memory_reader.h"
#include "lib/meminfo.h"
#include "lib/process.h"
#include "lib/psi.h"

namespace wslgo::bench {
namespace {

constexpr uint64_t kIterations = 20000;
constexpr size_t kBallastBytes = 64u << 20;

// A throwaway workspace: a child process holding 64 MiB of touched memory, placed in a cgroup
// of its own in every writable hierarchy, the way systemd places a gopls unit. Without the
// rights to make cgroups it stays in ours, and the figures say so.
class BenchWorkspace {
 public:
  explicit BenchWorkspace(const SysRoots& roots) : roots_(roots) {
    // The child touches its ballast only once it sits in its cgroup: v1 keeps charges where
    // they were made, so memory touched before the move would not show in the new cgroup.
    int go[2];
    if (pipe(go) != 0) return;
    child_ = fork();
    if (child_ == 0) {
      char byte;
      close(go[1]);
      if (::read(go[0], &byte, 1) != 1) _exit(1);
      std::vector<char> ballast(kBallastBytes);
      for (size_t i = 0; i < ballast.size(); i += 4096) ballast[i] = 1;
      pause();
      _exit(0);
    }
    close(go[0]);
    auto layout = readCgroupLayout(roots_);
    if (!layout) {
      close(go[1]);
      return;
    }
    controlGroup_ = "/wslgo-bench-" + std::to_string(getpid());
    std::vector<const CgroupMount*> mounts;
    if (layout->unified) mounts.push_back(&*layout->unified);
    for (const auto& mount : layout->v1) {
      if (mount.has("memory") || mount.has("name=systemd")) mounts.push_back(&mount);
    }
    for (const CgroupMount* mount : mounts) {
      auto dir = cgroupDirIn(*mount, controlGroup_, roots_);
      if (!dir || mkdir(dir->c_str(), 0755) != 0) continue;
      created_.push_back(*dir);
      std::ofstream(*dir + "/cgroup.procs") << child_ << "\n";
    }
    if (created_.empty()) {
      auto entries = readProcCgroup(roots_, getpid());
      controlGroup_ = entries ? controlGroupOf(*entries).value_or("/") : "/";
    }
    dirs_ = cgroupDirsFor(*layout, controlGroup_, roots_);
    if (::write(go[1], "g", 1) != 1) std::perror("bench: waking the workspace child");
    close(go[1]);
    usleep(200 * 1000);  // let the child touch its ballast before we measure
  }

  ~BenchWorkspace() {
    kill(child_, SIGKILL);
    waitpid(child_, nullptr, 0);
    for (auto it = created_.rbegin(); it != created_.rend(); ++it) rmdir(it->c_str());
  }

  pid_t pid() const { return child_; }
  const CgroupDirs& dirs() const { return dirs_; }
  std::string where() const {
    return created_.empty() ? "the benchmark's own cgroup " + controlGroup_
                            : "a new cgroup " + controlGroup_;
  }

 private:
  SysRoots roots_;
  pid_t child_ = -1;
  std::string controlGroup_;
  std::vector<std::string> created_;
  CgroupDirs dirs_;
};

}  // namespace

bool runReaderBenches() {
  SysRoots roots;
  bool ok = true;

  MeminfoReader meminfo(roots);
  PressureReader memoryPressure(roots.procPath("pressure/memory"));
  if (!meminfo.read() || !memoryPressure.read()) {
    std::printf("readers: /proc/meminfo or /proc/pressure/memory unreadable\n");
    return false;
  }
  ok &= report("system: /proc/meminfo + /proc/pressure/memory",
               cpuMicrosPerCall(kIterations,
                                [&] {
                                  (void)meminfo.read();
                                  (void)memoryPressure.read();
                                }),
               20);

  BenchWorkspace workspace(roots);
  CgroupMemoryReader cgroup(roots, workspace.dirs());
  ProcessMemoryReader mainProcess(roots, workspace.pid());
  auto sample = cgroup.read();
  auto rollup = mainProcess.read();
  if (!sample || !rollup) {
    std::printf("readers: cannot read the workspace: %s\n",
                (!sample ? sample.error() : rollup.error()).describe().c_str());
    return false;
  }
  std::printf("workspace: %s, memory from %s (%llu bytes), PSI %s, main process RSS %llu bytes\n",
              workspace.where().c_str(), std::string(toString(sample->currentSource)).c_str(),
              static_cast<unsigned long long>(sample->current.value_or(0)),
              sample->pressure ? "from cgroup2" : "absent",
              static_cast<unsigned long long>(rollup->rss));
  ok &= report("workspace: cgroup memory sample + status of main process",
               cpuMicrosPerCall(kIterations,
                                [&] {
                                  (void)cgroup.read();
                                  (void)mainProcess.readStatus();
                                }),
               50);
  // smaps_rollup walks every page table entry of the process, so its cost grows with RSS:
  // the daemon reads it at the heap interval (default 30 s), never on the sampling tick.
  double rollupMicros = cpuMicrosPerCall(kIterations / 100, [&] { (void)mainProcess.read(); });
  uint64_t rssMiB = std::max<uint64_t>(rollup->rss >> 20, 1);
  std::printf(
      "%-58s %9.2f us/op  (%.2f us per MiB of RSS; off the hot path)\n",
      ("workspace: smaps_rollup of main process, " + std::to_string(rssMiB) + " MiB RSS").c_str(),
      rollupMicros, rollupMicros / static_cast<double>(rssMiB));
  return ok;
}

}  // namespace wslgo::bench
