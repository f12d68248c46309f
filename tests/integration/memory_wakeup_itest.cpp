// MemoryWakeup against the real kernel: v1 threshold eventfds and PSI triggers on cgroups this
// test creates, fed by a child process that allocates or thrashes inside them.
#include "daemon/memory_wakeup.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <optional>
#include <string>

#include <catch2/catch.hpp>

#include "daemon/event_loop.h"
#include "lib/cgroup_hierarchy.h"
#include "lib/sys_roots.h"
#include "tests/unit/live.h"
#include "tests/unit/scratch_cgroup.h"
#include "tests/unit/temp_dir.h"

namespace wslgo {
namespace {

using namespace std::chrono_literals;

using test::ScratchCgroup;

// Runs `work` in a child that first joins the cgroup in both hierarchies.
template <class Work>
pid_t spawnInside(const ScratchCgroup& cgroup, Work work) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    std::ofstream(*cgroup.dirs.memoryV1 + "/cgroup.procs") << 0;
    std::ofstream(*cgroup.dirs.unified + "/cgroup.procs") << 0;
    work();
    ::_exit(0);
  }
  return pid;
}

void reap(pid_t pid) {
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
}

// The live tests need root on a hybrid host (this machine's layout). A pure v2 host has no v1
// threshold events; its memory.events path is exercised by the e2e tests on such hosts.
std::optional<CgroupLayout> hybridLayoutOrSkipReason(std::string& reason) {
  auto layout = readCgroupLayout(SysRoots{});
  if (!layout) {
    reason = layout.error().describe();
    return std::nullopt;
  }
  if (layout->kind != CgroupLayoutKind::Hybrid) {
    reason = "not a hybrid host";
    return std::nullopt;
  }
  if (::geteuid() != 0) {
    reason = "creating cgroups needs root";
    return std::nullopt;
  }
  return *layout;
}

