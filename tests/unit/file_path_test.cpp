#include "lib/file_path.h"

#include <catch2/catch.hpp>

namespace wslgo {
namespace {

TEST_CASE("joinPath puts exactly one slash between base and relative", "[file_path]") {
  CHECK(joinPath("/home/me", ".cache/gopls") == "/home/me/.cache/gopls");
  CHECK(joinPath("/home/me/", ".cache/gopls") == "/home/me/.cache/gopls");
  CHECK(joinPath("/home/me//", "/go/pkg/mod") == "/home/me/go/pkg/mod");
  CHECK(joinPath("/fx/proc", "/self/mountinfo") == "/fx/proc/self/mountinfo");
}

TEST_CASE("joinPath onto the root or an empty base gives an absolute path", "[file_path]") {
  CHECK(joinPath("/", "x") == "/x");
  CHECK(joinPath("//", "x") == "/x");
  CHECK(joinPath("", "x") == "/x");
}

TEST_CASE("joinPath with an empty relative path gives the base without trailing slashes",
          "[file_path]") {
  CHECK(joinPath("/fx/sys/", "") == "/fx/sys");
  CHECK(joinPath("/fx/sys", "/") == "/fx/sys");
  CHECK(joinPath("/", "") == "/");
}

TEST_CASE("isAbsolutePath accepts only paths that start at the root", "[file_path]") {
  CHECK(isAbsolutePath("/"));
  CHECK(isAbsolutePath("/home/me"));
  CHECK_FALSE(isAbsolutePath(""));
  CHECK_FALSE(isAbsolutePath("home/me"));
  CHECK_FALSE(isAbsolutePath("./x"));
  CHECK_FALSE(isAbsolutePath("~/x"));
}

}  // namespace
}  // namespace wslgo
