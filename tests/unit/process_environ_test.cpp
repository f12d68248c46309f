#include "lib/process_environ.h"

#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <string>

#include <catch2/catch.hpp>

#include "tests/unit/fixtures.h"
#include "tests/unit/temp_dir.h"

namespace wslgo::test {

using namespace std::string_literals;

TEST_CASE("a gopls unit's environment reads as its variables", "[environ]") {
  auto environment = readProcessEnviron(fixtureRoots("environ"), 23421);
  REQUIRE(environment.ok());
  CHECK(environment->variables.size() == 7);
  CHECK(environment->value("GOPLSCACHE") == "/srv/gopls-cache");
  CHECK(environment->value("XDG_CACHE_HOME") == "/home/dev/.cache-alt");
  CHECK(environment->value("HOME") == "/home/dev");
  CHECK(environment->value("GOFLAGS") == "-mod=mod");
  CHECK(environment->value("GOPATH").empty());
}

TEST_CASE("an empty environment file is an environment without variables", "[environ]") {
  auto environment = readProcessEnviron(fixtureRoots("environ"), 23504);
  REQUIRE(environment.ok());
  CHECK(environment->variables.empty());
  CHECK(environment->value("HOME").empty());
}

TEST_CASE("a name given twice keeps its first value, as Go's os.Getenv does", "[environ]") {
  auto environment = readProcessEnviron(fixtureRoots("environ"), 23514);
  REQUIRE(environment.ok());
  CHECK(environment->value("GOPLSCACHE") == "/first");
  CHECK(environment->value("A") == "b=c");
  // An empty value is a variable, and reads as unset does.
  CHECK(environment->variables.count("XDG_CACHE_HOME") == 1);
  CHECK(environment->value("XDG_CACHE_HOME").empty());
  // Strings without '=' or with an empty name are not variables.
  CHECK(environment->variables.count("NOEQUALS") == 0);
  CHECK(environment->variables.count("") == 0);
  CHECK(environment->variables.size() == 4);
}

TEST_CASE("the environment's last string may lack its NUL", "[environ]") {
  auto environment = parseProcessEnviron("HOME=/home/dev\0GOPLSCACHE=/srv/cache"s);
  REQUIRE(environment.ok());
  CHECK(environment->value("HOME") == "/home/dev");
  CHECK(environment->value("GOPLSCACHE") == "/srv/cache");
  auto empties = parseProcessEnviron("\0\0HOME=/h\0\0"s);
  REQUIRE(empties.ok());
  CHECK(empties->variables.size() == 1);
}

TEST_CASE("an environment over the size limit is refused, by the parser and the reader",
          "[environ]") {
  const std::string huge = "BIG=" + std::string(kMaxEnvironBytes, 'x') + '\0';
  auto parsed = parseProcessEnviron(huge);
  REQUIRE_FALSE(parsed.ok());
  CHECK(parsed.error().code == EINVAL);

  TempDir proc("environ");
  std::filesystem::create_directories(proc.path() / "4242");
  std::ofstream(proc.path() / "4242/environ", std::ios::binary) << huge;
  auto read = readProcessEnviron(SysRoots{proc.path().string(), "/sys"}, 4242);
  REQUIRE_FALSE(read.ok());
  CHECK(read.error().path == proc / "4242/environ");
  CHECK_THAT(read.error().message, Catch::Contains("1048576"));

  SECTION("exactly the limit is read") {
    const std::string full = "BIG=" + std::string(kMaxEnvironBytes - 4, 'x');
    std::ofstream(proc.path() / "4242/environ", std::ios::binary | std::ios::trunc) << full;
    auto atLimit = readProcessEnviron(SysRoots{proc.path().string(), "/sys"}, 4242);
    REQUIRE(atLimit.ok());
    CHECK(atLimit->value("BIG").size() == kMaxEnvironBytes - 4);
  }
}

TEST_CASE("a process that is gone has no environment to read", "[environ]") {
  auto environment = readProcessEnviron(fixtureRoots("environ"), 31337);
  REQUIRE_FALSE(environment.ok());
  CHECK(environment.error().code == ENOENT);
  CHECK_THAT(environment.error().message, Catch::Contains("has exited"));
}

TEST_CASE("this process' own environment is readable from the live /proc", "[environ]") {
  auto environment = readProcessEnviron(SysRoots{}, ::getpid());
  REQUIRE(environment.ok());
  CHECK_FALSE(environment->variables.empty());
}

}  // namespace wslgo::test
