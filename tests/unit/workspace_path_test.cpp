#include "lib/workspace_path.h"
#include "lib/utf8.h"
#include "tests/unit/temp_dir.h"

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <climits>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace wslgo {
namespace {

namespace fs = std::filesystem;

// The shared TempDir, plus makers for the directories and files the checks resolve.
class TempDir : public test::TempDir {
 public:
  TempDir() : test::TempDir("workspace-path-test") {}

  std::string directory(const std::string& name) const {
    fs::create_directories(*this / name);
    return *this / name;
  }
  std::string file(const std::string& name) const {
    std::ofstream(*this / name) << "module example.com/x\n";
    return *this / name;
  }
};

bool mentions(const Error& error, const std::string& text) {
  return error.message.find(text) != std::string::npos;
}

TEST_CASE("a module directory resolves to its canonical path") {
  TempDir dir;
  std::string module = dir.directory("src/app");
  dir.file("src/app/go.mod");
  auto root = resolveWorkspaceRoot(module, false);
  REQUIRE(root);
  CHECK(*root == module);

  auto messy = resolveWorkspaceRoot(dir / "src/./app/../app//", false);
  REQUIRE(messy);
  CHECK(*messy == module);
}

TEST_CASE("a symlink to a module resolves to the directory it points at") {
  TempDir dir;
  std::string module = dir.directory("real/app");
  dir.file("real/app/go.mod");
  fs::create_directory_symlink(module, dir / "link");
  auto root = resolveWorkspaceRoot(dir / "link", false);
  REQUIRE(root);
  CHECK(*root == module);
}

TEST_CASE("a go.work without go.mod makes a workspace") {
  TempDir dir;
  std::string work = dir.directory("work");
  dir.file("work/go.work");
  CHECK(resolveWorkspaceRoot(work, false).valueOr("") == work);
}

TEST_CASE("a directory without go.mod or go.work is refused unless non-modules are allowed") {
  TempDir dir;
  std::string plain = dir.directory("plain");
  dir.directory("plain/go.mod");  // a directory of that name is not a module file
  auto refused = resolveWorkspaceRoot(plain, false);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().path == plain);
  CHECK(mentions(refused.error(), "has no go.mod or go.work"));
  CHECK(mentions(refused.error(), "allow_non_module"));

  CHECK(resolveWorkspaceRoot(plain, true).valueOr("") == plain);
}

TEST_CASE("a relative workspace path is refused with advice to use an absolute one") {
  for (std::string path : {"src/app", ".", "./app", "~/src"}) {
    auto refused = resolveWorkspaceRoot(path, true);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().code == EINVAL);
    CHECK(mentions(refused.error(), "use an absolute path"));
  }
  CHECK_FALSE(resolveWorkspaceRoot("", true));
}

TEST_CASE("a workspace path that does not exist is ENOENT naming the path") {
  TempDir dir;
  std::string missing = dir / "nope/app";
  auto refused = resolveWorkspaceRoot(missing, true);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == ENOENT);
  CHECK(refused.error().path == missing);
}

TEST_CASE("a file given as the workspace is ENOTDIR asking for the directory that holds go.mod") {
  TempDir dir;
  dir.directory("app");
  std::string goMod = dir.file("app/go.mod");
  auto refused = resolveWorkspaceRoot(goMod, true);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == ENOTDIR);
  CHECK(refused.error().path == goMod);
  CHECK(mentions(refused.error(), "is a file; pass the directory that holds go.mod"));

  auto through = resolveWorkspaceRoot(goMod + "/sub", true);
  REQUIRE_FALSE(through);
  CHECK(through.error().code == ENOTDIR);
}

TEST_CASE("a 64 KiB workspace path is refused as too long without being resolved") {
  std::string huge = "/" + std::string(64 * 1024, 'a');
  auto refused = resolveWorkspaceRoot(huge, true);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == EINVAL);
  CHECK(mentions(refused.error(), "path too long"));
  CHECK(refused.error().path.size() < 100);

  std::string atLimit = "/" + std::string(PATH_MAX, 'b');
  CHECK(mentions(resolveWorkspaceRoot(atLimit, true).error(), "path too long"));
  // One byte shorter fits the limit and goes on to be resolved, which finds nothing there.
  std::string justUnder = "/" + std::string(PATH_MAX - 2, 'c');
  auto resolved = resolveWorkspaceRoot(justUnder, true);
  REQUIRE_FALSE(resolved);
  CHECK(resolved.error().code != EINVAL);
}

TEST_CASE("a workspace path with a NUL byte is refused") {
  auto refused = resolveWorkspaceRoot(std::string("/tmp\0/x", 7), true);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == EINVAL);
}

