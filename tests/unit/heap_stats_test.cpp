#include "lib/heap_stats.h"

#include <catch2/catch.hpp>
#include <string>

#include "lib/kept_file.h"
#include "tests/unit/fixtures.h"

namespace wslgo {
namespace {

std::string heapDebug1() { return test::readFixture("gopls-debug/pprof-heap-debug1.txt"); }

// The capture with the line "# NAME = ..." given a new value.
std::string withValue(const std::string& name, const std::string& value) {
  std::string text = heapDebug1();
  std::string key = "\n# " + name + " = ";
  size_t start = text.find(key);
  REQUIRE(start != std::string::npos);
  start += key.size();
  text.replace(start, text.find('\n', start) - start, value);
  return text;
}

TEST_CASE("the heap profile of a real gopls yields its runtime.MemStats figures", "[heap_stats]") {
  auto stats = parsePprofHeapDebug1(heapDebug1());
  REQUIRE(stats.ok());
  CHECK(stats->heapAlloc == 2893528);
  CHECK(stats->heapInuse == 4694016);
  CHECK(stats->heapSys == 7962624);
  CHECK(stats->nextGC == 4194304);
  CHECK(stats->numGC == 1);
  CHECK(stats->sys == 19707144);
}

TEST_CASE("heap stats take Sys from its own line, not from HeapSys or GCSys", "[heap_stats]") {
  auto stats = parsePprofHeapDebug1(withValue("Sys", "123"));
  REQUIRE(stats.ok());
  CHECK(stats->sys == 123);
  CHECK(stats->heapSys == 7962624);
}

TEST_CASE("heap stats accept CRLF line ends", "[heap_stats]") {
  std::string text =
      "heap profile: 0: 0 [0: 0] @ heap/1048576\r\n\r\n# runtime.MemStats\r\n# Sys = 6\r\n"
      "# HeapAlloc = 1\r\n# HeapSys = 3\r\n# HeapInuse = 2\r\n# NextGC = 4\r\n# NumGC = 5\r\n";
  auto stats = parsePprofHeapDebug1(text);
  REQUIRE(stats.ok());
  CHECK(stats->heapAlloc == 1);
  CHECK(stats->heapInuse == 2);
  CHECK(stats->heapSys == 3);
  CHECK(stats->nextGC == 4);
  CHECK(stats->numGC == 5);
  CHECK(stats->sys == 6);
}

TEST_CASE("a body without the MemStats trailer is an error, not zeros", "[heap_stats]") {
  for (const std::string& text :
       {std::string(), std::string("garbage\n\x01\x02"), test::readFixture("gopls-debug/memory.html")}) {
    auto stats = parsePprofHeapDebug1(text);
    REQUIRE_FALSE(stats.ok());
    CHECK(stats.error().message.find("runtime.MemStats") != std::string::npos);
  }
}

TEST_CASE("the MemStats marker counts only at the start of a line", "[heap_stats]") {
  std::string text = heapDebug1();
  size_t trailer = text.find("\n# runtime.MemStats");
  REQUIRE(trailer != std::string::npos);
  text.replace(trailer, 1, " ");
  CHECK_FALSE(parsePprofHeapDebug1(text).ok());
}

TEST_CASE("a heap profile cut short before NumGC names the missing field", "[heap_stats]") {
  std::string text = heapDebug1();
  text.resize(text.find("# NumGC"));
  auto stats = parsePprofHeapDebug1(text);
  REQUIRE_FALSE(stats.ok());
  CHECK(stats.error().code == EINVAL);
  CHECK(stats.error().message.find("NumGC") != std::string::npos);
}

TEST_CASE("a heap profile cut inside a number is an error naming the field", "[heap_stats]") {
  std::string text = heapDebug1();
  text.resize(text.find("# HeapInuse = ") + std::string("# HeapInuse = ").size());
  auto stats = parsePprofHeapDebug1(text);
  REQUIRE_FALSE(stats.ok());
  CHECK(stats.error().message.find("HeapInuse") != std::string::npos);
}

TEST_CASE("a MemStats figure that is not a decimal is an error naming the field", "[heap_stats]") {
  for (const char* value : {"12abc", "-1", "1.5", "0x10", ""}) {
    auto stats = parsePprofHeapDebug1(withValue("HeapInuse", value));
    REQUIRE_FALSE(stats.ok());
    CHECK(stats.error().message.find("HeapInuse") != std::string::npos);
    CHECK(stats.error().message.find("decimal") != std::string::npos);
  }
}

TEST_CASE("a MemStats figure beyond 64 bits is an error, not a wrapped number", "[heap_stats]") {
  CHECK(parsePprofHeapDebug1(withValue("NextGC", "18446744073709551615"))->nextGC ==
        18446744073709551615ULL);
  auto stats = parsePprofHeapDebug1(withValue("NextGC", "18446744073709551616"));
  REQUIRE_FALSE(stats.ok());
  CHECK(stats.error().message.find("NextGC") != std::string::npos);
  CHECK(stats.error().message.find("64 bits") != std::string::npos);
}

}  // namespace
}  // namespace wslgo
