#include "lib/workspace_socket.h"

#include <catch2/catch.hpp>
#include <string>

namespace wslgo {
namespace {

TEST_CASE("FNV-1a matches its published test vectors", "[workspace_socket]") {
  // From the FNV reference (Fowler, Noll, Vo): the empty string and "a".
  CHECK(fnv1a64Hex("") == "cbf29ce484222325");
  CHECK(fnv1a64Hex("a") == "af63dc4c8601ec8c");
  CHECK(fnv1a64Hex("foobar") == "85944171f73967e8");
}

TEST_CASE("a workspace socket fits sun_path however long the workspace path is",
          "[workspace_socket]") {
  std::string deep = "/home/me";
  while (deep.size() < 4000) deep += "/a-rather-long-directory-name";
  auto path = workspaceSocketPath("/run/user/1000", deep);
  REQUIRE(path.ok());
  CHECK(path->size() < kSunPathMax);
  CHECK(path->rfind("/run/user/1000/wslgo-guard/gopls-", 0) == 0);
  CHECK(path->substr(path->size() - 5) == ".sock");
}

TEST_CASE("a workspace keeps its socket, and two workspaces get two", "[workspace_socket]") {
  auto first = workspaceSocketPath("/run/user/1000/", "/home/me/src/app");
  auto again = workspaceSocketPath("/run/user/1000", "/home/me/src/app");
  auto other = workspaceSocketPath("/run/user/1000", "/home/me/src/app2");
  REQUIRE(first.ok());
  REQUIRE(again.ok());
  REQUIRE(other.ok());
  CHECK(*first == *again);
  CHECK(*first != *other);
}

TEST_CASE("a relative or overlong runtime directory is an error that says what to fix",
          "[workspace_socket]") {
  auto relative = workspaceSocketPath("run/user/1000", "/w");
  REQUIRE_FALSE(relative.ok());
  CHECK_THAT(relative.error().message, Catch::Contains("XDG_RUNTIME_DIR"));
  auto overlong = workspaceSocketPath("/" + std::string(100, 'r'), "/w");
  REQUIRE_FALSE(overlong.ok());
  CHECK_THAT(overlong.error().message, Catch::Contains("at most 107 bytes"));
}

}  // namespace
}  // namespace wslgo
