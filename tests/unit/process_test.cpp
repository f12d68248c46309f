#include "lib/process.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "tests/unit/child_process.h"
#include "tests/unit/fixtures.h"

using wslgo::parseCmdline;
using wslgo::parsePidList;
using wslgo::parseProcessStatus;
using wslgo::parseSmapsRollup;
using wslgo::SysRoots;

namespace {

constexpr pid_t kDaemonPid = 5298;
constexpr pid_t kDeletedExePid = 5350;
constexpr pid_t kZombiePid = 5363;
constexpr pid_t kKernelThreadPid = 2;
constexpr pid_t kVanishedPid = 31337;
constexpr uint64_t kKiB = 1024;

SysRoots processRoots() { return wslgo::test::fixtureRoots("processes"); }

std::string procFile(pid_t pid, const std::string& file) {
  return processRoots().proc + "/" + std::to_string(pid) + "/" + file;
}

using wslgo::test::killAndReap;
using wslgo::test::reapedChildPid;
using wslgo::test::sleepingChild;

}  // namespace

TEST_CASE("status of a gopls daemon gives its memory lines in bytes", "[process]") {
  auto status = wslgo::readProcessStatus(processRoots(), kDaemonPid);
  REQUIRE(status.ok());
  CHECK(status->name == "gopls");
  CHECK(status->pid == kDaemonPid);
  CHECK(status->uid == 0);
  // The captured file says "VmRSS:	   27172 kB" and so on.
  CHECK(status->vmRss == 27172 * kKiB);
  CHECK(status->rssAnon == 11236 * kKiB);
  CHECK(status->rssFile == 15936 * kKiB);
  CHECK(status->rssShmem == 0u);
  CHECK(status->vmSwap == 0u);
  CHECK(*status->vmRss == *status->rssAnon + *status->rssFile + *status->rssShmem);
}

TEST_CASE("a kernel thread and a zombie have no memory lines, which read as unset", "[process]") {
  for (pid_t pid : {kKernelThreadPid, kZombiePid}) {
    auto status = wslgo::readProcessStatus(processRoots(), pid);
    REQUIRE(status.ok());
    CHECK(status->pid == pid);
    CHECK_FALSE(status->vmRss.has_value());
    CHECK_FALSE(status->vmSwap.has_value());
    CHECK_FALSE(status->rssAnon.has_value());
    CHECK_FALSE(status->rssFile.has_value());
    CHECK_FALSE(status->rssShmem.has_value());
    auto argv = wslgo::readCmdline(processRoots(), pid);
    REQUIRE(argv.ok());
    CHECK(argv->empty());
  }
  auto kthread = wslgo::readProcessStatus(processRoots(), kKernelThreadPid);
  REQUIRE(kthread.ok());
  CHECK(kthread->name == "kthreadd");
  CHECK(kthread->ppid == 0);
}

TEST_CASE("status that is not a status file or has bad numbers is an error, not a crash",
          "[process]") {
  CHECK_FALSE(parseProcessStatus("").ok());
  CHECK_FALSE(parseProcessStatus("garbage\n\x01\x02").ok());
  CHECK_FALSE(parseProcessStatus("Name:\tx\n").ok());  // cut short before Pid

  auto badUnit = parseProcessStatus("Name:\tx\nPid:\t7\nVmRSS:\t12 MB\n");
  REQUIRE_FALSE(badUnit.ok());
  CHECK(badUnit.error().code == EINVAL);
  CHECK(badUnit.error().message.find("VmRSS") != std::string::npos);

  CHECK_FALSE(parseProcessStatus("Name:\tx\nPid:\tseven\n").ok());
  CHECK_FALSE(parseProcessStatus("Name:\tx\nPid:\t7\nVmRSS:\t-5 kB\n").ok());
  // 2^64 kB does not fit, and neither does 2^54 kB once multiplied to bytes.
  CHECK_FALSE(parseProcessStatus("Name:\tx\nPid:\t7\nVmRSS:\t18446744073709551616 kB\n").ok());
  CHECK_FALSE(parseProcessStatus("Name:\tx\nPid:\t7\nVmRSS:\t18014398509481984 kB\n").ok());
  auto largest = parseProcessStatus("Name:\tx\nPid:\t7\nVmRSS:\t18014398509481983 kB\n");
  REQUIRE(largest.ok());
  CHECK(largest->vmRss == 18014398509481983ull * kKiB);
}

