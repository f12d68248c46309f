#include "lib/atomic_file.h"
#include "tests/unit/temp_dir.h"

#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

namespace wslgo {
namespace {

namespace fs = std::filesystem;

// The shared TempDir, plus the listing the no-temp-file-left-behind checks need.
class TempDir : public test::TempDir {
 public:
  TempDir() : test::TempDir("atomic-file-test") {}

  std::set<std::string> names() const {
    std::set<std::string> out;
    for (const auto& entry : fs::directory_iterator(path())) out.insert(entry.path().filename());
    return out;
  }
};

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

mode_t modeOf(const std::string& path) {
  struct stat info {};
  REQUIRE(::stat(path.c_str(), &info) == 0);
  return info.st_mode & 07777;
}

// Sets the umask for one scope: the test must show the mode does not depend on it.
class ScopedUmask {
 public:
  explicit ScopedUmask(mode_t mask) : old_(::umask(mask)) {}
  ~ScopedUmask() { ::umask(old_); }
  ScopedUmask(const ScopedUmask&) = delete;
  ScopedUmask& operator=(const ScopedUmask&) = delete;

 private:
  mode_t old_;
};

TEST_CASE("an atomic write replaces the whole file, shorter contents leave no tail") {
  TempDir dir;
  std::string file = dir / "state.json";
  REQUIRE(writeFileAtomically(file, "a long first version of the state file\n").ok());
  REQUIRE(slurp(file) == "a long first version of the state file\n");
  REQUIRE(writeFileAtomically(file, "short\n").ok());
  CHECK(slurp(file) == "short\n");
  REQUIRE(writeFileAtomically(file, "").ok());
  CHECK(slurp(file).empty());
  CHECK(dir.names() == std::set<std::string>{"state.json"});
}

TEST_CASE("an atomic write carries bytes a text API might mangle, and large contents") {
  TempDir dir;
  std::string file = dir / "blob";
  std::string contents(std::string("\0\xff\n\r", 4));
  for (int i = 0; i < 300000; ++i) contents += static_cast<char>(i * 7);
  REQUIRE(writeFileAtomically(file, contents).ok());
  CHECK(slurp(file) == contents);
}

TEST_CASE("an atomic write gives the file the mode asked for whatever the umask") {
  TempDir dir;
  ScopedUmask mask(077);
  REQUIRE(writeFileAtomically(dir / "default", "x").ok());
  CHECK(modeOf(dir / "default") == 0644);
  REQUIRE(writeFileAtomically(dir / "private", "x", 0600).ok());
  CHECK(modeOf(dir / "private") == 0600);
  REQUIRE(writeFileAtomically(dir / "private", "y", 0640).ok());
  CHECK(modeOf(dir / "private") == 0640);
}

TEST_CASE("an atomic write leaves no temporary files behind") {
  TempDir dir;
  for (int i = 0; i < 20; ++i) {
    REQUIRE(writeFileAtomically(dir / "state.json", std::to_string(i)).ok());
  }
  CHECK(dir.names() == std::set<std::string>{"state.json"});
  CHECK(slurp(dir / "state.json") == "19");
}

TEST_CASE("an atomic write under a file fails with ENOTDIR and names the path") {
  TempDir dir;
  REQUIRE(writeFileAtomically(dir / "plain", "old").ok());
  auto result = writeFileAtomically(dir / "plain/state.json", "new");
  REQUIRE_FALSE(result);
  CHECK(result.error().code == ENOTDIR);
  CHECK(result.error().path == dir / "plain/state.json");
  CHECK(slurp(dir / "plain") == "old");
  CHECK(dir.names() == std::set<std::string>{"plain"});
}

TEST_CASE("an atomic write that fails halfway leaves the old file intact and no temporary") {
  TempDir dir;
  std::string file = dir / "state.json";
  REQUIRE(writeFileAtomically(file, "the old state\n").ok());

  // A file size limit makes the kernel refuse the write midway (EFBIG), as a full disk would.
  struct rlimit old {};
  REQUIRE(::getrlimit(RLIMIT_FSIZE, &old) == 0);
  auto oldHandler = std::signal(SIGXFSZ, SIG_IGN);
  struct rlimit small = old;
  small.rlim_cur = 4096;
  REQUIRE(::setrlimit(RLIMIT_FSIZE, &small) == 0);
  auto result = writeFileAtomically(file, std::string(100000, 'n'));
  REQUIRE(::setrlimit(RLIMIT_FSIZE, &old) == 0);
  std::signal(SIGXFSZ, oldHandler);

  REQUIRE_FALSE(result);
  CHECK(result.error().code == EFBIG);
  CHECK(slurp(file) == "the old state\n");
  CHECK(dir.names() == std::set<std::string>{"state.json"});
}

TEST_CASE("an atomic write over a directory fails and leaves the directory alone") {
  TempDir dir;
  REQUIRE(::mkdir((dir / "taken").c_str(), 0700) == 0);
  auto result = writeFileAtomically(dir / "taken", "x");
  REQUIRE_FALSE(result);
  CHECK(result.error().path == dir / "taken");
  CHECK(fs::is_directory(dir / "taken"));
  CHECK(dir.names() == std::set<std::string>{"taken"});
}

TEST_CASE("makeDirectories creates the missing parents with the mode and accepts existing ones") {
  TempDir dir;
  ScopedUmask mask(022);
  std::string deep = dir / "state/wslgo-guard/nested";
  REQUIRE(makeDirectories(deep, 0700).ok());
  CHECK(fs::is_directory(deep));
  CHECK(modeOf(dir / "state") == 0700);
  CHECK(modeOf(deep) == 0700);
  CHECK(makeDirectories(deep, 0700).ok());
  CHECK(makeDirectories(deep + "/", 0700).ok());
  CHECK(makeDirectories("/", 0700).ok());
}

TEST_CASE("makeDirectories names the file that is in the way") {
  TempDir dir;
  REQUIRE(writeFileAtomically(dir / "state", "not a directory").ok());
  auto result = makeDirectories(dir / "state/wslgo-guard", 0700);
  REQUIRE_FALSE(result);
  CHECK(result.error().code == ENOTDIR);
  CHECK(result.error().path == dir / "state");
  CHECK(result.error().message.find(dir / "state/wslgo-guard") != std::string::npos);
}

TEST_CASE("setting a corrupt file aside never overwrites an earlier one") {
  TempDir dir;
  std::string file = dir / "state.json";
  for (int round = 0; round < 4; ++round) {
    REQUIRE(writeFileAtomically(file, "corrupt " + std::to_string(round)).ok());
    auto aside = setAsideCorruptFile(file);
    REQUIRE(aside);
    std::string expected = round == 0 ? file + ".bad" : file + ".bad." + std::to_string(round);
    CHECK(*aside == expected);
    CHECK_FALSE(fs::exists(file));
  }
  CHECK(slurp(file + ".bad") == "corrupt 0");
  CHECK(slurp(file + ".bad.1") == "corrupt 1");
  CHECK(slurp(file + ".bad.2") == "corrupt 2");
  CHECK(slurp(file + ".bad.3") == "corrupt 3");
}

TEST_CASE("setting aside a file that is not there is an ENOENT error naming it") {
  TempDir dir;
  auto aside = setAsideCorruptFile(dir / "state.json");
  REQUIRE_FALSE(aside);
  CHECK(aside.error().code == ENOENT);
  CHECK(aside.error().path == dir / "state.json");
}

}  // namespace
}  // namespace wslgo