// Makes `var`, a ScratchCgroup, or says why this host cannot and leaves the test.
#define WSLGO_SCRATCH_CGROUP_OR_SKIP(var)                                              \
  std::string var##Reason;                                                             \
  auto var##Layout = hybridLayoutOrSkipReason(var##Reason);                            \
  if (!var##Layout) {                                                                  \
    WARN(var##Reason << ": skipped");                                                  \
    return;                                                                            \
  }                                                                                    \
  ScratchCgroup var(*var##Layout, "/wslgo-wakeup-test-" + std::to_string(::getpid())); \
  REQUIRE(var.make())

// Turns the loop until `woken` or the deadline; the time it took.
std::optional<std::chrono::milliseconds> runUntilWoken(EventLoop& loop, const bool& woken,
                                                       Usec deadline) {
  const auto start = std::chrono::steady_clock::now();
  auto giveUp = loop.addOneShotTimer(deadline, [&loop](Usec) { loop.exit(1); });
  REQUIRE(giveUp.ok());
  auto check = loop.addRepeatingTimer(5ms, [&](Usec) {
    if (woken) loop.exit(0);
  });
  REQUIRE(check.ok());
  if (loop.run() != 0) return std::nullopt;
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               start);
}

TEST_CASE("a v1 usage threshold wakes the loop when a process in the cgroup crosses it") {
  WSLGO_SCRATCH_CGROUP_OR_SKIP(cgroup);
  auto loop = EventLoop::create();
  REQUIRE(loop.ok());

  bool woken = false;
  std::string description;
  auto wakeup = MemoryWakeup::usageThreshold(**loop, *cgroup.dirs.memoryV1, 32u << 20,
                                             [&](const std::string& why) {
                                               woken = true;
                                               description = why;
                                             });
  REQUIRE(wakeup.ok());

  SECTION("below the line nothing wakes") {
    const pid_t child = spawnInside(cgroup, [] { ::pause(); });
    CHECK_FALSE(runUntilWoken(**loop, woken, 500ms));
    reap(child);
  }
  SECTION("crossing it wakes") {
    const pid_t child = spawnInside(cgroup, [] {
      const size_t size = 64u << 20;
      void* memory =
          ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (memory != MAP_FAILED) std::memset(memory, 1, size);
      ::pause();
    });
    auto took = runUntilWoken(**loop, woken, 5s);
    reap(child);
    REQUIRE(took);
    CHECK(description.find("32.0 MiB") != std::string::npos);
    CHECK(description.find(*cgroup.dirs.memoryV1) != std::string::npos);
  }
}

TEST_CASE("a PSI trigger on a cgroup's memory.pressure wakes the loop when its tasks stall") {
  WSLGO_SCRATCH_CGROUP_OR_SKIP(cgroup);
  REQUIRE(cgroup.limitTo(16u << 20));
  auto loop = EventLoop::create();
  REQUIRE(loop.ok());
  test::TempDir dir("psi");

  bool woken = false;
  auto wakeup = MemoryWakeup::pressure(**loop, *cgroup.dirs.unified + "/memory.pressure", "some",
                                       50ms, 2s, [&](const std::string&) { woken = true; });
  REQUIRE(wakeup.ok());
  CHECK(wakeup->description() ==
        "PSI some 50ms/2s on " + *cgroup.dirs.unified + "/memory.pressure");

  // Dirty file pages four times the limit, rewritten in a loop: every pass reclaims and
  // refaults, and the reclaim inside the limit is a memory stall.
  const std::string file = dir / "thrash";
  const pid_t child = spawnInside(cgroup, [&file] {
    const size_t size = 64u << 20;
    const int fd = ::open(file.c_str(), O_RDWR | O_CREAT, 0600);
    if (fd < 0 || ::ftruncate(fd, static_cast<off_t>(size)) != 0) ::_exit(1);
    auto* pages = static_cast<unsigned char*>(
        ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
    if (pages == MAP_FAILED) ::_exit(1);
    for (;;) {
      for (size_t i = 0; i < size; i += 4096) ++pages[i];
    }
  });
  auto took = runUntilWoken(**loop, woken, 10s);
  reap(child);
  REQUIRE(took);
}

TEST_CASE("a wake-up is refused on a file that is not the kernel's, which stays untouched") {
  test::TempDir dir("wakeup");
  const std::string fake = dir / "memory.pressure";
  std::ofstream(fake) << "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n";
  auto loop = EventLoop::create();
  REQUIRE(loop.ok());

  auto refused = MemoryWakeup::pressure(**loop, fake, "some", 100ms, 2s, nullptr);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == ENOTSUP);
  CHECK(refused.error().describe().find("not on procfs or a cgroup file system") !=
        std::string::npos);
  std::ifstream in(fake);
  std::string contents((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(contents == "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n");

  auto missing = MemoryWakeup::usageThreshold(**loop, dir / "nowhere", 1, nullptr);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().code == ENOENT);
}

TEST_CASE("a PSI trigger names what it accepts and rounds its window up to the kernel's step") {
  auto loop = EventLoop::create();
  REQUIRE(loop.ok());
  const std::string path = "/proc/pressure/memory";
  if (::access(path.c_str(), W_OK) != 0) WSLGO_SKIP_LIVE_TEST(path + " is not writable here");

  auto wrongKind = MemoryWakeup::pressure(**loop, path, "most", 100ms, 2s, nullptr);
  REQUIRE_FALSE(wrongKind.ok());
  CHECK(wrongKind.error().describe().find("\"some\" or \"full\", not most") != std::string::npos);

  // 100 ms in 1 s is 10%: the same share of the 2 s window the kernel accepts.
  auto rounded = MemoryWakeup::pressure(**loop, path, "full", 100ms, 1s, nullptr);
  REQUIRE(rounded.ok());
  CHECK(rounded->description() == "PSI full 200ms/2s on /proc/pressure/memory");
}

}  // namespace
}  // namespace wslgo