TEST_CASE("status keeps a name with spaces and a truncated last line", "[process]") {
  auto status = parseProcessStatus("Name:\tWeb Content\nUid:\t1000\t1001\t1001\t1001\nPid:\t42");
  REQUIRE(status.ok());
  CHECK(status->name == "Web Content");
  CHECK(status->uid == 1000);  // the real uid, not the effective one
  CHECK(status->pid == 42);
}

TEST_CASE("a status file that does not parse is an error naming the file", "[process]") {
  namespace fs = std::filesystem;
  const fs::path root =
      fs::temp_directory_path() / ("wslgo-process-test-" + std::to_string(::getpid()));
  fs::create_directories(root / "proc/7");
  {
    std::ofstream out(root / "proc/7/status");
    out << "Rss:  1 kB\n";  // smaps_rollup text where status belongs
  }
  auto status = wslgo::readProcessStatus(SysRoots{(root / "proc").string(), "/sys"}, 7);
  fs::remove_all(root);
  REQUIRE_FALSE(status.ok());
  CHECK(status.error().code == EINVAL);
  CHECK(status.error().path == (root / "proc/7/status").string());
}

TEST_CASE("smaps_rollup of a gopls daemon gives Rss, Pss, Swap and Anonymous in bytes",
          "[process]") {
  auto rollup = wslgo::readSmapsRollup(processRoots(), kDaemonPid);
  REQUIRE(rollup.ok());
  CHECK(rollup->rss == 27172 * kKiB);
  CHECK(rollup->pss == 15610 * kKiB);
  CHECK(rollup->anonymous == 11236 * kKiB);
  CHECK(rollup->swap == 0u);
  CHECK(rollup->pss <= rollup->rss);
}

TEST_CASE("smaps_rollup without its lines or with overflowing sizes is an error", "[process]") {
  CHECK_FALSE(parseSmapsRollup("").ok());
  auto cut = parseSmapsRollup(
      "00400000-7ffef0198000 ---p 00000000 00:00 0   [rollup]\nRss:  10 kB\nPss:  5 kB\n");
  REQUIRE_FALSE(cut.ok());
  CHECK(cut.error().message.find("Swap") != std::string::npos);
  CHECK_FALSE(
      parseSmapsRollup("Rss: 99999999999999999999 kB\nPss: 1 kB\nSwap: 0 kB\nAnonymous: 0 kB\n")
          .ok());
}

TEST_CASE("a kernel thread and a zombie have no smaps_rollup", "[process]") {
  for (pid_t pid : {kKernelThreadPid, kZombiePid}) {
    auto rollup = wslgo::readSmapsRollup(processRoots(), pid);
    REQUIRE_FALSE(rollup.ok());
    CHECK(rollup.error().code == ENOENT);
    CHECK(rollup.error().path == procFile(pid, "smaps_rollup"));
  }
}

TEST_CASE("cmdline splits on NUL and keeps empty arguments", "[process]") {
  using V = std::vector<std::string>;
  CHECK(parseCmdline("") == V{});
  CHECK(parseCmdline(std::string_view("gopls\0serve\0", 12)) == V{"gopls", "serve"});
  CHECK(parseCmdline(std::string_view("gopls\0\0-x\0", 10)) == V{"gopls", "", "-x"});
  CHECK(parseCmdline(std::string_view("\0", 1)) == V{""});
  // A process that rewrote its title may leave out the final NUL.
  CHECK(parseCmdline("nginx: worker process") == V{"nginx: worker process"});

  auto argv = wslgo::readCmdline(processRoots(), 5311);
  REQUIRE(argv.ok());
  CHECK(*argv == V{"gopls", "serve", "-listen", "127.0.0.1:0", "-rpc.trace"});
}

