#include "lib/kept_file.h"
#include "lib/cgroup_hierarchy.h"
#include "tests/unit/live.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

namespace wslgo {
namespace {

// A private temporary directory, removed with whatever files the test left in it.
class TempDir {
 public:
  TempDir() {
    std::string pattern = "/tmp/wslgo-kept-file-test-XXXXXX";
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    path_ = pattern;
  }
  ~TempDir() {
    for (const auto& name : {"file", "missing"}) ::unlink((path_ + "/" + name).c_str());
    ::rmdir(path_.c_str());
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::string file(const std::string& name = "file") const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Replaces the contents in place (same inode), as the kernel does for a seq_file.
void overwrite(const std::string& path, const std::string& text) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  REQUIRE(fd >= 0);
  REQUIRE(::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
  ::close(fd);
}

// Deterministic, non-repeating-looking content so a short or misplaced read cannot pass.
std::string pattern(size_t size) {
  std::string text;
  text.reserve(size);
  for (size_t i = 0; text.size() < size; ++i) text += std::to_string(i) + (i % 16 ? ' ' : '\n');
  text.resize(size);
  return text;
}

TEST_CASE("KeptFile reads a small file whole", "[kept_file]") {
  TempDir dir;
  overwrite(dir.file(), "MemTotal: 1 kB\n");
  KeptFile file(dir.file());
  CHECK(file.path() == dir.file());
  CHECK(file.exists());
  auto text = file.read();
  REQUIRE(text.ok());
  CHECK(*text == "MemTotal: 1 kB\n");
}

TEST_CASE("KeptFile sees new content on the next read, longer or shorter", "[kept_file]") {
  TempDir dir;
  overwrite(dir.file(), "first\n");
  KeptFile file(dir.file());
  REQUIRE(file.read().ok());

  overwrite(dir.file(), "second, and longer than the first\n");
  auto longer = file.read();
  REQUIRE(longer.ok());
  CHECK(*longer == "second, and longer than the first\n");

  overwrite(dir.file(), "3\n");
  auto shorter = file.read();
  REQUIRE(shorter.ok());
  CHECK(*shorter == "3\n");  // nothing of the longer content left behind

  overwrite(dir.file(), "");
  auto empty = file.read();
  REQUIRE(empty.ok());
  CHECK(empty->empty());
}

TEST_CASE("KeptFile reports ENOENT with the path for a missing file", "[kept_file]") {
  TempDir dir;
  KeptFile file(dir.file("missing"));
  CHECK_FALSE(file.exists());
  auto text = file.read();
  REQUIRE_FALSE(text.ok());
  CHECK(text.error().code == ENOENT);
  CHECK(text.error().path == dir.file("missing"));
  CHECK_THAT(text.error().describe(), Catch::Contains(dir.file("missing")));
}

TEST_CASE("KeptFile reads files larger than its first 4096-byte buffer", "[kept_file]") {
  TempDir dir;
  // Exactly one buffer, one byte more, and several buffers: the growth path and its boundary.
  for (size_t size : {size_t{4095}, size_t{4096}, size_t{4097}, size_t{8192}, size_t{100000}}) {
    INFO("size " << size);
    std::string expected = pattern(size);
    overwrite(dir.file(), expected);
    KeptFile file(dir.file());
    auto text = file.read();
    REQUIRE(text.ok());
    CHECK(text->size() == size);
    CHECK(*text == expected);
  }
}

TEST_CASE("KeptFile reuses its buffer once it has grown", "[kept_file]") {
  TempDir dir;
  overwrite(dir.file(), pattern(10000));
  KeptFile file(dir.file());
  auto first = file.read();
  REQUIRE(first.ok());
  const char* storage = first->data();
  for (int i = 0; i < 5; ++i) {
    overwrite(dir.file(), pattern(9000 + static_cast<size_t>(i)));
    auto again = file.read();
    REQUIRE(again.ok());
    CHECK(again->data() == storage);
    CHECK(again->size() == 9000 + static_cast<size_t>(i));
  }
}

TEST_CASE("KeptFile opens the file once it appears after a failed read", "[kept_file]") {
  TempDir dir;
  KeptFile file(dir.file());
  REQUIRE_FALSE(file.read().ok());
  overwrite(dir.file(), "now here\n");
  auto text = file.read();
  REQUIRE(text.ok());
  CHECK(*text == "now here\n");
}

TEST_CASE("KeptFile holds a deleted regular file until close(), then reopens by path",
          "[kept_file]") {
  // Unlike /proc and cgroup files, an unlinked regular file stays readable through an open
  // descriptor, so only close() (or a failed read) makes KeptFile look the path up again.
  TempDir dir;
  overwrite(dir.file(), "old\n");
  KeptFile file(dir.file());
  REQUIRE(file.read().ok());
  REQUIRE(::unlink(dir.file().c_str()) == 0);
  overwrite(dir.file(), "new\n");

  auto held = file.read();
  REQUIRE(held.ok());
  CHECK(*held == "old\n");

  file.close();
  auto reopened = file.read();
  REQUIRE(reopened.ok());
  CHECK(*reopened == "new\n");
}

TEST_CASE("a moved KeptFile keeps reading and the moved-from one is empty", "[kept_file]") {
  TempDir dir;
  overwrite(dir.file(), "moved\n");
  KeptFile original(dir.file());
  REQUIRE(original.read().ok());
  KeptFile moved(std::move(original));
  auto text = moved.read();
  REQUIRE(text.ok());
  CHECK(*text == "moved\n");

  KeptFile assigned;
  assigned = std::move(moved);
  auto again = assigned.read();
  REQUIRE(again.ok());
  CHECK(*again == "moved\n");
}

TEST_CASE("readFileInto reads a whole file into the caller's buffer", "[kept_file]") {
  TempDir dir;
  std::string expected = pattern(5000);
  overwrite(dir.file(), expected);
  std::string buffer;
  auto text = readFileInto(dir.file(), buffer);
  REQUIRE(text.ok());
  CHECK(*text == expected);
  CHECK(text->data() == buffer.data());

  auto missing = readFileInto(dir.file("missing"), buffer);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().code == ENOENT);
  CHECK(missing.error().path == dir.file("missing"));
}

TEST_CASE("KeptFile reopens a cgroup file after the cgroup is removed and recreated",
          "[kept_file][live]") {
  auto layout = readCgroupLayout(SysRoots{});
  REQUIRE(layout.ok());
  if (!layout->unified) {
    WARN("no cgroup2 hierarchy on this host: skipped");
    return;
  }
  const std::string cgroup =
      layout->unified->mountPoint + "/wslgo-kept-file-test-" + std::to_string(::getpid());
  if (::mkdir(cgroup.c_str(), 0755) != 0) {
    WSLGO_SKIP_LIVE_TEST("cannot create " << cgroup << " (" << std::strerror(errno) << ")");
  }
  const std::string depth = cgroup + "/cgroup.max.depth";
  KeptFile file(depth);
  auto before = file.read();
  REQUIRE(before.ok());
  CHECK(*before == "max\n");

  REQUIRE(::rmdir(cgroup.c_str()) == 0);
  auto gone = file.read();
  REQUIRE_FALSE(gone.ok());
  CHECK(gone.error().code == ENODEV);  // kernfs: the node behind the descriptor is gone
  CHECK(gone.error().path == depth);

  REQUIRE(::mkdir(cgroup.c_str(), 0755) == 0);
  overwrite(depth, "3\n");  // tells the new cgroup from the old one
  auto after = file.read();
  ::rmdir(cgroup.c_str());
  REQUIRE(after.ok());
  CHECK(*after == "3\n");
}

}  // namespace
}  // namespace wslgo
