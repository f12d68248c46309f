#include "lib/cgroup_memory.h"

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "lib/cgroup_hierarchy.h"
#include "lib/cgroup_memory_reader.h"
#include "lib/kept_file.h"
#include "tests/unit/fixtures.h"
#include "tests/unit/live.h"
#include "tests/unit/scratch_cgroup.h"

using namespace wslgo;
namespace fs = std::filesystem;

namespace {

constexpr std::string_view kHybridUnit =
    "/user.slice/user-1000.slice/user@1000.service/app.slice/wslgo-gopls@x.service";
constexpr std::string_view kV2Unit =
    "/user.slice/user-1000.slice/user@1000.service/app.slice/"
    "wslgo-gopls@-home-me-src-app.service";

// A writable copy of a fixture tree, for the failure modes: files cut short, removed, garbled.
class TempTree {
 public:
  explicit TempTree(const std::string& fixture) {
    std::string pattern = (fs::temp_directory_path() / "wslgo-cgroup-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    dir_ = pattern;
    fs::copy(test::fixturePath(fixture), dir_,
             fs::copy_options::recursive | fs::copy_options::copy_symlinks);
  }
  ~TempTree() {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }
  TempTree(const TempTree&) = delete;
  TempTree& operator=(const TempTree&) = delete;

  SysRoots roots() const { return SysRoots{(dir_ / "proc").string(), (dir_ / "sys").string()}; }

  static void write(const std::string& path, std::string_view contents) {
    std::ofstream out(path, std::ios::trunc);
    out << contents;
    REQUIRE(out.good());
  }

 private:
  fs::path dir_;
};

CgroupDirs dirsFor(const SysRoots& roots, std::string_view unit) {
  auto layout = readCgroupLayout(roots);
  REQUIRE(layout.ok());
  return cgroupDirsFor(*layout, unit, roots);
}

// The files were captured with the unit's processes in them; these are the figures they hold.
constexpr uint64_t kHybridUsage = 59195392;
constexpr uint64_t kHybridInactiveFile = 2846720;
constexpr uint64_t kHybridVmRss = 59448 * 1024;  // VmRSS of pid 5610 in proc/5610/status

}  // namespace

TEST_CASE("memory sources have stable names", "[cgroup-memory]") {
  CHECK(toString(MemorySource::None) == "none");
  CHECK(toString(MemorySource::CgroupV2) == "cgroup-v2");
  CHECK(toString(MemorySource::CgroupV1) == "cgroup-v1");
  CHECK(toString(MemorySource::ProcessRss) == "process-rss");
}

TEST_CASE("a cgroup value holds any 64-bit number and rejects overflow and garbage",
          "[cgroup-memory]") {
  CHECK(parseCgroupValue("1438269440\n").valueOr(0) == 1438269440);
  CHECK(parseCgroupValue("0").valueOr(1) == 0);
  CHECK(parseCgroupValue("18446744073709551615\n").valueOr(0) == 18446744073709551615ull);

  auto overflow = parseCgroupValue("99999999999999999999\n");
  REQUIRE_FALSE(overflow.ok());
  CHECK(overflow.error().code == EINVAL);
  CHECK_THAT(overflow.error().message, Catch::Contains("64 bits"));

  for (std::string_view garbage : {"max\n", "", "\n", "-1\n", "12 kB\n", "0x10\n", "12abc"}) {
    INFO(garbage);
    CHECK_FALSE(parseCgroupValue(garbage).ok());
  }
}

TEST_CASE("memory limits map max and v1's near-2^63 to unlimited, never to 0", "[cgroup-memory]") {
  auto max = parseMemoryLimit("max\n");
  REQUIRE(max.ok());
  CHECK(max->kind == MemoryLimit::Kind::Unlimited);
  CHECK_FALSE(max->isLimited());

  auto v1Unlimited = parseMemoryLimit("9223372036854771712\n");
  REQUIRE(v1Unlimited.ok());
  CHECK(v1Unlimited->kind == MemoryLimit::Kind::Unlimited);
  // 64 KiB pages give a different "unlimited" value; any figure from 2^62 on is one.
  CHECK(parseMemoryLimit("9223372036854710272").valueOr({}).kind == MemoryLimit::Kind::Unlimited);
  CHECK(parseMemoryLimit("4611686018427387904").valueOr({}).kind == MemoryLimit::Kind::Unlimited);

  auto bytes = parseMemoryLimit("4294967296\n");
  REQUIRE(bytes.ok());
  CHECK(bytes->kind == MemoryLimit::Kind::Bytes);
  CHECK(bytes->bytes == 4294967296);
  CHECK(parseMemoryLimit("0\n").valueOr({}).kind == MemoryLimit::Kind::Bytes);

  CHECK_FALSE(parseMemoryLimit("maximum\n").ok());
  CHECK_FALSE(parseMemoryLimit("").ok());
  CHECK_FALSE(parseMemoryLimit("99999999999999999999").ok());
}

TEST_CASE("v2 memory.stat of a 6.x kernel yields the figures the guard uses", "[cgroup-memory]") {
  std::string buffer;
  auto text = readFileInto(std::string(test::fixtureRoots("v2").sys) + "/fs/cgroup" +
                               std::string(kV2Unit) + "/memory.stat",
                           buffer);
  REQUIRE(text.ok());
  auto stat = parseCgroupV2MemoryStat(*text);
  REQUIRE(stat.ok());
  CHECK(stat->anon == 1184210944u);
  CHECK(stat->file == 215744512u);
  CHECK(stat->kernel == 38313984u);
  CHECK(stat->shmem == 0u);
  CHECK(stat->sock == 0u);
  CHECK(stat->inactiveFile == 150994944u);
  CHECK(stat->activeFile == 64749568u);
  CHECK_FALSE(stat->swap);
}

TEST_CASE("v2 memory.stat of a kernel before 5.18 leaves kernel unset", "[cgroup-memory]") {
  auto stat = parseCgroupV2MemoryStat(
      "anon 100\nfile 200\nkernel_stack 8\nslab 16\nsock 0\nshmem 4\n"
      "inactive_file 150\nactive_file 50\n");
  REQUIRE(stat.ok());
  CHECK_FALSE(stat->kernel);
  CHECK(stat->shmem == 4u);
}

TEST_CASE("v1 memory.stat maps the hierarchical total_ lines onto the v2 names",
          "[cgroup-memory]") {
  // The plain lines count only tasks directly in the cgroup and must not win.
  auto stat = parseCgroupV1MemoryStat(
      "cache 1\nrss 2\nshmem 3\nswap 4\ninactive_file 5\nactive_file 6\n"
      "total_cache 10\ntotal_rss 20\ntotal_shmem 30\ntotal_swap 40\n"
      "total_inactive_file 50\ntotal_active_file 60\n");
  REQUIRE(stat.ok());
  CHECK(stat->anon == 20u);
  CHECK(stat->file == 10u);
  CHECK(stat->shmem == 30u);
  CHECK(stat->swap == 40u);
  CHECK(stat->inactiveFile == 50u);
  CHECK(stat->activeFile == 60u);
  CHECK_FALSE(stat->kernel);
  CHECK_FALSE(stat->sock);
}

TEST_CASE("truncated or garbage memory.stat is an error naming the line", "[cgroup-memory]") {
  SECTION("cut off before inactive_file") {
    auto stat = parseCgroupV2MemoryStat("anon 1184210944\nfile 215744512\nkernel 3831");
    REQUIRE_FALSE(stat.ok());
    CHECK_THAT(stat.error().message, Catch::Contains("inactive_file"));
  }
  SECTION("cut off inside a key") {
    auto stat = parseCgroupV2MemoryStat("anon 1\nfile 2\ninactive_file 3\nactive_fi");
    REQUIRE_FALSE(stat.ok());
    CHECK_THAT(stat.error().message, Catch::Contains("line 4"));
  }
  SECTION("a value that is not a number") {
    auto stat = parseCgroupV2MemoryStat("anon lots\nfile 2\ninactive_file 3\n");
    REQUIRE_FALSE(stat.ok());
    CHECK_THAT(stat.error().message, Catch::Contains("anon"));
  }
  SECTION("a value that overflows") {
    auto stat = parseCgroupV1MemoryStat(
        "total_rss 99999999999999999999\ntotal_cache 1\ntotal_inactive_file 1\n");
    REQUIRE_FALSE(stat.ok());
    CHECK_THAT(stat.error().message, Catch::Contains("64 bits"));
  }
  SECTION("empty") {
    CHECK_FALSE(parseCgroupV2MemoryStat("").ok());
    CHECK_FALSE(parseCgroupV1MemoryStat("").ok());
  }
  SECTION("binary garbage") {
    CHECK_FALSE(parseCgroupV2MemoryStat(std::string_view("\x7f\x45\x4c\x46\0\1", 6)).ok());
  }
}

TEST_CASE("memory.events counts low, high, max, oom and oom_kill", "[cgroup-memory]") {
  auto events = parseMemoryEvents("low 1\nhigh 2\nmax 3\noom 4\noom_kill 5\noom_group_kill 6\n");
  REQUIRE(events.ok());
  CHECK(events->low == 1);
  CHECK(events->high == 2);
  CHECK(events->max == 3);
  CHECK(events->oom == 4);
  CHECK(events->oomKill == 5);

  auto beforeOomKill = parseMemoryEvents("low 0\nhigh 0\nmax 0\noom 7\n");
  REQUIRE(beforeOomKill.ok());
  CHECK(beforeOomKill->oomKill == 0);

  CHECK_FALSE(parseMemoryEvents("low 0\nhigh 0\n").ok());
  CHECK_FALSE(parseMemoryEvents("low 0\nhigh x\nmax 0\noom 0\n").ok());
}

TEST_CASE("the working set is current minus inactive file cache", "[cgroup-memory]") {
  MemorySample sample;
  CHECK_FALSE(sample.workingSet());
  sample.current = 1000;
  CHECK(sample.workingSet() == 1000u);  // no memory.stat (process RSS): nothing to subtract
  sample.stat.inactiveFile = 300;
  CHECK(sample.workingSet() == 700u);
  // memory.stat is read after memory.current; a burst of page cache in between must not wrap.
  sample.stat.inactiveFile = 1200;
  CHECK(sample.workingSet() == 0u);
}

TEST_CASE("the reader on a pure v2 unit reads every figure from cgroup2", "[cgroup-memory]") {
  SysRoots roots = test::fixtureRoots("v2");
  CgroupMemoryReader reader(roots, dirsFor(roots, kV2Unit));
  auto sample = reader.read();
  REQUIRE(sample.ok());
  CHECK(sample->current == 1438269440u);
  CHECK(sample->currentSource == MemorySource::CgroupV2);
  CHECK(sample->statSource == MemorySource::CgroupV2);
  CHECK(sample->stat.anon == 1184210944u);
  CHECK(sample->stat.inactiveFile == 150994944u);
  CHECK(sample->workingSet() == 1438269440u - 150994944u);
  CHECK(sample->swapCurrent == 12582912u);
  CHECK(sample->swapSource == MemorySource::CgroupV2);
  REQUIRE(sample->events);
  CHECK(sample->events->max == 17);
  CHECK(sample->events->oomKill == 1);
  CHECK(sample->high.kind == MemoryLimit::Kind::Unlimited);
  CHECK(sample->max.kind == MemoryLimit::Kind::Bytes);
  CHECK(sample->max.bytes == 4294967296u);
  CHECK(sample->limitSource == MemorySource::CgroupV2);
  CHECK_FALSE(sample->failcnt);
  CHECK(sample->reclaimAvailable);
  REQUIRE(sample->pressure);
  CHECK(sample->pressure->some.avg60 == Approx(0.12));
  REQUIRE(sample->pressure->full);
  CHECK(sample->pressure->full->totalUsec == 1399827u);
  CHECK(sample->pids.empty());

  // The second sample comes from the kept files and must agree.
  auto again = reader.read();
  REQUIRE(again.ok());
  CHECK(again->current == sample->current);
  CHECK(again->stat.file == sample->stat.file);
  CHECK(again->reclaimAvailable);
}

TEST_CASE("the reader on the hybrid capture takes usage from v1 and pressure from cgroup2",
          "[cgroup-memory]") {
  SysRoots roots = test::fixtureRoots("hybrid");
  CgroupDirs dirs = dirsFor(roots, kHybridUnit);
  REQUIRE(dirs.unified);
  REQUIRE(dirs.memoryV1);
  CgroupMemoryReader reader(roots, dirs);
  for (int round = 0; round < 2; ++round) {
    auto sample = reader.read();
    REQUIRE(sample.ok());
    CHECK(sample->current == kHybridUsage);
    CHECK(sample->currentSource == MemorySource::CgroupV1);
    CHECK(sample->statSource == MemorySource::CgroupV1);
    CHECK(sample->stat.anon == 55373824u);
    CHECK(sample->stat.file == 3514368u);
    CHECK(sample->stat.inactiveFile == kHybridInactiveFile);
    CHECK(sample->stat.activeFile == 667648u);
    CHECK(sample->stat.shmem == 0u);
    CHECK_FALSE(sample->stat.kernel);
    CHECK(sample->workingSet() == kHybridUsage - kHybridInactiveFile);
    CHECK(sample->swapCurrent == 0u);  // total_swap: swap accounting is on
    CHECK(sample->swapSource == MemorySource::CgroupV1);
    CHECK(sample->max.kind == MemoryLimit::Kind::Unlimited);
    CHECK(sample->limitSource == MemorySource::CgroupV1);
    CHECK(sample->high.kind == MemoryLimit::Kind::Absent);
    CHECK(sample->failcnt == 0u);
    CHECK_FALSE(sample->events);
    CHECK_FALSE(sample->reclaimAvailable);
    REQUIRE(sample->pressure);
    CHECK(sample->pressure->some.totalUsec == 0u);
  }
}

TEST_CASE("the reader on a v1-only host has no pressure and no v2 figures", "[cgroup-memory]") {
  SysRoots roots = test::fixtureRoots("v1");
  CgroupDirs dirs = dirsFor(roots, kHybridUnit);
  CHECK_FALSE(dirs.unified);
  CgroupMemoryReader reader(roots, dirs);
  auto sample = reader.read();
  REQUIRE(sample.ok());
  CHECK(sample->current == kHybridUsage);
  CHECK(sample->currentSource == MemorySource::CgroupV1);
  CHECK(sample->max.kind == MemoryLimit::Kind::Unlimited);
  CHECK_FALSE(sample->pressure);
  CHECK_FALSE(sample->events);
}

TEST_CASE("without a memory controller the reader sums VmRSS and skips vanished pids",
          "[cgroup-memory]") {
  // A non-root user on a hybrid host: nobody creates a v1 memory cgroup for the unit.
  SysRoots roots = test::fixtureRoots("hybrid");
  CgroupDirs dirs = dirsFor(roots, kHybridUnit);
  dirs.memoryV1.reset();
  CgroupMemoryReader reader(roots, dirs);
  for (int round = 0; round < 2; ++round) {
    auto sample = reader.read();
    REQUIRE(sample.ok());
    // cgroup.procs lists 5610 and 5611; 5611 exited before its status could be read.
    CHECK(sample->current == kHybridVmRss);
    CHECK(sample->currentSource == MemorySource::ProcessRss);
    CHECK(sample->pids == std::vector<pid_t>{5610});
    CHECK(sample->statSource == MemorySource::None);
    CHECK(sample->limitSource == MemorySource::None);
    CHECK(sample->max.kind == MemoryLimit::Kind::Absent);
    CHECK(sample->workingSet() == kHybridVmRss);
    CHECK(sample->pressure);
  }
}

TEST_CASE("the RSS fallback on a v1-only host lists pids from the name=systemd hierarchy",
          "[cgroup-memory]") {
  SysRoots roots = test::fixtureRoots("v1");
  CgroupDirs dirs = dirsFor(roots, kHybridUnit);
  dirs.memoryV1 = roots.sys + "/fs/cgroup/memory/no-such-unit.service";
  CgroupMemoryReader reader(roots, dirs);
  auto sample = reader.read();
  REQUIRE(sample.ok());
  CHECK(sample->currentSource == MemorySource::ProcessRss);
  CHECK(sample->current == kHybridVmRss);
}

TEST_CASE("a unit whose cgroup directory is gone is ENOENT naming the directory",
          "[cgroup-memory]") {
  TempTree tree("v2");
  SysRoots roots = tree.roots();
  CgroupDirs dirs = dirsFor(roots, kV2Unit);
  REQUIRE(dirs.unified);
  fs::remove_all(*dirs.unified);
  CgroupMemoryReader reader(roots, dirs);
  auto sample = reader.read();
  REQUIRE_FALSE(sample.ok());
  CHECK(sample.error().code == ENOENT);
  CHECK(sample.error().path == *dirs.unified);
  CHECK_THAT(sample.error().describe(), Catch::Contains("stopped"));
}

TEST_CASE("a reader with no directory at all says so", "[cgroup-memory]") {
  CgroupMemoryReader reader(SysRoots{}, CgroupDirs{});
  auto sample = reader.read();
  REQUIRE_FALSE(sample.ok());
  CHECK(sample.error().code == ENOENT);
  CHECK_THAT(sample.error().message, Catch::Contains("no cgroup hierarchy"));
}

TEST_CASE("garbage in a cgroup file is an error naming that file", "[cgroup-memory]") {
  TempTree tree("v2");
  SysRoots roots = tree.roots();
  CgroupDirs dirs = dirsFor(roots, kV2Unit);
  const std::string& dir = *dirs.unified;

  SECTION("max in memory.current") {
    TempTree::write(dir + "/memory.current", "max\n");
    auto sample = CgroupMemoryReader(roots, dirs).read();
    REQUIRE_FALSE(sample.ok());
    CHECK(sample.error().code == EINVAL);
    CHECK(sample.error().path == dir + "/memory.current");
  }
  SECTION("an overflowing memory.current") {
    TempTree::write(dir + "/memory.current", "99999999999999999999\n");
    auto sample = CgroupMemoryReader(roots, dirs).read();
    REQUIRE_FALSE(sample.ok());
    CHECK(sample.error().path == dir + "/memory.current");
    CHECK_THAT(sample.error().message, Catch::Contains("64 bits"));
  }
  SECTION("the largest 64-bit memory.current") {
    TempTree::write(dir + "/memory.current", "18446744073709551615\n");
    auto sample = CgroupMemoryReader(roots, dirs).read();
    REQUIRE(sample.ok());
    CHECK(sample->current == 18446744073709551615ull);
  }
  SECTION("a truncated memory.stat") {
    TempTree::write(dir + "/memory.stat", "anon 1184210944\nfile 2157");
    auto sample = CgroupMemoryReader(roots, dirs).read();
    REQUIRE_FALSE(sample.ok());
    CHECK(sample.error().code == EINVAL);
    CHECK(sample.error().path == dir + "/memory.stat");
  }
  SECTION("garbage in memory.max") {
    TempTree::write(dir + "/memory.max", "lots\n");
    auto sample = CgroupMemoryReader(roots, dirs).read();
    REQUIRE_FALSE(sample.ok());
    CHECK(sample.error().path == dir + "/memory.max");
  }
}

TEST_CASE("optional cgroup files that are absent leave their figures unset", "[cgroup-memory]") {
  TempTree tree("v2");
  SysRoots roots = tree.roots();
  CgroupDirs dirs = dirsFor(roots, kV2Unit);
  const std::string& dir = *dirs.unified;
  // Swap accounting off, a kernel before 5.19, PSI off.
  fs::remove(dir + "/memory.swap.current");
  fs::remove(dir + "/memory.reclaim");
  fs::remove(dir + "/memory.pressure");
  CgroupMemoryReader reader(roots, dirs);
  for (int round = 0; round < 2; ++round) {
    auto sample = reader.read();
    REQUIRE(sample.ok());
    CHECK(sample->current == 1438269440u);
    CHECK_FALSE(sample->swapCurrent);
    CHECK(sample->swapSource == MemorySource::None);
    CHECK_FALSE(sample->reclaimAvailable);
    CHECK_FALSE(sample->pressure);
    CHECK(sample->max.bytes == 4294967296u);
  }
}

TEST_CASE("the RSS fallback with an unreadable cgroup.procs is an error naming it",
          "[cgroup-memory]") {
  TempTree tree("hybrid");
  SysRoots roots = tree.roots();
  CgroupDirs dirs = dirsFor(roots, kHybridUnit);
  dirs.memoryV1.reset();
  TempTree::write(*dirs.unified + "/cgroup.procs", "5610\nnot-a-pid\n");
  auto sample = CgroupMemoryReader(roots, dirs).read();
  REQUIRE_FALSE(sample.ok());
  CHECK(sample.error().path == *dirs.unified + "/cgroup.procs");
}

TEST_CASE("the reader over this test process's own cgroup reads a non-zero figure",
          "[cgroup-memory][live]") {
  SysRoots roots;
  auto layout = readCgroupLayout(roots);
  REQUIRE(layout.ok());
  auto entries = readProcCgroup(roots, ::getpid());
  REQUIRE(entries.ok());

  CgroupDirs dirs;
  for (const ProcCgroupEntry& entry : *entries) {
    if (entry.unified() && layout->unified) {
      dirs.unified = cgroupDirIn(*layout->unified, entry.path, roots);
    }
  }
  const CgroupMount* memory = layout->v1Controller("memory");
  auto memoryPath = cgroupPathOf(*entries, "memory");
  if (memory && memoryPath) dirs.memoryV1 = cgroupDirIn(*memory, *memoryPath, roots);
  INFO("unified: " << dirs.unified.value_or("-") << ", memory: " << dirs.memoryV1.value_or("-"));

  CgroupMemoryReader reader(roots, dirs);
  auto sample = reader.read();
  REQUIRE(sample.ok());
  REQUIRE(sample->current);
  CHECK(*sample->current > 0);
  if (layout->kind == CgroupLayoutKind::Hybrid && dirs.memoryV1) {
    CHECK(sample->currentSource == MemorySource::CgroupV1);
  }
}

TEST_CASE("the reader follows a real unit cgroup until it is removed", "[cgroup-memory][live]") {
  // Needs root and a hybrid host (this machine); elsewhere there is nothing to create.
  SysRoots roots;
  auto layout = readCgroupLayout(roots);
  REQUIRE(layout.ok());
  if (layout->kind != CgroupLayoutKind::Hybrid) {
    WARN("this host is not hybrid; its layout is covered by the fixture trees: skipped");
    return;
  }
  if (::geteuid() != 0) WSLGO_SKIP_LIVE_TEST("creating cgroups needs root");
  const std::string unit = "/wslgo-unit-test-" + std::to_string(::getpid()) + ".service";
  test::ScratchCgroup cgroups(*layout, unit);
  const CgroupDirs& dirs = cgroups.dirs;
  REQUIRE(dirs.unified);
  REQUIRE(dirs.memoryV1);
  REQUIRE(cgroups.make());

  CgroupMemoryReader reader(roots, dirs);
  auto sample = reader.read();
  REQUIRE(sample.ok());
  CHECK(sample->currentSource == MemorySource::CgroupV1);
  CHECK(sample->current);
  CHECK(sample->statSource == MemorySource::CgroupV1);
  CHECK(sample->max.kind == MemoryLimit::Kind::Unlimited);
  CHECK(sample->pressure);

  // A restart: the same path, new cgroups. The kept descriptors report ENODEV and every file,
  // optional ones included, must be reopened.
  REQUIRE(cgroups.remove());
  REQUIRE(cgroups.make());
  for (int round = 0; round < 2; ++round) {
    auto restarted = reader.read();
    REQUIRE(restarted.ok());
    CHECK(restarted->currentSource == MemorySource::CgroupV1);
    CHECK(restarted->statSource == MemorySource::CgroupV1);
    CHECK(restarted->limitSource == MemorySource::CgroupV1);
    CHECK(restarted->failcnt);
    CHECK(restarted->pressure);
  }

  // Stopped: ENOENT naming the unit's cgroup2 directory.
  REQUIRE(cgroups.remove());
  auto gone = reader.read();
  REQUIRE_FALSE(gone.ok());
  CHECK(gone.error().code == ENOENT);
  CHECK(gone.error().path == *dirs.unified);
}