TEST_CASE("the workspace containing a directory is the deepest root at or above it") {
  std::vector<std::string> roots = {"/home/me/src", "/home/me/src/app", "/srv/go/"};
  CHECK(workspaceContaining(roots, "/home/me/src/app/internal/x") == "/home/me/src/app");
  CHECK(workspaceContaining(roots, "/home/me/src/app") == "/home/me/src/app");
  CHECK(workspaceContaining(roots, "/home/me/src/app/") == "/home/me/src/app");
  CHECK(workspaceContaining(roots, "/home/me/src/apple") == "/home/me/src");
  CHECK(workspaceContaining(roots, "/home/me/src/other") == "/home/me/src");
  CHECK(workspaceContaining(roots, "/srv/go/pkg") == "/srv/go/");
  CHECK_FALSE(workspaceContaining(roots, "/home/me/srcs"));
  CHECK_FALSE(workspaceContaining(roots, "/home/me"));
  CHECK_FALSE(workspaceContaining(roots, "/srv/gopher"));
  CHECK_FALSE(workspaceContaining(roots, ""));
  CHECK_FALSE(workspaceContaining({}, "/home/me/src"));
}

TEST_CASE("a root of / contains every absolute directory but loses to a deeper root") {
  std::vector<std::string> roots = {"/", "/a/b"};
  CHECK(workspaceContaining(roots, "/") == "/");
  CHECK(workspaceContaining(roots, "/a/bc") == "/");
  CHECK(workspaceContaining(roots, "/a/b/c") == "/a/b");
  CHECK_FALSE(workspaceContaining(roots, "relative/a/b"));
}

}  // namespace
}  // namespace wslgo

namespace wslgo {

TEST_CASE("a workspace whose real path is not UTF-8 is refused, even through a UTF-8 symlink") {
  test::TempDir dir("workspace-path-utf8");
  std::string bad = dir / std::string("caf\xe9");  // Latin-1 é: not UTF-8
  std::filesystem::create_directories(bad);
  std::ofstream(bad + "/go.mod") << "module example.com/x\n";
  std::string link = dir / "cafe";
  std::filesystem::create_directory_symlink(bad, link);
  for (const std::string& given : {bad, link}) {
    auto root = resolveWorkspaceRoot(given, false);
    REQUIRE_FALSE(root);
    CHECK(root.error().code == EILSEQ);
    CHECK(isValidUtf8(root.error().path));  // the message itself can travel over D-Bus
    CHECK(root.error().message.find("rename the directory") != std::string::npos);
  }
}

TEST_CASE("/ and the kernel's trees are refused as workspaces even when non-modules are allowed") {
  for (const char* path : {"/", "/proc", "/sys", "/dev", "/proc/self", "/sys/fs/cgroup"}) {
    auto root = resolveWorkspaceRoot(path, /*allowNonModule=*/true);
    REQUIRE_FALSE(root);
    CHECK(root.error().code == EPERM);
    CHECK(root.error().message.find("system directory") != std::string::npos);
  }
  // A name that merely starts like one is not.
  test::TempDir dir("workspace-path-devices");
  std::filesystem::create_directories(dir / "devices");
  CHECK(resolveWorkspaceRoot(std::string(dir / "devices"), true));
}

TEST_CASE("a workspace directory of another user is refused, naming its owner and why") {
  // gopls runs, as the guard's user, what a workspace's go.mod toolchain line and settings name.
  TempDir dir;
  const std::string module = dir.directory("src/app");
  CHECK(checkWorkspaceOwner(module, ::geteuid()));
  auto refused = checkWorkspaceOwner(module, ::geteuid() + 1);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == EPERM);
  CHECK(refused.error().path == module);
  CHECK(mentions(refused.error(), "is owned by uid " + std::to_string(::geteuid()) +
                                      ", not by the guard's user (uid " +
                                      std::to_string(::geteuid() + 1) + ")"));
  CHECK(mentions(refused.error(), "go.mod toolchain line and gopls settings"));
  CHECK(mentions(refused.error(), "Add a copy you own instead"));
  CHECK(checkWorkspaceOwner(dir / "gone", ::geteuid()).error().code == ENOENT);
}

TEST_CASE("UTF-8 is checked as Unicode defines it well formed") {
  CHECK(isValidUtf8("plain ascii"));
  CHECK(isValidUtf8("caf\xc3\xa9 \xf0\x9f\x98\x80"));
  CHECK_FALSE(isValidUtf8("caf\xe9"));           // Latin-1
  CHECK_FALSE(isValidUtf8("\xc0\xaf"));          // overlong "/"
  CHECK_FALSE(isValidUtf8("\xed\xa0\x80"));      // an encoded surrogate
  CHECK_FALSE(isValidUtf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  CHECK_FALSE(isValidUtf8("\xf0\x9f\x98"));      // cut off
  CHECK(utf8Lossy("caf\xe9!") == "caf\xef\xbf\xbd!");
}

}  // namespace wslgo
