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

}  // namespace

TEST_CASE("pruning deletes the oldest files until the cache fits the budget exactly",
          "[cache_trim]") {
  TempDir tmp;
  fs::path cache = tmp.path() / "gopls";
  writeFile(cache / "a/oldest", 100, 100);
  writeFile(cache / "a/older", 200, 200);
  writeFile(cache / "b/newer", 300, 300);
  writeFile(cache / "newest", 400, 400);

  auto pruned = pruneCacheToBudget(cache.string(), 700, kMe);
  REQUIRE(pruned.ok());
  CHECK(pruned->filesRemoved == 2);
  CHECK(pruned->bytesFreed == 300);
  CHECK(pruned->bytesLeft == 700);
  CHECK(pruned->dirsRemoved == 1);  // a/ was emptied
  CHECK_FALSE(pruned->stoppedAtLimit);
  CHECK(regularFilesUnder(cache) == std::vector<std::string>{"b/newer", "newest"});
  CHECK_FALSE(fs::exists(cache / "a"));
  CHECK(fs::is_directory(cache));
}

TEST_CASE("a budget larger than the cache removes nothing", "[cache_trim]") {
  TempDir tmp;
  fs::path cache = tmp.path() / "gopls";
  writeFile(cache / "x/1", 10, 1);
  writeFile(cache / "x/2", 20, 2);

  auto pruned = pruneCacheToBudget(cache.string(), 1'000'000, kMe);
  REQUIRE(pruned.ok());
  CHECK(pruned->filesRemoved == 0);
  CHECK(pruned->bytesLeft == 30);
  CHECK(regularFilesUnder(cache) == std::vector<std::string>{"x/1", "x/2"});
}

TEST_CASE("ties in modification time are broken by access time", "[cache_trim]") {
  TempDir tmp;
  fs::path cache = tmp.path() / "gopls";
  writeFile(cache / "read-lately", 50, 10, 500);
  writeFile(cache / "read-long-ago", 50, 10, 20);

  auto pruned = pruneCacheToBudget(cache.string(), 50, kMe);
  REQUIRE(pruned.ok());
  CHECK(regularFilesUnder(cache) == std::vector<std::string>{"read-lately"});
}

TEST_CASE("pruning to zero never follows a symlink out of the cache", "[cache_trim]") {
  TempDir tmp;
  fs::path cache = tmp.path() / "gopls";
  fs::path outside = tmp.path() / "precious";
  writeFile(outside / "thesis.tex", 1000, 1);  // older than anything in the cache
  writeFile(cache / "entry", 10, 50);
  fs::create_directories(cache / "sub");
  fs::create_directory_symlink(outside, cache / "sub/to-dir");
  fs::create_symlink(outside / "thesis.tex", cache / "to-file");

  auto pruned = pruneCacheToBudget(cache.string(), 0, kMe);
  REQUIRE(pruned.ok());
  CHECK(pruned->filesRemoved == 1);
  CHECK(fs::file_size(outside / "thesis.tex") == 1000);
  CHECK(fs::is_symlink(cache / "sub/to-dir"));  // links are not files of the cache: left alone
  CHECK(fs::is_symlink(cache / "to-file"));
  CHECK(fs::is_directory(cache));
}

TEST_CASE("pruning stays on the cache's filesystem", "[cache_trim][live]") {
  TempDir tmp;
  fs::path cache = tmp.path() / "gopls";
  fs::path mountPoint = cache / "mnt";
  fs::create_directories(mountPoint);
  writeFile(cache / "entry", 10, 50);
  if (::mount("wslgo-itest", mountPoint.c_str(), "tmpfs", 0, "size=1m") != 0) {
    WSLGO_SKIP_LIVE_TEST("cannot mount a tmpfs here (" << std::strerror(errno) << "); run as root");
  }
  writeFile(mountPoint / "other-fs", 10, 1);

  auto pruned = pruneCacheToBudget(cache.string(), 0, kMe);
  auto dropped = dropPageCache(cache.string());
  bool stillThere = fs::exists(mountPoint / "other-fs");
  REQUIRE(::umount(mountPoint.c_str()) == 0);

  REQUIRE(pruned.ok());
  CHECK(pruned->filesRemoved == 1);
  CHECK(stillThere);
  REQUIRE(dropped.ok());
  CHECK(dropped->files == 0);  // the one file on this filesystem was pruned first
}

