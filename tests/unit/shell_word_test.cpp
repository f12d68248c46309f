#include <catch2/catch.hpp>

#include "lib/shell_word.h"

namespace wslgo {

TEST_CASE("a plain path is its own shell word", "[ctl]") {
  CHECK(shellWord("/home/me/.local/state/wslgo-guard/profiles/x.pb.gz") ==
        "/home/me/.local/state/wslgo-guard/profiles/x.pb.gz");
  CHECK(shellWord("-http=:") == "-http=:");
}

TEST_CASE("a path with systemd's escapes, spaces or quotes is single-quoted", "[ctl]") {
  // The profile directory is the unit's instance name: `-` in the workspace path is `\x2d`.
  CHECK(shellWord(R"(/p/home-src-my\x2dapp/1.pb.gz)") == R"('/p/home-src-my\x2dapp/1.pb.gz')");
  CHECK(shellWord("/a b/$HOME/`x`") == "'/a b/$HOME/`x`'");
  CHECK(shellWord("it's") == R"('it'\''s')");
  CHECK(shellWord("") == "''");
}

}  // namespace wslgo
