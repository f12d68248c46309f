#include "lib/psi.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>

#include "lib/cgroup_hierarchy.h"
#include "tests/unit/fixtures.h"
#include "tests/unit/live.h"

namespace wslgo {
namespace {

TEST_CASE("system cpu pressure from this machine parses some and full lines", "[psi]") {
  auto pressure = parsePressure(test::readFixture("pressure/system-cpu-6.18.txt"));
  REQUIRE(pressure.ok());
  CHECK(pressure->some.avg10 == Approx(0.87));
  CHECK(pressure->some.avg60 == Approx(7.57));
  CHECK(pressure->some.avg300 == Approx(3.63));
  CHECK(pressure->some.totalUsec == 17288580);
  REQUIRE(pressure->full.has_value());
  CHECK(pressure->full->avg10 == 0);
  CHECK(pressure->full->totalUsec == 0);
}

TEST_CASE("system io pressure from this machine keeps some and full apart", "[psi]") {
  auto pressure = parsePressure(test::readFixture("pressure/system-io-6.18.txt"));
  REQUIRE(pressure.ok());
  CHECK(pressure->some.avg60 == Approx(0.04));
  CHECK(pressure->some.avg300 == Approx(0.51));
  CHECK(pressure->some.totalUsec == 5196271);
  REQUIRE(pressure->full.has_value());
  CHECK(pressure->full->avg60 == Approx(0.03));
  CHECK(pressure->full->avg300 == Approx(0.48));
  CHECK(pressure->full->totalUsec == 4923839);
}

TEST_CASE("memory pressure files of the system and of a cgroup2 parse", "[psi]") {
  for (const char* file : {"pressure/system-memory-6.18.txt", "pressure/cgroup2-memory-6.18.txt"}) {
    INFO(file);
    auto pressure = parsePressure(test::readFixture(file));
    REQUIRE(pressure.ok());
    CHECK(pressure->full.has_value());
  }
}

TEST_CASE("cpu pressure of a kernel before 5.13 has no full line", "[psi]") {
  auto pressure = parsePressure(test::readFixture("pressure/cpu-without-full-5.10.txt"));
  REQUIRE(pressure.ok());
  CHECK(pressure->some.avg10 == Approx(0.52));
  CHECK(pressure->some.totalUsec == 98234512);
  CHECK_FALSE(pressure->full.has_value());
}

TEST_CASE("PSI with huge figures keeps full 64-bit totals and percentages", "[psi]") {
  auto pressure = parsePressure(
      "some avg10=100.00 avg60=99.99 avg300=12.34 total=18446744073709551615\n"
      "full avg10=100.00 avg60=0.01 avg300=0.00 total=1\n");
  REQUIRE(pressure.ok());
  CHECK(pressure->some.avg10 == Approx(100.0));
  CHECK(pressure->some.totalUsec == 18446744073709551615ull);
  CHECK(pressure->full->avg60 == Approx(0.01));
}

TEST_CASE("empty or garbage PSI text is an error", "[psi]") {
  const char* bad[] = {
      "",
      "\n",
      "hello world\n",
      "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n",  // no some line
      "some\n",
      "some avg10=0.00 avg60=0.00 avg300=0.00\n",  // no total
      "some avg10=0.00 avg60=0.00 total=0\n",      // no avg300
      "some avg10=abc avg60=0.00 avg300=0.00 total=0\n",
      "some avg10=0.00x avg60=0.00 avg300=0.00 total=0\n",
      "some avg10=-1.00 avg60=0.00 avg300=0.00 total=0\n",
      "some avg10=nan avg60=0.00 avg300=0.00 total=0\n",
      "some avg10=0.00 avg60=0.00 avg300=0.00 total=-1\n",
      "some avg10=0.00 avg60=0.00 avg300=0.00 total=18446744073709551616\n",
      "some avg10 0.00 avg60=0.00 avg300=0.00 total=0\n",
      "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\nfull avg10=0.00\n",
  };
  for (const char* text : bad) {
    INFO("text: " << text);
    auto pressure = parsePressure(text);
    REQUIRE_FALSE(pressure.ok());
    CHECK(pressure.error().code == EINVAL);
    CHECK_FALSE(pressure.error().message.empty());
  }
}

TEST_CASE("PSI errors say which line and which value is wrong", "[psi]") {
  auto pressure = parsePressure(
      "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"
      "full avg10=0.00 avg60=zero avg300=0.00 total=0\n");
  REQUIRE_FALSE(pressure.ok());
  CHECK_THAT(pressure.error().message,
             Catch::Contains("full") && Catch::Contains("avg60") && Catch::Contains("zero"));
}

TEST_CASE("PSI cut at any byte never crashes and never yields a cut some line", "[psi]") {
  const std::string text = test::readFixture("pressure/system-io-6.18.txt");
  auto full = parsePressure(text);
  REQUIRE(full.ok());
  for (size_t cut = 0; cut < text.size(); ++cut) {
    auto pressure = parsePressure(std::string_view(text).substr(0, cut));
    if (!pressure.ok()) continue;
    INFO("cut at byte " << cut);
    CHECK(pressure->some.totalUsec == full->some.totalUsec);
  }
}

TEST_CASE("PSI whose last line lost its newline is an error, as the number may be cut", "[psi]") {
  auto cut = parsePressure("some avg10=0.00 avg60=0.04 avg300=0.51 total=51962");
  REQUIRE_FALSE(cut.ok());
  CHECK_THAT(cut.error().message, Catch::Contains("some") && Catch::Contains("cut short"));

  auto cutFull = parsePressure(
      "some avg10=0.00 avg60=0.04 avg300=0.51 total=5196271\n"
      "full avg10=0.00 avg60=0.03 avg300=0.48 total=49");
  REQUIRE_FALSE(cutFull.ok());
  CHECK_THAT(cutFull.error().message, Catch::Contains("full"));
}

TEST_CASE("PSI ignores unknown keys and unknown line kinds", "[psi]") {
  auto pressure = parsePressure(
      "some avg10=1.50 avg60=0.00 avg300=0.00 total=7 avg1=3.00\n"
      "partial avg10=9.00\n");
  REQUIRE(pressure.ok());
  CHECK(pressure->some.avg10 == Approx(1.5));
  CHECK(pressure->some.totalUsec == 7);
  CHECK_FALSE(pressure->full.has_value());
}

TEST_CASE("readSystemPressure reads each resource from the fixture tree", "[psi]") {
  auto roots = test::fixtureRoots("hybrid");
  auto cpu = readSystemPressure(roots, PressureResource::Cpu);
  REQUIRE(cpu.ok());
  REQUIRE(cpu->has_value());
  CHECK((*cpu)->some.totalUsec == 17288580);

  auto io = readSystemPressure(roots, PressureResource::Io);
  REQUIRE(io.ok());
  REQUIRE(io->has_value());
  CHECK((*io)->some.totalUsec == 5196271);

  auto memory = readSystemPressure(roots, PressureResource::Memory);
  REQUIRE(memory.ok());
  CHECK(memory->has_value());
}

TEST_CASE("a kernel without /proc/pressure reads as no PSI, not an error", "[psi]") {
  auto roots = test::fixtureRoots("meminfo/linux-3.10");  // 3.10 predates PSI
  for (auto resource : {PressureResource::Memory, PressureResource::Cpu, PressureResource::Io}) {
    auto pressure = readSystemPressure(roots, resource);
    REQUIRE(pressure.ok());
    CHECK_FALSE(pressure->has_value());
  }
  PressureReader reader(systemPressurePath(roots, PressureResource::Memory));
  auto pressure = reader.read();
  REQUIRE(pressure.ok());
  CHECK_FALSE(pressure->has_value());
}

// One write(2), so a kernel file's refusal shows up as false rather than in a stream's flush.
bool writeFile(const std::string& path, std::string_view text) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  return ok;
}

// A scratch directory standing in for a cgroup, removed at the end of the test.
struct ScratchDir {
  std::string path;
  ScratchDir() {
    std::string pattern = "/tmp/wslgo-psi-test-XXXXXX";
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    path = pattern;
  }
  ~ScratchDir() {
    std::string file = path + "/memory.pressure";
    ::unlink(file.c_str());
    ::rmdir(path.c_str());
  }
};

TEST_CASE("PressureReader names the file when its content is garbage", "[psi]") {
  ScratchDir dir;
  std::string file = dir.path + "/memory.pressure";
  std::ofstream(file) << "not pressure\n";
  PressureReader reader(file);
  auto pressure = reader.read();
  REQUIRE_FALSE(pressure.ok());
  CHECK(pressure.error().path == file);
  CHECK(pressure.error().code == EINVAL);

  std::ofstream(file) << "";
  auto empty = reader.read();
  REQUIRE_FALSE(empty.ok());
  CHECK(empty.error().path == file);
}

TEST_CASE("PressureReader sees a file appear after it was absent", "[psi]") {
  ScratchDir dir;
  std::string file = dir.path + "/memory.pressure";
  PressureReader reader(file);
  auto absent = reader.read();
  REQUIRE(absent.ok());
  CHECK_FALSE(absent->has_value());

  std::ofstream(file) << "some avg10=2.00 avg60=1.00 avg300=0.50 total=42\n";
  auto present = reader.read();
  REQUIRE(present.ok());
  REQUIRE(present->has_value());
  CHECK((*present)->some.totalUsec == 42);
}

TEST_CASE("live /proc/pressure/memory parses when this kernel has PSI", "[psi][live]") {
  auto pressure = readSystemPressure(SysRoots{}, PressureResource::Memory);
  REQUIRE(pressure.ok());
  if (::access("/proc/pressure/memory", R_OK) == 0) {
    REQUIRE(pressure->has_value());
    CHECK((*pressure)->full.has_value());  // memory has had a full line since PSI began
  } else {
    CHECK_FALSE(pressure->has_value());
  }

  PressureReader reader(systemPressurePath(SysRoots{}, PressureResource::Memory));
  for (int i = 0; i < 3; ++i) {
    auto again = reader.read();
    REQUIRE(again.ok());
    CHECK(again->has_value() == pressure->has_value());
  }
}

TEST_CASE("live cgroup2 pressure: disabled or removed cgroups read as absent", "[psi][live]") {
  auto layout = readCgroupLayout(SysRoots{});
  REQUIRE(layout.ok());
  if (!layout->unified ||
      ::access((layout->unified->mountPoint + "/memory.pressure").c_str(), R_OK) != 0) {
    WARN("no cgroup2 hierarchy with PSI on this host: skipped");
    return;
  }
  const std::string unified = layout->unified->mountPoint;
  const std::string cgroup = unified + "/wslgo-psi-test-" + std::to_string(::getpid());
  if (::mkdir(cgroup.c_str(), 0755) != 0) {
    WSLGO_SKIP_LIVE_TEST("cannot create " << cgroup << " (" << std::strerror(errno) << ")");
  }
  PressureReader reader(cgroup + "/memory.pressure");
  auto before = reader.read();
  REQUIRE(before.ok());
  CHECK(before->has_value());

  // cgroup.pressure = 0 hides the pressure files (Linux 6.1+). The kept descriptor fails once
  // with ENODEV; the reopen by path then finds no file, which is the "no PSI here" state.
  if (writeFile(cgroup + "/cgroup.pressure", "0")) {
    auto gone = reader.read();
    CHECK_FALSE(gone.ok());
    auto absent = reader.read();
    REQUIRE(absent.ok());
    CHECK_FALSE(absent->has_value());
    CHECK(writeFile(cgroup + "/cgroup.pressure", "1"));
  }

  REQUIRE(::rmdir(cgroup.c_str()) == 0);
  auto removed = reader.read();
  if (removed.ok()) CHECK_FALSE(removed->has_value());
  auto stillRemoved = reader.read();
  REQUIRE(stillRemoved.ok());
  CHECK_FALSE(stillRemoved->has_value());
}

}  // namespace
}  // namespace wslgo