// Should the check ever break, the budget and file limit keep these calls from deleting anything.
TEST_CASE("pruning refuses / and directories one level below it", "[cache_trim]") {
  WalkLimits harmless;
  harmless.maxFiles = 1;
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
  writeFile(home / ".cache/gopls/entry", 10, 1);
  auto inside = pruneCacheToBudget((home / ".cache/gopls").string(), 0,
                                   PruneOwner{.home = home.string(), .uid = ::geteuid()});
  REQUIRE(inside.ok());
  CHECK(inside->filesRemoved == 1);
}

TEST_CASE("another user's cache is refused, and another user's file in ours is left",
          "[cache_trim]") {
  TempDir tmp;
  fs::path cache = tmp.path() / "gopls";
  writeFile(cache / "mine", 10, 1);
  writeFile(cache / "theirs", 10, 2);
  const uid_t other = ::geteuid() + 4242;
  if (::chown((cache / "theirs").c_str(), other, static_cast<gid_t>(-1)) != 0) {
    WSLGO_SKIP_LIVE_TEST("cannot give a file to another uid here (" << std::strerror(errno)
                                                                    << "); run as root");
  }
  auto pruned = pruneCacheToBudget(cache.string(), 0, kMe);
  REQUIRE(pruned.ok());
  CHECK(pruned->filesRemoved == 1);
  CHECK(pruned->notOwned == 1);
  CHECK(regularFilesUnder(cache) == std::vector<std::string>{"theirs"});

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

// The clock is the one call a walk makes between files, so these tests use it to change the
// tree under the walk.
TEST_CASE("a directory that vanishes mid-walk is skipped, not an error", "[cache_trim]") {
  TempDir tmp;
  fs::path cache = tmp.path() / "gopls";
  for (const char* name : {"a/1", "a/2", "b/1", "b/2", "b/3", "c/1"})
    writeFile(cache / name, 10, 1);
  int calls = 0;
  WalkLimits limits;
  limits.now = [&] {
    if (++calls == 2) fs::remove_all(cache / "b");  // just before the first file is visited
    return Usec{0};
  };

  SECTION("dropping page cache") {
    auto dropped = dropPageCache(cache.string(), limits);
    REQUIRE(dropped.ok());
    CHECK(dropped->files == 3);
    CHECK_FALSE(dropped->stoppedAtLimit);
  }
  SECTION("pruning") {
    auto pruned = pruneCacheToBudget(cache.string(), 0, kMe, limits);
    REQUIRE(pruned.ok());
    CHECK(pruned->filesRemoved == 3);
    CHECK(pruned->bytesLeft == 0);
    CHECK(regularFilesUnder(cache).empty());
    CHECK(fs::is_directory(cache));
  }
}

TEST_CASE("a time limit reached during the prune scan deletes nothing", "[cache_trim]") {
  TempDir tmp;
  fs::path cache = tmp.path() / "gopls";
  for (int i = 0; i < 10; ++i) writeFile(cache / std::to_string(i), 10, i);
  WalkLimits limits;
  limits.maxTime = std::chrono::seconds(3);
  limits.now = SteppingClock{};

  auto pruned = pruneCacheToBudget(cache.string(), 0, kMe, limits);
  REQUIRE(pruned.ok());
  CHECK(pruned->stoppedAtLimit);
  CHECK(pruned->filesRemoved == 0);
  CHECK(regularFilesUnder(cache).size() == 10);
}

TEST_CASE("the page cache walk honours maxFiles and a time limit", "[cache_trim]") {
  TempDir tmp;
  fs::path cache = tmp.path() / "mod";
  for (int i = 0; i < 10; ++i)
    writeFile(cache / ("d" + std::to_string(i % 3)) / std::to_string(i), 100, 0);
  fs::create_symlink(cache / "d0/0", cache / "link");

  DropCacheLimits limits;
  SECTION("fewer files than the limit") {
    limits.maxFiles = 3;
    auto dropped = dropPageCache(cache.string(), limits);
    REQUIRE(dropped.ok());
    CHECK(dropped->files == 3);
    CHECK(dropped->bytes == 300);
    CHECK(dropped->stoppedAtLimit);
  }
  SECTION("a limit the tree fits in") {
    limits.maxFiles = 10;
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
  env.goplsCache = "/scratch/gopls-cache";
  CHECK(goplsCacheDir(env) == "/scratch/gopls-cache");

  SECTION("relative values are ignored") {
    GoCacheEnv relative{"cache", "xdg", "", "", "/home/dev"};
    CHECK(goplsCacheDir(relative) == "/home/dev/.cache/gopls");
    relative.home = "home";
    CHECK(goplsCacheDir(relative).empty());
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