TEST_CASE("exe strips the deleted suffix of a replaced binary and cwd reads the link",
          "[process]") {
  auto exe = wslgo::readExe(processRoots(), kDaemonPid);
  REQUIRE(exe.ok());
  CHECK(*exe == "/usr/bin/gopls");
  auto deleted = wslgo::readExe(processRoots(), kDeletedExePid);
  REQUIRE(deleted.ok());
  CHECK(*deleted == "/tmp/wslgo-fixture-bin/gopls");
  auto cwd = wslgo::readCwd(processRoots(), kDaemonPid);
  REQUIRE(cwd.ok());
  CHECK(*cwd == "/tmp/wslgo-fixture-ws");
  auto kthreadCwd = wslgo::readCwd(processRoots(), kKernelThreadPid);
  REQUIRE(kthreadCwd.ok());
  CHECK(*kthreadCwd == "/");
}

TEST_CASE("a process whose files vanished reads as ENOENT with the path", "[process]") {
  const SysRoots roots = processRoots();
  auto argv = wslgo::readCmdline(roots, kVanishedPid);
  REQUIRE_FALSE(argv.ok());
  CHECK(argv.error().code == ENOENT);
  CHECK(argv.error().path == procFile(kVanishedPid, "cmdline"));
  auto rollup = wslgo::readSmapsRollup(roots, kVanishedPid);
  REQUIRE_FALSE(rollup.ok());
  CHECK(rollup.error().code == ENOENT);
  auto exe = wslgo::readExe(roots, kVanishedPid);
  REQUIRE_FALSE(exe.ok());
  CHECK(exe.error().code == ENOENT);
  CHECK(exe.error().path == procFile(kVanishedPid, "exe"));
  CHECK_FALSE(wslgo::readCwd(roots, kVanishedPid).ok());
  CHECK_FALSE(wslgo::readProcessStatus(roots, 999999).ok());
  // The kernel thread has no exe at all.
  auto kthreadExe = wslgo::readExe(roots, kKernelThreadPid);
  REQUIRE_FALSE(kthreadExe.ok());
  CHECK(kthreadExe.error().code == ENOENT);
}

TEST_CASE("listPids lists the numeric entries of proc and nothing else", "[process]") {
  auto pids = wslgo::listPids(processRoots());
  REQUIRE(pids.ok());
  std::sort(pids->begin(), pids->end());
  CHECK(*pids == std::vector<pid_t>{2, 5298, 5311, 5320, 5335, 5336, 5350, 5363, 5458, 31337});

  auto missing = wslgo::listPids(SysRoots{"/nonexistent-wslgo-proc", "/sys"});
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().code == ENOENT);
  CHECK(missing.error().path == "/nonexistent-wslgo-proc");
}

TEST_CASE("a pid list has one pid per line and skips pids from other namespaces", "[process]") {
  using P = std::vector<pid_t>;
  auto pids = [](std::string_view text) { return parsePidList(text).valueOr({999}); };
  CHECK(pids("") == P{});
  CHECK(pids("1\n") == P{1});
  CHECK(pids("5298\n5311\n\n 42 \n") == P{5298, 5311, 42});
  CHECK(pids("12\n0\n13") == P{12, 13});
  auto garbage = parsePidList("12\nabc\n");
  REQUIRE_FALSE(garbage.ok());
  CHECK(garbage.error().code == EINVAL);
  CHECK(garbage.error().message.find("abc") != std::string::npos);
  CHECK_FALSE(parsePidList("-3\n").ok());
  CHECK_FALSE(parsePidList("99999999999999999999\n").ok());
  CHECK_FALSE(parsePidList("12 13\n").ok());
}

TEST_CASE("a reaped child's pid reads as gone with the path, from every reader",
          "[process][live]") {
  const SysRoots live;
  pid_t gone = reapedChildPid();
  const std::string dir = "/proc/" + std::to_string(gone);

  auto status = wslgo::readProcessStatus(live, gone);
  REQUIRE_FALSE(status.ok());
  CHECK((status.error().code == ENOENT || status.error().code == ESRCH));
  CHECK(status.error().path == dir + "/status");
  CHECK(status.error().describe().find(dir + "/status") != std::string::npos);

  auto rollup = wslgo::readSmapsRollup(live, gone);
  REQUIRE_FALSE(rollup.ok());
  CHECK(rollup.error().path == dir + "/smaps_rollup");
  auto argv = wslgo::readCmdline(live, gone);
  REQUIRE_FALSE(argv.ok());
  CHECK(argv.error().path == dir + "/cmdline");
  auto exe = wslgo::readExe(live, gone);
  REQUIRE_FALSE(exe.ok());
  CHECK(exe.error().path == dir + "/exe");
  CHECK_FALSE(wslgo::readCwd(live, gone).ok());
}

