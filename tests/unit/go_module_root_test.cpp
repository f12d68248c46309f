#include "lib/go_module_root.h"

#include <catch2/catch.hpp>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <string>

#include "tests/unit/temp_dir.h"

namespace wslgo {
namespace {

namespace fs = std::filesystem;

// A temporary tree that stands in for "/": paths in the checks are as findGoModuleRoot sees
// them from inside it.
class Tree : public test::TempDir {
 public:
  Tree() : test::TempDir("go-module-root") {}

  void directory(const std::string& inside) const { fs::create_directories(real(inside)); }
  void file(const std::string& inside, const std::string& text = "module example.com/x\n") const {
    fs::create_directories(fs::path(real(inside)).parent_path());
    std::ofstream(real(inside)) << text;
  }
  std::string real(const std::string& inside) const { return path().string() + inside; }
  std::string root() const { return path().string(); }
};

GoModuleRoot found(const Result<std::optional<GoModuleRoot>>& result) {
  INFO((result ? std::string() : result.error().describe()));
  REQUIRE(result);
  REQUIRE(result->has_value());
  return **result;
}

TEST_CASE("a go.work above a go.mod wins over the nearer go.mod", "[go_module_root]") {
  Tree tree;
  tree.file("/src/work/go.work", "go 1.22\n\nuse ./app\n");
  tree.file("/src/work/app/go.mod");
  tree.directory("/src/work/app/internal/db");

  GoModuleRoot root = found(findGoModuleRoot("/src/work/app/internal/db", tree.root()));
  CHECK(root.dir == "/src/work");
  CHECK(root.file == GoModuleFile::GoWork);
}

TEST_CASE("without a go.work the nearest go.mod is the module root", "[go_module_root]") {
  Tree tree;
  tree.file("/src/mono/go.mod");
  tree.file("/src/mono/tools/go.mod");
  tree.directory("/src/mono/tools/cmd/gen");

  GoModuleRoot root = found(findGoModuleRoot("/src/mono/tools/cmd/gen", tree.root()));
  CHECK(root.dir == "/src/mono/tools");
  CHECK(root.file == GoModuleFile::GoMod);
  // The folder itself counts: a module root opened as it is answers itself.
  CHECK(found(findGoModuleRoot("/src/mono", tree.root())).dir == "/src/mono");
}

TEST_CASE("a folder with no go.mod or go.work above it has no module root", "[go_module_root]") {
  Tree tree;
  tree.directory("/home/me/notes/2024");
  tree.file("/home/me/notes/2024/go.sum", "");

  auto result = findGoModuleRoot("/home/me/notes/2024", tree.root());
  REQUIRE(result);
  CHECK_FALSE(result->has_value());
}

TEST_CASE("a directory named go.mod or go.work marks nothing; the walk goes on above it",
          "[go_module_root]") {
  Tree tree;
  tree.file("/src/app/go.mod");
  tree.directory("/src/app/testdata/go.mod");
  tree.directory("/src/app/testdata/go.work");

  GoModuleRoot root = found(findGoModuleRoot("/src/app/testdata", tree.root()));
  CHECK(root.dir == "/src/app");
  CHECK(root.file == GoModuleFile::GoMod);

  tree.directory("/other/go.mod");
  auto none = findGoModuleRoot("/other", tree.root());
  REQUIRE(none);
  CHECK_FALSE(none->has_value());
}

TEST_CASE("a symlinked folder finds the module its target is in, by the target's real path",
          "[go_module_root]") {
  Tree tree;
  tree.file("/src/app/go.mod");
  tree.directory("/src/app/pkg/api");
  tree.directory("/home/me");
  // A relative link, so it resolves inside the tree.
  fs::create_directory_symlink("../../src/app/pkg/api", tree.real("/home/me/api"));

  GoModuleRoot root = found(findGoModuleRoot("/home/me/api", tree.root()));
  CHECK(root.dir == "/src/app");
}

TEST_CASE("a symlink that leads out of the filesystem root is refused", "[go_module_root]") {
  Tree tree;
  tree.directory("/home");
  fs::create_directory_symlink("/", tree.real("/home/escape"));

  auto result = findGoModuleRoot("/home/escape", tree.root());
  REQUIRE_FALSE(result);
  CHECK(result.error().code == EXDEV);
  CHECK_THAT(result.error().describe(), Catch::Contains("leads out of " + tree.root()));
}

TEST_CASE("a relative, missing or file folder is an error naming it", "[go_module_root]") {
  Tree tree;
  tree.file("/src/app/go.mod");

  auto relative = findGoModuleRoot("src/app", tree.root());
  REQUIRE_FALSE(relative);
  CHECK(relative.error().code == EINVAL);
  CHECK(relative.error().path == "src/app");

  auto missing = findGoModuleRoot("/src/gone", tree.root());
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code == ENOENT);
  CHECK_THAT(missing.error().describe(), Catch::Contains("/src/gone") && Catch::Contains("exist"));

  auto file = findGoModuleRoot("/src/app/go.mod", tree.root());
  REQUIRE_FALSE(file);
  CHECK(file.error().code == ENOTDIR);
}

TEST_CASE("without a filesystem root the real one is walked", "[go_module_root]") {
  Tree tree;
  tree.file("/src/app/go.mod");
  tree.directory("/src/app/pkg");

  GoModuleRoot root = found(findGoModuleRoot(tree.real("/src/app/pkg")));
  CHECK(root.dir == tree.real("/src/app"));
}

}  // namespace
}  // namespace wslgo
