// Per-process readers: /proc/PID/{status,smaps_rollup,cmdline,exe,cwd} and pid lists.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/kept_file.h"
#include "lib/result.h"
#include "lib/sys_roots.h"

namespace wslgo {

// Memory lines of /proc/PID/status, in bytes. Kernel threads and zombies have no Vm* lines:
// those read as unset rather than 0.
struct ProcessStatus {
  std::string name;
  pid_t pid = 0;
  pid_t ppid = 0;
  uid_t uid = 0;
  std::optional<uint64_t> vmRss;
  std::optional<uint64_t> vmSwap;
  std::optional<uint64_t> rssAnon;
  std::optional<uint64_t> rssFile;
  std::optional<uint64_t> rssShmem;
};

// /proc/PID/smaps_rollup (Linux 4.14+), in bytes.
struct SmapsRollup {
  uint64_t rss = 0;
  uint64_t pss = 0;
  uint64_t swap = 0;
  uint64_t anonymous = 0;
};

Result<ProcessStatus> parseProcessStatus(std::string_view text);
Result<SmapsRollup> parseSmapsRollup(std::string_view text);
// NUL-separated argv. An empty file (kernel thread, zombie) is an empty vector.
std::vector<std::string> parseCmdline(std::string_view text);
// A cgroup.procs / tasks file: one pid per line.
Result<std::vector<pid_t>> parsePidList(std::string_view text);

Result<ProcessStatus> readProcessStatus(const SysRoots& roots, pid_t pid);
Result<SmapsRollup> readSmapsRollup(const SysRoots& roots, pid_t pid);
Result<std::vector<std::string>> readCmdline(const SysRoots& roots, pid_t pid);
// The target of /proc/PID/exe, without the " (deleted)" suffix of a replaced binary.
Result<std::string> readExe(const SysRoots& roots, pid_t pid);
Result<std::string> readCwd(const SysRoots& roots, pid_t pid);
// Every numeric entry of /proc. Processes may vanish right after; readers handle ENOENT/ESRCH.
Result<std::vector<pid_t>> listPids(const SysRoots& roots);

// Keeps /proc/PID/smaps_rollup and /proc/PID/status open for repeated sampling of one process.
// Once a read fails because the process is gone (ESRCH, ENOENT) every later read fails the
// same way: reopening by path could land on an unrelated process that reused the pid.
class ProcessMemoryReader {
 public:
  ProcessMemoryReader(const SysRoots& roots, pid_t pid);
  pid_t pid() const { return pid_; }
  // smaps_rollup walks every mapping: exact (Pss, Swap) but costs more than status.
  Result<SmapsRollup> read();
  // status carries counters the kernel keeps up to date: cheap enough for every tick.
  Result<ProcessStatus> readStatus();

 private:
  Result<std::string_view> readKept(KeptFile& file);

  pid_t pid_;
  KeptFile smapsRollup_;
  KeptFile status_;
  bool gone_ = false;
};

}  // namespace wslgo