TEST_CASE("the test's own status and smaps_rollup agree with statm", "[process][live]") {
  const SysRoots live;
  const pid_t self = ::getpid();
  auto status = wslgo::readProcessStatus(live, self);
  REQUIRE(status.ok());
  CHECK(status->pid == self);
  CHECK(status->ppid == ::getppid());
  CHECK(status->uid == ::getuid());
  REQUIRE(status->vmRss.has_value());
  CHECK(*status->vmRss > 0u);

  auto rollup = wslgo::readSmapsRollup(live, self);
  REQUIRE(rollup.ok());

  // statm's second field is resident pages; read it independently of the code under test.
  std::string statm;
  auto text = wslgo::readFileInto("/proc/self/statm", statm);
  REQUIRE(text.ok());
  std::istringstream fields{std::string(*text)};
  uint64_t sizePages = 0;
  uint64_t residentPages = 0;
  fields >> sizePages >> residentPages;
  const uint64_t statmRss = residentPages * static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));

  // The three are sampled at different moments and the kernel batches its RSS counters per
  // CPU, so they agree within a margin rather than exactly.
  const uint64_t margin = std::max<uint64_t>(4 << 20, statmRss / 10);
  auto near = [&](uint64_t a, uint64_t b) { return (a > b ? a - b : b - a) <= margin; };
  CHECK(near(*status->vmRss, statmRss));
  CHECK(near(rollup->rss, statmRss));
  CHECK(rollup->pss <= rollup->rss);
}

TEST_CASE("the test's own cmdline and exe are what it was started with", "[process][live]") {
  const SysRoots live;
  auto argv = wslgo::readCmdline(live, ::getpid());
  REQUIRE(argv.ok());
  REQUIRE_FALSE(argv->empty());
  CHECK(argv->front() == program_invocation_name);

  auto exe = wslgo::readExe(live, ::getpid());
  REQUIRE(exe.ok());
  CHECK(*exe == std::filesystem::read_symlink("/proc/self/exe").string());
  CHECK(std::filesystem::path(*exe).filename() == std::filesystem::path(argv->front()).filename());

  auto cwd = wslgo::readCwd(live, ::getpid());
  REQUIRE(cwd.ok());
  CHECK(*cwd == std::filesystem::current_path().string());

  auto pids = wslgo::listPids(live);
  REQUIRE(pids.ok());
  CHECK(std::count(pids->begin(), pids->end(), ::getpid()) == 1);
  CHECK(std::count(pids->begin(), pids->end(), 1) == 1);
}

TEST_CASE("a kept reader samples a live process and stays failed once it exits",
          "[process][live]") {
  pid_t child = sleepingChild();
  wslgo::ProcessMemoryReader reader(SysRoots{}, child);
  CHECK(reader.pid() == child);
  auto first = reader.read();
  auto again = reader.read();
  auto status = reader.readStatus();
  killAndReap(child);
  REQUIRE(first.ok());
  REQUIRE(again.ok());
  CHECK(first->rss > 0u);
  REQUIRE(status.ok());
  CHECK(status->pid == child);

  auto afterExit = reader.read();
  REQUIRE_FALSE(afterExit.ok());
  CHECK((afterExit.error().code == ESRCH || afterExit.error().code == ENOENT));
  CHECK(afterExit.error().path == "/proc/" + std::to_string(child) + "/smaps_rollup");
  // Stays failed without reopening: the pid may already belong to someone else.
  auto statusAfterExit = reader.readStatus();
  REQUIRE_FALSE(statusAfterExit.ok());
  CHECK(statusAfterExit.error().code == ESRCH);
}
