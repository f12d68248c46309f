// The trim rung's file work against real files, a real page cache and a real cgroup2 directory.
#include "daemon/cache_trim.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "lib/cgroup_hierarchy.h"
#include "tests/unit/live.h"
#include "tests/unit/temp_dir.h"

namespace fs = std::filesystem;
using namespace wslgo;

namespace {

// The shared TempDir, named for these tests.
class TempDir : public test::TempDir {
 public:
  TempDir() : test::TempDir("trim") {}
};

constexpr time_t kBase = 1'700'000'000;

// A file of `size` bytes whose mtime is kBase + mtimeOffset (and atime kBase + atimeOffset).
void writeFile(const fs::path& path, size_t size, time_t mtimeOffset, time_t atimeOffset = 0) {
  fs::create_directories(path.parent_path());
  {
    std::ofstream out(path, std::ios::binary);
    out << std::string(size, 'x');
  }
  timespec times[2] = {{kBase + atimeOffset, 0}, {kBase + mtimeOffset, 0}};
  REQUIRE(::utimensat(AT_FDCWD, path.c_str(), times, 0) == 0);
}

std::vector<std::string> regularFilesUnder(const fs::path& root) {
  std::vector<std::string> out;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (entry.symlink_status().type() == fs::file_type::regular) {
      out.push_back(fs::relative(entry.path(), root).string());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Share of the file's pages in the page cache, from mincore on a mapping that touches none.
double residentShare(const fs::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  struct stat st {};
  REQUIRE(::fstat(fd, &st) == 0);
  auto length = static_cast<size_t>(st.st_size);
  void* map = ::mmap(nullptr, length, PROT_READ, MAP_SHARED, fd, 0);
  ::close(fd);
  REQUIRE(map != MAP_FAILED);
  auto page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  std::vector<unsigned char> pages((length + page - 1) / page);
  int rc = ::mincore(map, length, pages.data());
  ::munmap(map, length);
  REQUIRE(rc == 0);
  size_t resident = 0;
  for (unsigned char p : pages) resident += p & 1;
  return static_cast<double>(resident) / static_cast<double>(pages.size());
}

// The user running the tests owns what they create; no home check unless a test sets one.
const PruneOwner kMe{.home = "", .uid = ::geteuid()};

// A clock that advances one second each time the walk asks.
struct SteppingClock {
  Usec at{0};
  Usec operator()() { return at += std::chrono::seconds(1); }
};

constexpr const char* kVersion = "0a1b2c3d";  // 32 bits of the gopls executable's digest

// The key of cache entry `n`: 64 lowercase hex digits, the first two spread over 256 subdirs.
std::string entryKey(unsigned n) {
  char key[65];
  std::snprintf(key, sizeof key, "%02x%062x", n % 256, n);
  return key;
}

// Where gopls keeps entry `n` of `kind` under its cache: VVVVVVVV/KK/<key>-<kind>.
std::string entryPath(unsigned n, const std::string& kind = "analysis",
                      const std::string& version = kVersion) {
  const std::string key = entryKey(n);
  return version + "/" + key.substr(0, 2) + "/" + key + "-" + kind;
}

// `count` entries of `size` bytes, entry i modified at kBase + i.
void writeEntries(const fs::path& cache, unsigned count, size_t size) {
  for (unsigned i = 0; i < count; ++i) writeFile(cache / entryPath(i), size, i);
}

// Runs slices of `limits` until the prune is done; the slices it took.
size_t pruneInSlices(CachePrune& prune, const SliceLimits& limits, size_t atMost = 100000) {
  size_t slices = 0;
  for (bool done = false; !done && slices < atMost;) {
    SliceBudget slice(limits);
    done = prune.step(slice);
    ++slices;
  }
  return slices;
}

}  // namespace

TEST_CASE("pruning deletes the oldest files until the cache fits the budget exactly",
          "[cache_trim]") {
  TempDir tmp;
  fs::path cache = tmp.path() / "gopls";
  writeFile(cache / entryPath(1), 100, 100);  // the only entry in its subdirectory
  writeFile(cache / entryPath(2, "cas"), 200, 200);
  writeFile(cache / entryPath(2 + 256), 300, 300);  // shares 02/ with the one before
  writeFile(cache / entryPath(4, "xrefs"), 400, 400);

  auto pruned = pruneCacheToBudget(cache.string(), 700, kMe);
  REQUIRE(pruned.ok());
  CHECK(pruned->filesRemoved == 2);
  CHECK(pruned->bytesFreed == 300);
  CHECK(pruned->bytesLeft == 700);
  CHECK(pruned->dirsRemoved == 1);  // 01/ was emptied
  CHECK(pruned->passes == 1);
  CHECK_FALSE(pruned->stoppedAtLimit);
  CHECK(regularFilesUnder(cache) ==
        std::vector<std::string>{entryPath(2 + 256), entryPath(4, "xrefs")});
  CHECK_FALSE(fs::exists(cache / kVersion / "01"));
  CHECK(fs::is_directory(cache / kVersion / "02"));
  CHECK(fs::is_directory(cache));
}

TEST_CASE("a budget larger than the cache removes nothing", "[cache_trim]") {
  TempDir tmp;
  fs::path cache = tmp.path() / "gopls";
  writeFile(cache / entryPath(1), 10, 1);
  writeFile(cache / entryPath(2), 20, 2);

  auto pruned = pruneCacheToBudget(cache.string(), 1'000'000, kMe);
  REQUIRE(pruned.ok());
  CHECK(pruned->filesRemoved == 0);
  CHECK(pruned->bytesLeft == 30);
  CHECK(regularFilesUnder(cache) == std::vector<std::string>{entryPath(1), entryPath(2)});
}

TEST_CASE("ties in modification time are broken by access time", "[cache_trim]") {
  TempDir tmp;
  fs::path cache = tmp.path() / "gopls";
  writeFile(cache / entryPath(1), 50, 10, 500);  // read lately
  writeFile(cache / entryPath(2), 50, 10, 20);   // read long ago

  auto pruned = pruneCacheToBudget(cache.string(), 50, kMe);
  REQUIRE(pruned.ok());
  CHECK(regularFilesUnder(cache) == std::vector<std::string>{entryPath(1)});
}

TEST_CASE("pruning to zero never follows a symlink out of the cache", "[cache_trim]") {
  TempDir tmp;
  fs::path cache = tmp.path() / "gopls";
  fs::path outside = tmp.path() / "precious";
  // Named like cache entries and older than anything in the cache.
  const std::string key = entryKey(0xab);
  writeFile(outside / (key + "-analysis"), 1000, 1);
  writeFile(cache / entryPath(1), 10, 50);
  fs::create_directories(cache / kVersion);
  fs::create_directory_symlink(outside, cache / kVersion / "ab");  // a subdirectory
  fs::create_directory_symlink(outside, cache / "ffffffff");       // a version directory
  fs::create_directories(cache / kVersion / "cd");
  fs::create_symlink(outside / (key + "-analysis"),
                     cache / kVersion / "cd" / (entryKey(0xcd) + "-analysis"));  // an entry

  auto pruned = pruneCacheToBudget(cache.string(), 0, kMe);
  REQUIRE(pruned.ok());
  CHECK(pruned->filesRemoved == 1);
  CHECK(fs::file_size(outside / (key + "-analysis")) == 1000);
  CHECK(fs::is_symlink(cache / kVersion / "ab"));  // links are not files of the cache: left alone
  CHECK(fs::is_symlink(cache / "ffffffff"));
  CHECK(fs::is_symlink(cache / kVersion / "cd" / (entryKey(0xcd) + "-analysis")));
  CHECK(fs::is_directory(cache));
}

TEST_CASE("pruning stays on the cache's filesystem", "[cache_trim][live]") {
  TempDir tmp;
  fs::path cache = tmp.path() / "gopls";
  fs::path mountPoint = cache / kVersion / entryKey(7).substr(0, 2);
  fs::create_directories(mountPoint);
  writeFile(cache / entryPath(1), 10, 50);
  if (::mount("wslgo-itest", mountPoint.c_str(), "tmpfs", 0, "size=1m") != 0) {
    WSLGO_SKIP_LIVE_TEST("cannot mount a tmpfs here (" << std::strerror(errno) << "); run as root");
  }
  writeFile(cache / entryPath(7), 10, 1);  // on the tmpfs

  auto pruned = pruneCacheToBudget(cache.string(), 0, kMe);
  auto dropped = dropPageCache(cache.string());
  bool stillThere = fs::exists(cache / entryPath(7));
  REQUIRE(::umount(mountPoint.c_str()) == 0);

  REQUIRE(pruned.ok());
  CHECK(pruned->filesRemoved == 1);
  CHECK(stillThere);
  REQUIRE(dropped.ok());
  CHECK(dropped->files == 0);  // the one file on this filesystem was pruned first
}

// Should the check ever break, the budget and file limit keep these calls from deleting anything.
TEST_CASE("pruning refuses / and directories one level below it", "[cache_trim]") {
  SliceLimits harmless;
  harmless.maxEntries = 1;
  constexpr uint64_t kEverything = UINT64_MAX;

  auto root = pruneCacheToBudget("/", kEverything, kMe, harmless);
  REQUIRE_FALSE(root.ok());
  CHECK(root.error().code == EPERM);
  CHECK_THAT(root.error().message, Catch::Contains("refusing to prune /:"));

  auto top = pruneCacheToBudget("/proc", kEverything, kMe, harmless);
  REQUIRE_FALSE(top.ok());
  CHECK(top.error().code == EPERM);

  SECTION("a symlink to / as the argument is refused") {
    TempDir tmp;
    fs::create_directory_symlink("/", tmp.path() / "looks-deep");
    auto linked =
        pruneCacheToBudget((tmp.path() / "looks-deep").string(), kEverything, kMe, harmless);
    REQUIRE_FALSE(linked.ok());
    CHECK(linked.error().code == EPERM);
  }
}

TEST_CASE(
    "a cache directory that is a symlink to the user's documents is refused, and nothing "
    "there is deleted",
    "[cache_trim]") {
  // The hostile review's case: ~/.cache/gopls -> ~/Documents, budget 0.
  TempDir tmp;
  fs::path documents = tmp.path() / "home/Documents";
  writeFile(documents / "thesis.tex", 1000, 1);
  writeFile(documents / "notes/todo.txt", 10, 2);
  fs::create_directories(tmp.path() / "home/.cache");
  fs::create_directory_symlink(documents, tmp.path() / "home/.cache/gopls");

  auto pruned =
      pruneCacheToBudget((tmp.path() / "home/.cache/gopls").string(), 0,
                         PruneOwner{.home = (tmp.path() / "home").string(), .uid = ::geteuid()});
  REQUIRE_FALSE(pruned.ok());
  CHECK(pruned.error().code == EPERM);
  CHECK_THAT(pruned.error().message, Catch::Contains("symlink"));
  CHECK(regularFilesUnder(documents) == std::vector<std::string>{"notes/todo.txt", "thesis.tex"});
}

TEST_CASE("the home directory and its ancestors are never pruned", "[cache_trim]") {
  TempDir tmp;
  fs::path home = tmp.path() / "users/me";
  writeFile(home / "project/main.go", 100, 1);
  for (const fs::path& dir : {home, home.parent_path()}) {
    INFO(dir);
    auto pruned =
        pruneCacheToBudget(dir.string(), 0, PruneOwner{.home = home.string(), .uid = ::geteuid()});
    REQUIRE_FALSE(pruned.ok());
    CHECK(pruned.error().code == EPERM);
    CHECK_THAT(pruned.error().message, Catch::Contains("home directory"));
  }
  CHECK(fs::exists(home / "project/main.go"));
  // A cache inside the home is what gopls uses, and is pruned.
  writeFile(home / ".cache/gopls" / entryPath(1), 10, 1);
  auto inside = pruneCacheToBudget((home / ".cache/gopls").string(), 0,
                                   PruneOwner{.home = home.string(), .uid = ::geteuid()});
  REQUIRE(inside.ok());
  CHECK(inside->filesRemoved == 1);
}

TEST_CASE("another user's cache is refused, and another user's file in ours is left",
          "[cache_trim]") {
  TempDir tmp;
  fs::path cache = tmp.path() / "gopls";
  writeFile(cache / entryPath(1), 10, 1);  // mine
  writeFile(cache / entryPath(2), 10, 2);  // theirs
  const uid_t other = ::geteuid() + 4242;
  if (::chown((cache / entryPath(2)).c_str(), other, static_cast<gid_t>(-1)) != 0) {
    WSLGO_SKIP_LIVE_TEST("cannot give a file to another uid here (" << std::strerror(errno)
                                                                    << "); run as root");
  }
  auto pruned = pruneCacheToBudget(cache.string(), 0, kMe);
  REQUIRE(pruned.ok());
  CHECK(pruned->filesRemoved == 1);
  CHECK(pruned->notOwned == 1);
  CHECK(regularFilesUnder(cache) == std::vector<std::string>{entryPath(2)});

  REQUIRE(::chown(cache.c_str(), other, static_cast<gid_t>(-1)) == 0);
  auto refused = pruneCacheToBudget(cache.string(), 0, kMe);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == EPERM);
  CHECK_THAT(refused.error().message, Catch::Contains("uid " + std::to_string(other)));
}

TEST_CASE("pruning a cache that does not exist is an ENOENT error", "[cache_trim]") {
  TempDir tmp;
  auto pruned = pruneCacheToBudget((tmp.path() / "gopls").string(), 0, kMe);
  REQUIRE_FALSE(pruned.ok());
  CHECK(pruned.error().code == ENOENT);
  CHECK(pruned.error().path == (tmp.path() / "gopls").string());
}

TEST_CASE("a directory that vanishes between two slices is skipped, not an error", "[cache_trim]") {
  TempDir tmp;
  fs::path cache = tmp.path() / "gopls";
  for (unsigned n : {0x0a01u, 0x0a02u, 0x0b01u, 0x0b02u, 0x0b03u, 0x0c01u}) {
    writeFile(cache / entryPath(n), 10, 1);
  }
  fs::path vanishing = cache / kVersion / "01";  // the 0x..01 entries' subdirectory
  SliceLimits oneEntry{.maxEntries = 1, .maxTime = Usec::max(), .now = {}};

  SECTION("dropping page cache") {
    auto drop = PageCacheDrop::start(cache.string());
    REQUIRE(drop.ok());
    SliceBudget first(oneEntry);
    CHECK_FALSE(drop->step(first));  // the root's first entry: the version directory
    fs::remove_all(vanishing);
    for (bool done = false; !done;) {
      SliceBudget slice(oneEntry);
      done = drop->step(slice);
    }
    CHECK(drop->stats().files == 3);
    CHECK_FALSE(drop->stats().stoppedAtLimit);
  }
  SECTION("pruning") {
    auto prune = CachePrune::start(cache.string(), 0, kMe);
    REQUIRE(prune.ok());
    SliceBudget first(oneEntry);
    CHECK_FALSE(prune->step(first));
    fs::remove_all(vanishing);
    pruneInSlices(*prune, oneEntry);
    CHECK(prune->stats().filesRemoved == 3);
    CHECK(prune->stats().bytesLeft == 0);
    CHECK(regularFilesUnder(cache).empty());
    CHECK(fs::is_directory(cache));
  }
}

TEST_CASE("a time limit reached during the prune scan deletes nothing", "[cache_trim]") {
  TempDir tmp;
  fs::path cache = tmp.path() / "gopls";
  writeEntries(cache, 10, 10);
  SliceLimits limits;
  limits.maxTime = std::chrono::seconds(3);
  limits.now = SteppingClock{};

  auto pruned = pruneCacheToBudget(cache.string(), 0, kMe, limits);
  REQUIRE(pruned.ok());
  CHECK(pruned->stoppedAtLimit);
  CHECK(pruned->filesRemoved == 0);
  CHECK(regularFilesUnder(cache).size() == 10);
}

TEST_CASE("the page cache walk honours its entry and time limits", "[cache_trim]") {
  TempDir tmp;
  fs::path cache = tmp.path() / "mod";
  for (int i = 0; i < 10; ++i)
    writeFile(cache / ("d" + std::to_string(i % 3)) / std::to_string(i), 100, 0);
  fs::create_symlink(cache / "d0/0", cache / "link");

  SliceLimits limits;
  SECTION("fewer entries than the tree") {
    limits.maxEntries = 8;
    auto dropped = dropPageCache(cache.string(), limits);
    REQUIRE(dropped.ok());
    CHECK(dropped->files < 8);
    CHECK(dropped->stoppedAtLimit);
  }
  SECTION("a limit the tree fits in") {
    limits.maxEntries = 100;
    auto dropped = dropPageCache(cache.string(), limits);
    REQUIRE(dropped.ok());
    CHECK(dropped->files == 10);  // the symlink is not a file of its own
    CHECK(dropped->bytes == 1000);
    CHECK_FALSE(dropped->stoppedAtLimit);
  }
  SECTION("a time limit") {
    limits.maxTime = std::chrono::seconds(4);
    limits.now = SteppingClock{};
    auto dropped = dropPageCache(cache.string(), limits);
    REQUIRE(dropped.ok());
    CHECK(dropped->stoppedAtLimit);
    CHECK(dropped->files > 0);
    CHECK(dropped->files < 10);
  }
  SECTION("slice after slice, the whole tree") {
    auto drop = PageCacheDrop::start(cache.string());
    REQUIRE(drop.ok());
    size_t slices = 0;
    for (bool done = false; !done; ++slices) {
      SliceBudget slice(SliceLimits{.maxEntries = 2, .maxTime = Usec::max(), .now = {}});
      done = drop->step(slice);
    }
    CHECK(slices > 5);
    CHECK(drop->stats().files == 10);
    CHECK_FALSE(drop->stats().stoppedAtLimit);
  }
}

TEST_CASE("25,000 cache entries with a budget of 0 are all pruned over several slices",
          "[cache_trim]") {
  // The hostile review's case: the one-shot walk stopped at 20,000 files and freed nothing.
  TempDir tmp;
  fs::path cache = tmp.path() / "gopls";
  writeEntries(cache, 25000, 1);
  auto prune = CachePrune::start(cache.string(), 0, kMe);
  REQUIRE(prune.ok());

  const size_t slices =
      pruneInSlices(*prune, SliceLimits{.maxEntries = 2000, .maxTime = Usec::max(), .now = {}});
  CHECK(slices > 1);
  CHECK(prune->stats().filesRemoved == 25000);
  CHECK(prune->stats().bytesLeft == 0);
  CHECK(prune->stats().passes == 1);
  CHECK(regularFilesUnder(cache).empty());
  CHECK(fs::is_directory(cache));
}

TEST_CASE("more entries to delete than a pass keeps are pruned oldest first over several passes",
          "[cache_trim]") {
  TempDir tmp;
  fs::path cache = tmp.path() / "gopls";
  writeEntries(cache, 100, 10);
  // Keep the 30 newest: 700 bytes to delete, 70 entries, 16 kept in memory per pass.
  auto prune = CachePrune::start(cache.string(), 300, kMe, /*maxCandidates=*/16);
  REQUIRE(prune.ok());
  pruneInSlices(*prune, SliceLimits{.maxEntries = 50, .maxTime = Usec::max(), .now = {}});
  CHECK(prune->stats().filesRemoved == 70);
  CHECK(prune->stats().passes == 5);
  CHECK(prune->stats().bytesLeft == 300);
  std::vector<std::string> newest;
  for (unsigned i = 70; i < 100; ++i) newest.push_back(entryPath(i));
  std::sort(newest.begin(), newest.end());
  CHECK(regularFilesUnder(cache) == newest);
}

TEST_CASE("files outside gopls' cache layout survive a prune to zero", "[cache_trim]") {
  TempDir tmp;
  fs::path cache = tmp.path() / "gopls";
  writeEntries(cache, 3, 10);
  const std::string key = entryKey(0x42);
  const std::vector<std::string> strangers{
      "notes.txt",                                         // directly in the cache
      std::string(kVersion) + "/exe.sha256",               // gopls' own, in a version directory
      std::string(kVersion) + "/42/readme",                // not a key
      std::string(kVersion) + "/42/" + key,                // a key without its kind
      std::string(kVersion) + "/42/" + key + "-",          // an empty kind
      std::string(kVersion) + "/42/" + key + "-Analysis",  // not gopls' spelling
      std::string(kVersion) + "/42/" + key + "-x/y",       // below an entry's name
      std::string(kVersion) + "/43/" + key + "-analysis",  // in another key's subdirectory
      std::string(kVersion) + "/42/deeper/" + key + "-analysis",
      "0A1B2C3D/42/" + key + "-analysis",             // a version in upper case
      "0a1b2c3/42/" + key + "-analysis",              // seven digits
      "documents/42/" + key + "-analysis",            // not a version
      std::string(kVersion) + "/analysis/42/" + key,  // the v0.12.0 pre-releases' layout
  };
  for (const std::string& stranger : strangers) writeFile(cache / stranger, 1000, 0);

  auto pruned = pruneCacheToBudget(cache.string(), 0, kMe);
  REQUIRE(pruned.ok());
  CHECK(pruned->filesRemoved == 3);
  // Files met in the layout's directories; the others are in directories never entered.
  CHECK(pruned->outsideLayout == 7);
  std::vector<std::string> expected = strangers;
  std::sort(expected.begin(), expected.end());
  CHECK(regularFilesUnder(cache) == expected);
}

TEST_CASE("a subdirectory swapped for a symlink between two slices is not followed",
          "[cache_trim]") {
  TempDir tmp;
  fs::path cache = tmp.path() / "gopls";
  fs::path outside = tmp.path() / "elsewhere";
  writeEntries(cache, 512, 10);  // two entries in each of the 256 subdirectories
  const std::string swapped = entryKey(0x80).substr(0, 2);
  // The symlink's target holds what looks like the swapped subdirectory's entries, older still.
  for (unsigned n : {0x80u, 0x180u, 0x280u}) {
    writeFile(outside / (entryKey(n) + "-analysis"), 10, -100);
  }
  auto prune = CachePrune::start(cache.string(), 0, kMe);
  REQUIRE(prune.ok());
  const SliceLimits slices{.maxEntries = 100, .maxTime = Usec::max(), .now = {}};

  SECTION("early in the scan") {
    SliceBudget first(slices);
    REQUIRE_FALSE(prune->step(first));
  }
  SECTION("once the scan saw it, before the deletions reach it") {
    // The deletions start once the scan is complete, and go oldest first: the swapped
    // subdirectory's first entry is the 129th oldest.
    while (prune->stats().filesRemoved == 0) {
      SliceBudget slice(slices);
      REQUIRE_FALSE(prune->step(slice));
    }
    REQUIRE(prune->stats().filesRemoved < 0x80);
  }
  fs::rename(cache / kVersion / swapped, tmp.path() / "moved-away");
  fs::create_directory_symlink(outside, cache / kVersion / swapped);
  pruneInSlices(*prune, slices);

  CHECK(regularFilesUnder(outside).size() == 3);
  CHECK(regularFilesUnder(tmp.path() / "moved-away").size() == 2);
  CHECK(fs::is_symlink(cache / kVersion / swapped));
  CHECK(prune->stats().filesRemoved == 510);
}

TEST_CASE("an entry gopls used after the scan saw it is not deleted", "[cache_trim]") {
  TempDir tmp;
  fs::path cache = tmp.path() / "gopls";
  writeEntries(cache, 512, 10);
  auto prune = CachePrune::start(cache.string(), 0, kMe);
  REQUIRE(prune.ok());
  const SliceLimits slices{.maxEntries = 100, .maxTime = Usec::max(), .now = {}};
  while (prune->stats().filesRemoved == 0) {
    SliceBudget slice(slices);
    REQUIRE_FALSE(prune->step(slice));
  }
  REQUIRE(prune->stats().filesRemoved < 200);
  // gopls read entry 200 (the 201st oldest) and touched it, as filecache.get does.
  timespec now[2] = {{0, UTIME_NOW}, {0, UTIME_NOW}};
  REQUIRE(::utimensat(AT_FDCWD, (cache / entryPath(200)).c_str(), now, 0) == 0);
  pruneInSlices(*prune, slices);

  CHECK(regularFilesUnder(cache) == std::vector<std::string>{entryPath(200)});
  CHECK(prune->stats().filesRemoved == 511);
}

TEST_CASE("a slice shared by two walks ends both", "[cache_trim]") {
  TempDir tmp;
  writeEntries(tmp.path() / "a/gopls", 20, 1);
  writeEntries(tmp.path() / "b/gopls", 20, 1);
  auto first = CachePrune::start((tmp.path() / "a/gopls").string(), 0, kMe);
  auto second = PageCacheDrop::start((tmp.path() / "b/gopls").string());
  REQUIRE(first.ok());
  REQUIRE(second.ok());
  SliceBudget slice(SliceLimits{.maxEntries = 10, .maxTime = Usec::max(), .now = {}});
  CHECK_FALSE(first->step(slice));
  CHECK(slice.spent());
  CHECK_FALSE(second->step(slice));
  CHECK(second->stats().files == 0);
}

TEST_CASE("dropping the page cache of a file makes it no longer resident", "[cache_trim][live]") {
  TempDir tmp;
  struct statfs fsInfo {};
  REQUIRE(::statfs(tmp.path().c_str(), &fsInfo) == 0);
  if (fsInfo.f_type == TMPFS_MAGIC) {
    WSLGO_SKIP_LIVE_TEST("$TMPDIR is a tmpfs, whose pages are the files themselves");
  }
  fs::path cache = tmp.path() / "mod";
  fs::create_directories(cache);
  fs::path big = cache / "big.zip";
  constexpr size_t kSize = 64u << 20;
  {
    int fd = ::open(big.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    REQUIRE(fd >= 0);
    std::string chunk(1u << 20, 'g');
    for (size_t written = 0; written < kSize; written += chunk.size()) {
      REQUIRE(::write(fd, chunk.data(), chunk.size()) == static_cast<ssize_t>(chunk.size()));
    }
    // Written back first: DONTNEED drops clean pages only, and a cache file is long clean.
    REQUIRE(::fsync(fd) == 0);
    ::close(fd);
  }
  {
    int fd = ::open(big.c_str(), O_RDONLY | O_CLOEXEC);
    REQUIRE(fd >= 0);
    std::vector<char> buffer(1u << 20);
    while (::read(fd, buffer.data(), buffer.size()) > 0) {
    }
    ::close(fd);
  }
  double before = residentShare(big);
  REQUIRE(before > 0.9);

  auto dropped = dropPageCache(cache.string());
  REQUIRE(dropped.ok());
  CHECK(dropped->files == 1);
  CHECK(dropped->bytes == kSize);
  double after = residentShare(big);
  CHECK(after < 0.1);
}

TEST_CASE("dropping the page cache of a missing directory is an ENOENT error", "[cache_trim]") {
  TempDir tmp;
  auto dropped = dropPageCache((tmp.path() / "nothing").string());
  REQUIRE_FALSE(dropped.ok());
  CHECK(dropped.error().code == ENOENT);
}

TEST_CASE("reclaim on a cgroup2 directory without memory.reclaim says to fall back",
          "[cache_trim][live]") {
  auto layout = readCgroupLayout(SysRoots{});
  REQUIRE(layout.ok());
  if (!layout->unified) WSLGO_SKIP_LIVE_TEST("no cgroup2 hierarchy is mounted");
  fs::path cgroup =
      fs::path(layout->unified->mountPoint) / ("wslgo-itest-reclaim-" + std::to_string(::getpid()));
  if (::mkdir(cgroup.c_str(), 0755) != 0) {
    WSLGO_SKIP_LIVE_TEST("cannot create a cgroup under " << layout->unified->mountPoint << " ("
                                                         << std::strerror(errno) << ")");
  }
  bool hasReclaim = fs::exists(cgroup / "memory.reclaim");
  auto reclaimed = reclaimCgroupMemory(cgroup.string(), 1u << 20);
  REQUIRE(::rmdir(cgroup.c_str()) == 0);

  if (hasReclaim) {
    // A host whose cgroup2 carries memory (pure v2, 5.19+): the write goes through; an empty
    // cgroup has nothing to give, which the kernel reports as EAGAIN and is not an error.
    REQUIRE(reclaimed.ok());
    CHECK(*reclaimed == 1u << 20);
  } else {
    // This machine: hybrid, memory in v1, so cgroup2 has no memory.* files.
    REQUIRE_FALSE(reclaimed.ok());
    CHECK(reclaimed.error().code == ENOENT);
    CHECK(reclaimed.error().path == (cgroup / "memory.reclaim").string());
    CHECK_THAT(reclaimed.error().message, Catch::Contains("drop the page cache"));
  }
}

// A temp file stands in for memory.reclaim: no cgroup on this hybrid host has one, and the
// write is all the function does with it.
TEST_CASE("reclaim writes the byte count in decimal to memory.reclaim", "[cache_trim]") {
  TempDir tmp;
  fs::path file = tmp.path() / "memory.reclaim";
  { std::ofstream touch(file); }

  auto reclaimed = reclaimCgroupMemory(tmp.path().string(), 268435456);
  REQUIRE(reclaimed.ok());
  CHECK(*reclaimed == 268435456);
  std::ifstream in(file);
  std::string written((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(written == "268435456");

  SECTION("nothing is written for zero bytes") {
    fs::resize_file(file, 0);
    auto none = reclaimCgroupMemory(tmp.path().string(), 0);
    REQUIRE(none.ok());
    CHECK(*none == 0);
    CHECK(fs::file_size(file) == 0);
  }
}

TEST_CASE("gopls' cache is found as gopls finds it", "[cache_trim]") {
  GoCacheEnv env;
  env.home = "/home/dev";
  CHECK(goplsCacheDir(env) == "/home/dev/.cache/gopls");
  env.xdgCacheHome = "/var/cache/dev/";
  CHECK(goplsCacheDir(env) == "/var/cache/dev/gopls");
  // GOPLSCACHE takes the user cache directory's place: gopls makes its "gopls" there too.
  env.goplsCache = "/scratch/gopls-cache";
  CHECK(goplsCacheDir(env) == "/scratch/gopls-cache/gopls");

  SECTION("relative values are ignored") {
    GoCacheEnv relative{"cache", "xdg", "", "", "/home/dev"};
    CHECK(goplsCacheDir(relative) == "/home/dev/.cache/gopls");
    relative.home = "home";
    CHECK(goplsCacheDir(relative).empty());
  }
}

TEST_CASE("gopls' cache is found from gopls' own environment", "[cache_trim][environ]") {
  const SysRoots roots{std::string(WSLGO_FIXTURES_DIR) + "/environ/proc", "/sys"};
  auto own = goplsCacheDirOfProcess(roots, 23421);  // GOPLSCACHE and XDG_CACHE_HOME set
  REQUIRE(own.ok());
  CHECK(*own == "/srv/gopls-cache/gopls");
  auto homeOnly = goplsCacheDirOfProcess(roots, 23474);
  REQUIRE(homeOnly.ok());
  CHECK(*homeOnly == "/home/dev/.cache/gopls");
  auto odd = goplsCacheDirOfProcess(roots, 23514);  // GOPLSCACHE twice: the first counts
  REQUIRE(odd.ok());
  CHECK(*odd == "/first/gopls");
  auto none = goplsCacheDirOfProcess(roots, 23504);  // no environment: nothing resolves
  REQUIRE(none.ok());
  CHECK(none->empty());
  auto gone = goplsCacheDirOfProcess(roots, 31337);
  REQUIRE_FALSE(gone.ok());
  CHECK(gone.error().code == ENOENT);

  SECTION("the module cache from the same environment") {
    auto environment = readProcessEnviron(roots, 23421);
    REQUIRE(environment.ok());
    CHECK(goModCacheDir(goCacheEnvOf(*environment)) == "/srv/modcache");
  }
}

TEST_CASE("the module cache is found as the go command finds it", "[cache_trim]") {
  GoCacheEnv env;
  CHECK(goModCacheDir(env).empty());
  env.home = "/home/dev";
  CHECK(goModCacheDir(env) == "/home/dev/go/pkg/mod");
  env.goPath = "/opt/gopath:/home/dev/other";
  CHECK(goModCacheDir(env) == "/opt/gopath/pkg/mod");
  env.goModCache = "/srv/modcache";
  CHECK(goModCacheDir(env) == "/srv/modcache");

  SECTION("a relative setting is refused, not replaced by a default") {
    env.goModCache = "modcache";
    CHECK(goModCacheDir(env).empty());
    env.goModCache.clear();
    env.goPath = "gopath:/abs";
    CHECK(goModCacheDir(env).empty());
  }
}
