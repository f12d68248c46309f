#include "lib/meminfo.h"

#include <sys/sysinfo.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <string>

#include "tests/unit/fixtures.h"

namespace wslgo {
namespace {

constexpr uint64_t kKib = 1024;

std::string fixtureText(const std::string& relative) {
  std::string buffer;
  auto text = readFileInto(test::fixturePath(relative), buffer);
  REQUIRE(text.ok());
  return std::string(*text);
}

std::string withoutLine(std::string text, const std::string& name) {
  size_t start = text.find(name + ":");
  REQUIRE(start != std::string::npos);
  text.erase(start, text.find('\n', start) + 1 - start);
  return text;
}

TEST_CASE("meminfo from this machine's capture reads every field in bytes", "[meminfo]") {
  auto meminfo = parseMeminfo(fixtureText("meminfo/hybrid-6.18.txt"));
  REQUIRE(meminfo.ok());
  CHECK(meminfo->memTotal == 24683620 * kKib);
  CHECK(meminfo->memFree == 24305496 * kKib);
  CHECK(meminfo->memAvailable == 24314812 * kKib);
  CHECK(meminfo->memAvailableReported);
  CHECK(meminfo->buffers == 2036 * kKib);
  CHECK(meminfo->cached == 133724 * kKib);
  CHECK(meminfo->swapCached == 0);
  CHECK(meminfo->active == 71244 * kKib);
  CHECK(meminfo->inactive == 64124 * kKib);
  CHECK(meminfo->activeFile == 69700 * kKib);
  CHECK(meminfo->inactiveFile == 57172 * kKib);
  CHECK(meminfo->swapTotal == 0);
  CHECK(meminfo->swapFree == 0);
  CHECK(meminfo->swapUsed() == 0);
  CHECK(meminfo->dirty == 76 * kKib);
  CHECK(meminfo->anonPages == 15228 * kKib);
  CHECK(meminfo->shmem == 8884 * kKib);
  CHECK(meminfo->sReclaimable == 142036 * kKib);
}

TEST_CASE("meminfo of a 3.10 kernel has swap figures and no MemAvailable", "[meminfo]") {
  auto meminfo = parseMeminfo(fixtureText("meminfo/linux-3.10/proc/meminfo"));
  REQUIRE(meminfo.ok());
  CHECK_FALSE(meminfo->memAvailableReported);
  CHECK(meminfo->swapTotal == 2097148 * kKib);
  CHECK(meminfo->swapFree == 2064380 * kKib);
  CHECK(meminfo->swapUsed() == (2097148 - 2064380) * kKib);
  CHECK(meminfo->swapCached == 1024 * kKib);
}

TEST_CASE("meminfo without MemAvailable estimates it from free, file cache and reclaimable slab",
          "[meminfo]") {
  // By hand from the fixture, in kB: low = 67584 * 5 / 4 = 84480,
  // page cache 847744 + 776644 = 1624388 keeps min(812194, 84480) back -> 1539908,
  // SReclaimable 158220 keeps min(79110, 84480) back -> 79110,
  // 1203112 - 84480 + 1539908 + 79110 = 2737650.
  const uint64_t expected = 2737650 * kKib;

  SECTION("the pure parser assumes no watermark") {
    auto meminfo = parseMeminfo(fixtureText("meminfo/linux-3.10/proc/meminfo"));
    REQUIRE(meminfo.ok());
    CHECK(meminfo->memAvailable == (1203112 + 1624388 + 158220) * kKib);
  }
  SECTION("readMeminfo applies min_free_kbytes") {
    auto meminfo = readMeminfo(test::fixtureRoots("meminfo/linux-3.10"));
    REQUIRE(meminfo.ok());
    CHECK_FALSE(meminfo->memAvailableReported);
    CHECK(meminfo->memAvailable == expected);
  }
  SECTION("MeminfoReader applies min_free_kbytes on every read") {
    MeminfoReader reader(test::fixtureRoots("meminfo/linux-3.10"));
    for (int i = 0; i < 3; ++i) {
      auto meminfo = reader.read();
      REQUIRE(meminfo.ok());
      CHECK(meminfo->memAvailable == expected);
    }
  }
}

TEST_CASE("the MemAvailable estimate comes close to what a modern kernel reports", "[meminfo]") {
  // Same figures, with and without the kernel's own line: the estimate ignores the zones' real
  // watermarks and KReclaimable, so it may differ, but by far less than a threshold step.
  std::string text = fixtureText("meminfo/hybrid-6.18.txt");
  auto reported = parseMeminfo(text);
  auto estimated = parseMeminfo(withoutLine(text, "MemAvailable"));
  REQUIRE(reported.ok());
  REQUIRE(estimated.ok());
  CHECK_FALSE(estimated->memAvailableReported);
  uint64_t minFree = 67584 * kKib;  // /proc/sys/vm/min_free_kbytes on the capturing VM
  double estimate = static_cast<double>(estimateMemAvailable(*estimated, minFree));
  double kernel = static_cast<double>(reported->memAvailable);
  CHECK(estimate == Approx(kernel).epsilon(0.01));
}

TEST_CASE("the MemAvailable estimate clamps at zero and falls back to MemFree above MemTotal",
          "[meminfo]") {
  Meminfo starved;
  starved.memTotal = 1000 * kKib;
  starved.memFree = 10 * kKib;
  starved.activeFile = 4 * kKib;
  // low = 500 kB: free plus the reclaimable half of the cache is far below it.
  CHECK(estimateMemAvailable(starved, 400 * kKib) == 0);

  Meminfo distorted;  // lxcfs-style: figures of the host next to the container's MemTotal
  distorted.memTotal = 1000 * kKib;
  distorted.memFree = 600 * kKib;
  distorted.inactiveFile = 900 * kKib;
  CHECK(estimateMemAvailable(distorted, 0) == 600 * kKib);
}

TEST_CASE("meminfo without MemTotal or MemFree is an error naming the line", "[meminfo]") {
  std::string text = fixtureText("meminfo/hybrid-6.18.txt");
  for (std::string name : {"MemTotal", "MemFree"}) {
    auto meminfo = parseMeminfo(withoutLine(text, name));
    REQUIRE_FALSE(meminfo.ok());
    CHECK(meminfo.error().code == EINVAL);
    CHECK_THAT(meminfo.error().message, Catch::Contains(name));
  }
}

TEST_CASE("meminfo with a garbage number in a known line is an error naming the line",
          "[meminfo]") {
  auto letters = parseMeminfo("MemTotal: 1000 kB\nMemFree: lots kB\n");
  REQUIRE_FALSE(letters.ok());
  CHECK_THAT(letters.error().message, Catch::Contains("MemFree") && Catch::Contains("lots"));

  auto negative = parseMeminfo("MemTotal: 1000 kB\nMemFree: 10 kB\nShmem: -5 kB\n");
  REQUIRE_FALSE(negative.ok());
  CHECK_THAT(negative.error().message, Catch::Contains("Shmem"));

  auto suffixed = parseMeminfo("MemTotal: 1000 kB\nMemFree: 10x kB\n");
  REQUIRE_FALSE(suffixed.ok());
  CHECK_THAT(suffixed.error().message, Catch::Contains("MemFree"));

  auto wrongUnit = parseMeminfo("MemTotal: 1000 MB\nMemFree: 10 kB\n");
  REQUIRE_FALSE(wrongUnit.ok());
  CHECK_THAT(wrongUnit.error().message, Catch::Contains("MemTotal"));
}

TEST_CASE("meminfo ignores unknown and malformed lines it does not use", "[meminfo]") {
  auto meminfo = parseMeminfo(
      "MemTotal: 1000 kB\n"
      "this line means nothing\n"
      "MemFree: 10 kB\n"
      "Bogus: lots kB\n"
      "HugePages_Total:      7\n"
      "\n"
      "SwapTotal: 20 kB\n");
  REQUIRE(meminfo.ok());
  CHECK(meminfo->memTotal == 1000 * kKib);
  CHECK(meminfo->memFree == 10 * kKib);
  CHECK(meminfo->swapTotal == 20 * kKib);
}

TEST_CASE("meminfo numbers that overflow 64 bits, as kB or as bytes, are errors", "[meminfo]") {
  // 2^64 / 1024 = 18014398509481984: the first kB figure whose byte count does not fit.
  auto fits = parseMeminfo("MemTotal: 18014398509481983 kB\nMemFree: 0 kB\n");
  REQUIRE(fits.ok());
  CHECK(fits->memTotal == 18014398509481983ull * kKib);

  auto bytesOverflow = parseMeminfo("MemTotal: 18014398509481984 kB\nMemFree: 0 kB\n");
  REQUIRE_FALSE(bytesOverflow.ok());
  CHECK_THAT(bytesOverflow.error().message, Catch::Contains("MemTotal"));

  auto kibOverflow = parseMeminfo("MemTotal: 1 kB\nMemFree: 99999999999999999999999 kB\n");
  REQUIRE_FALSE(kibOverflow.ok());
  CHECK_THAT(kibOverflow.error().message, Catch::Contains("MemFree"));
}

TEST_CASE("meminfo cut at any byte never crashes and never reports a cut number", "[meminfo]") {
  const std::string text = fixtureText("meminfo/hybrid-6.18.txt");
  auto full = parseMeminfo(text);
  REQUIRE(full.ok());
  for (size_t cut = 0; cut < text.size(); ++cut) {
    auto meminfo = parseMeminfo(std::string_view(text).substr(0, cut));
    if (!meminfo.ok()) continue;
    // What was parsed from a prefix is either the whole figure or absent, never a prefix of it.
    INFO("cut at byte " << cut);
    CHECK(meminfo->memTotal == full->memTotal);
    CHECK(meminfo->memFree == full->memFree);
    CHECK((meminfo->buffers == 0 || meminfo->buffers == full->buffers));
    CHECK((meminfo->cached == 0 || meminfo->cached == full->cached));
  }
}

TEST_CASE("meminfo cut in the middle of MemFree is an error naming MemFree", "[meminfo]") {
  auto meminfo = parseMeminfo("MemTotal:       24683620 kB\nMemFree:        2428");
  REQUIRE_FALSE(meminfo.ok());
  CHECK_THAT(meminfo.error().message, Catch::Contains("MemFree"));
}

TEST_CASE("readMeminfo reads the fixture tree and names the file when it is missing", "[meminfo]") {
  auto meminfo = readMeminfo(test::fixtureRoots("hybrid"));
  REQUIRE(meminfo.ok());
  CHECK(meminfo->memTotal == 24683620 * kKib);

  SysRoots nowhere{test::fixturePath("does-not-exist/proc"), test::fixturePath("x/sys")};
  auto missing = readMeminfo(nowhere);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().code == ENOENT);
  CHECK(missing.error().path == nowhere.proc + "/meminfo");
}

TEST_CASE("min_free_kbytes parses to bytes and rejects garbage", "[meminfo]") {
  CHECK(parseMinFreeKbytes("67584\n").valueOr(0) == 67584 * kKib);
  CHECK_FALSE(parseMinFreeKbytes("").ok());
  CHECK_FALSE(parseMinFreeKbytes("lots\n").ok());
  CHECK_FALSE(parseMinFreeKbytes("18014398509481984\n").ok());
}

TEST_CASE("live meminfo agrees with sysinfo(2) on total memory and swap", "[meminfo][live]") {
  MeminfoReader reader{SysRoots{}};
  auto meminfo = reader.read();
  REQUIRE(meminfo.ok());
  struct sysinfo info {};
  REQUIRE(::sysinfo(&info) == 0);
  const auto page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  auto near = [page](uint64_t a, uint64_t b) { return (a > b ? a - b : b - a) <= page; };
  CHECK(near(meminfo->memTotal, uint64_t{info.totalram} * info.mem_unit));
  CHECK(near(meminfo->swapTotal, uint64_t{info.totalswap} * info.mem_unit));
  CHECK(meminfo->memAvailableReported);  // every kernel this guard supports has MemAvailable
  CHECK(meminfo->memAvailable <= meminfo->memTotal);

  auto again = reader.read();  // the kept descriptor is read again from offset 0
  REQUIRE(again.ok());
  CHECK(again->memTotal == meminfo->memTotal);
}

}  // namespace
}  // namespace wslgo
