// The heap profile store against real directories, with synthetic times.
#include "daemon/profile_store.h"
#include "tests/unit/temp_dir.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using namespace wslgo;
using namespace std::chrono;

namespace {

class TempDir : public test::TempDir {
 public:
  TempDir() : test::TempDir("profiles") {}
};

// 2026-11-23 19:30:12 UTC.
const SystemTime kT0 = sys_days{year{2026} / November / 23} + hours(19) + minutes(30) + seconds(12);

// A workspace key as escapeUnitPath makes them.
constexpr std::string_view kLeaky = "home-dev-leaky";
constexpr std::string_view kTools = "home-dev-tools";

// Saves a profile of `size` bytes at kT0 + offset the way the daemon does: reserve, then write.
std::string saveProfile(ProfileStore& store, std::string_view key, seconds offset, size_t size) {
  auto path = store.newProfilePath(key, kT0 + offset);
  REQUIRE(path.ok());
  std::ofstream(*path, std::ios::binary | std::ios::trunc) << std::string(size, 'p');
  return *path;
}

std::vector<std::string> namesIn(const fs::path& dir) {
  std::vector<std::string> out;
  if (!fs::exists(dir)) return out;
  for (const auto& entry : fs::directory_iterator(dir)) out.push_back(entry.path().filename());
  std::sort(out.begin(), out.end());
  return out;
}

mode_t modeOf(const fs::path& path) {
  struct stat st {};
  REQUIRE(::lstat(path.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

}  // namespace

TEST_CASE("profile names are the UTC time to the second", "[profile_store]") {
  CHECK(profileFileName(kT0 + milliseconds(999), 0) == "20261123T193012Z.pb.gz");
  CHECK(profileFileName(kT0, 2) == "20261123T193012Z-2.pb.gz");
  CHECK(profileFileName(
            sys_days{year{1999} / December / 31} + hours(23) + minutes(59) + seconds(59), 0) ==
        "19991231T235959Z.pb.gz");

  auto parsed = parseProfileFileName("20261123T193012Z-2.pb.gz");
  REQUIRE(parsed);
  CHECK(parsed->time == kT0);
  CHECK(parsed->sequence == 2);
  CHECK(parseProfileFileName("20240229T000000Z.pb.gz"));  // a leap day

  SECTION("names the store did not write are not recognised") {
    for (const char* name :
         {"20261123T193012Z.pb.gz.partial", "20261123T193012Z.pb", "notes.txt",
          "20261323T193012Z.pb.gz", "20260229T000000Z.pb.gz", "20261123T243012Z.pb.gz",
          "20261123T193060Z.pb.gz", "20261123T193012Z-0.pb.gz", "20261123T193012Z-01.pb.gz",
          "20261123T193012Z-.pb.gz", "20261123T193012Z-99999999999.pb.gz", "20261123 193012Z.pb.gz",
          "2026112T193012Z.pb.gz", "+0261123T193012Z.pb.gz", ".pb.gz", ""}) {
      CAPTURE(name);
      CHECK_FALSE(parseProfileFileName(name));
    }
  }
}

TEST_CASE("profiles go under $XDG_STATE_HOME, else ~/.local/state", "[profile_store]") {
  CHECK(defaultProfileRoot("/run/state", "/home/dev") == "/run/state/wslgo-guard/profiles");
  CHECK(defaultProfileRoot("", "/home/dev") == "/home/dev/.local/state/wslgo-guard/profiles");
  CHECK(defaultProfileRoot("state", "/home/dev") == "/home/dev/.local/state/wslgo-guard/profiles");
  CHECK(defaultProfileRoot("", "").empty());
}

TEST_CASE("two profiles in the same second get distinct names, private to the user",
          "[profile_store]") {
  TempDir tmp;
  fs::path root = tmp.path() / "state/wslgo-guard/profiles";
  ProfileStore store(root.string(), 10, 1u << 20);

  auto first = store.newProfilePath(kLeaky, kT0);
  auto second = store.newProfilePath(kLeaky, kT0 + milliseconds(400));
  REQUIRE(first.ok());
  REQUIRE(second.ok());
  CHECK(*first == (root / kLeaky / "20261123T193012Z.pb.gz").string());
  CHECK(*second == (root / kLeaky / "20261123T193012Z-1.pb.gz").string());
  CHECK(modeOf(*first) == 0600);
  CHECK(fs::file_size(*first) == 0);
  for (const fs::path& dir :
       {tmp.path() / "state", tmp.path() / "state/wslgo-guard", root, root / kLeaky}) {
    CAPTURE(dir);
    CHECK(modeOf(dir) == 0700);
  }

  SECTION("a new store on the same directory does not reuse a name") {
    ProfileStore again(root.string(), 10, 1u << 20);
    auto third = again.newProfilePath(kLeaky, kT0);
    REQUIRE(third.ok());
    CHECK(fs::path(*third).filename() == "20261123T193012Z-2.pb.gz");
  }
}

TEST_CASE("a workspace key that is not one path component is rejected", "[profile_store]") {
  TempDir tmp;
  fs::path root = tmp.path() / "profiles";
  ProfileStore store(root.string(), 10, 1u << 20);
  for (std::string_view key : {"../escape", "a/b", ".", "..", ""}) {
    CAPTURE(key);
    auto path = store.newProfilePath(key, kT0);
    REQUIRE_FALSE(path.ok());
    CHECK(path.error().code == EINVAL);
    REQUIRE_FALSE(store.list(key).ok());
  }
  CHECK(namesIn(tmp.path()) == std::vector<std::string>{});
}

TEST_CASE("list returns a workspace's profiles oldest first and nothing else", "[profile_store]") {
  TempDir tmp;
  fs::path root = tmp.path() / "profiles";
  ProfileStore store(root.string(), 10, 1u << 20);
  saveProfile(store, kLeaky, seconds(30), 300);
  saveProfile(store, kLeaky, seconds(10), 100);
  saveProfile(store, kLeaky, seconds(20), 200);
  saveProfile(store, kTools, seconds(5), 50);
  std::ofstream(root / kLeaky / "notes.txt") << "mine";
  std::ofstream(root / kLeaky / "20261123T193000Z.pb.gz.partial") << "half";
  fs::create_symlink(root / kTools / "20261123T193017Z.pb.gz",
                     root / kLeaky / "20261123T193001Z.pb.gz");

  auto listed = store.list(kLeaky);
  REQUIRE(listed.ok());
  REQUIRE(listed->size() == 3);
  CHECK((*listed)[0].time == kT0 + seconds(10));
  CHECK((*listed)[0].bytes == 100);
  CHECK((*listed)[0].workspaceKey == kLeaky);
  CHECK((*listed)[1].time == kT0 + seconds(20));
  CHECK((*listed)[2].time == kT0 + seconds(30));
  CHECK((*listed)[2].path == (root / kLeaky / "20261123T193042Z.pb.gz").string());

  auto none = store.list("home-dev-never");
  REQUIRE(none.ok());
  CHECK(none->empty());
}

TEST_CASE("enforceLimits keeps the newest profiles of each workspace", "[profile_store]") {
  TempDir tmp;
  fs::path root = tmp.path() / "profiles";
  ProfileStore store(root.string(), 3, 1u << 20);
  for (int i = 0; i < 5; ++i) saveProfile(store, kLeaky, seconds(i), 10);
  saveProfile(store, kTools, seconds(0), 10);
  saveProfile(store, kTools, seconds(1), 10);
  std::ofstream(root / kLeaky / "notes.txt") << "mine";

  auto pruned = store.enforceLimits();
  REQUIRE(pruned.ok());
  CHECK(pruned->filesRemoved == 2);
  CHECK(pruned->bytesFreed == 20);
  CHECK(pruned->bytesLeft == 50);
  CHECK(namesIn(root / kLeaky) == std::vector<std::string>{"20261123T193014Z.pb.gz",
                                                           "20261123T193015Z.pb.gz",
                                                           "20261123T193016Z.pb.gz", "notes.txt"});
  CHECK(namesIn(root / kTools).size() == 2);

  SECTION("a second pass has nothing to do") {
    auto again = store.enforceLimits();
    REQUIRE(again.ok());
    CHECK(again->filesRemoved == 0);
  }
}

TEST_CASE("enforceLimits then deletes the oldest across workspaces until the total fits",
          "[profile_store]") {
  TempDir tmp;
  fs::path root = tmp.path() / "profiles";
  ProfileStore store(root.string(), 10, 250);
  saveProfile(store, kLeaky, seconds(1), 100);
  saveProfile(store, kTools, seconds(2), 100);
  saveProfile(store, kLeaky, seconds(3), 100);
  saveProfile(store, kTools, seconds(4), 100);

  auto pruned = store.enforceLimits();
  REQUIRE(pruned.ok());
  CHECK(pruned->filesRemoved == 2);
  CHECK(pruned->bytesFreed == 200);
  CHECK(pruned->bytesLeft == 200);
  CHECK(namesIn(root / kLeaky) == std::vector<std::string>{"20261123T193015Z.pb.gz"});
  CHECK(namesIn(root / kTools) == std::vector<std::string>{"20261123T193016Z.pb.gz"});
}

TEST_CASE("a workspace directory emptied by pruning is removed, one with other files stays",
          "[profile_store]") {
  TempDir tmp;
  fs::path root = tmp.path() / "profiles";
  ProfileStore store(root.string(), 1, 150);
  saveProfile(store, kLeaky, seconds(1), 100);
  saveProfile(store, kTools, seconds(2), 100);
  saveProfile(store, "home-dev-notes", seconds(3), 100);
  std::ofstream(root / kTools / "README") << "someone's notes";

  auto pruned = store.enforceLimits();
  REQUIRE(pruned.ok());
  CHECK(pruned->filesRemoved == 2);
  CHECK(pruned->dirsRemoved == 1);
  CHECK(namesIn(root) == std::vector<std::string>{"home-dev-notes", std::string(kTools)});
  CHECK(namesIn(root / kTools) == std::vector<std::string>{"README"});
}

TEST_CASE("enforceLimits never follows a symlinked workspace directory", "[profile_store]") {
  TempDir tmp;
  fs::path root = tmp.path() / "profiles";
  fs::path elsewhere = tmp.path() / "elsewhere";
  fs::create_directories(elsewhere);
  std::ofstream(elsewhere / "20200101T000000Z.pb.gz") << "not the store's";
  ProfileStore store(root.string(), 1, 0);
  saveProfile(store, kLeaky, seconds(1), 10);
  fs::create_directory_symlink(elsewhere, root / "home-dev-linked");

  auto pruned = store.enforceLimits();
  REQUIRE(pruned.ok());
  CHECK(pruned->filesRemoved == 1);
  CHECK(fs::exists(elsewhere / "20200101T000000Z.pb.gz"));
  CHECK(fs::is_symlink(root / "home-dev-linked"));
}

TEST_CASE("a store that does not exist yet holds nothing", "[profile_store]") {
  TempDir tmp;
  ProfileStore store((tmp.path() / "never/made").string(), 3, 100);
  auto pruned = store.enforceLimits();
  REQUIRE(pruned.ok());
  CHECK(pruned->filesRemoved == 0);
  auto listed = store.list(kLeaky);
  REQUIRE(listed.ok());
  CHECK(listed->empty());
  CHECK_FALSE(fs::exists(tmp.path() / "never"));
}
