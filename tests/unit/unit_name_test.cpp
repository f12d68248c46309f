#include "lib/unit_name.h"
#include "tests/unit/live.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace wslgo {
namespace {

struct Run {
  int status = -1;  // exit status, -1 when the tool could not be run
  std::string out;  // stdout
};

// Runs systemd-escape with these arguments, no shell in between, and collects its stdout.
Run systemdEscape(const std::vector<std::string>& args) {
  int pipeFds[2];
  REQUIRE(::pipe2(pipeFds, O_CLOEXEC) == 0);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::dup2(pipeFds[1], STDOUT_FILENO);
    // Its warnings ("not an absolute path") are for people; the exit status is what counts.
    int devNull = ::open("/dev/null", O_WRONLY);
    if (devNull >= 0) ::dup2(devNull, STDERR_FILENO);
    std::vector<char*> argv;
    std::string name = "systemd-escape";
    argv.push_back(name.data());
    std::vector<std::string> copies = args;
    for (auto& arg : copies) argv.push_back(arg.data());
    argv.push_back(nullptr);
    ::execvp(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(pipeFds[1]);
  Run run;
  char buffer[4096];
  for (;;) {
    ssize_t got = ::read(pipeFds[0], buffer, sizeof buffer);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    run.out.append(buffer, static_cast<size_t>(got));
  }
  ::close(pipeFds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  run.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (run.status == 127) run.status = -1;
  return run;
}

bool haveSystemdEscape() { return systemdEscape({"--version"}).status == 0; }

// systemd-escape's answer for one argument: the line it printed, or nothing when it refused.
std::optional<std::string> systemdSays(std::vector<std::string> args) {
  Run run = systemdEscape(args);
  if (run.status != 0) return std::nullopt;
  REQUIRE(!run.out.empty());
  REQUIRE(run.out.back() == '\n');
  run.out.pop_back();
  return run.out;
}

const std::vector<std::string> kNastyPaths = {
    "/",
    "//",
    "/home/me/src/app",
    "/home/me/my proj",
    "/a-b/c-d",
    "/-",
    "/--/x-",
    "/.hidden/x",
    "/x/.y",
    "/x/...",
    "/a\\b",
    "/\xc3\xa9t\xc3\xa9/\xc3\xbc",   // "/été/ü"
    "/\xe6\x97\xa5\xe6\x9c\xac/go",  // "/日本/go"
    "/a:b_c.d",
    "/a~b+c=d@e%f,g",
    "/a//b/",
    "/a/./b",
    "/a/b/.",
    "/./a",
    "/.",
    "/tab\there",
    "/new\nline",
    "/\x01\x7f\xff\x80",
    "/mnt/c/Users/Me/go/src/github.com/org/repo",
    "/trailing///",
};

TEST_CASE("escaping nasty workspace paths gives what systemd-escape --path prints") {
  if (!haveSystemdEscape()) WSLGO_SKIP_LIVE_TEST("systemd-escape is not installed");
  for (const auto& path : kNastyPaths) {
    INFO("path: " << path);
    auto expected = systemdSays({"--path", "--", path});
    REQUIRE(expected);
    auto escaped = escapeUnitPath(path);
    REQUIRE(escaped);
    CHECK(*escaped == *expected);
  }
}

TEST_CASE("paths systemd-escape refuses are refused too, with the path in the error") {
  if (!haveSystemdEscape()) WSLGO_SKIP_LIVE_TEST("systemd-escape is not installed");
  const std::vector<std::string> refused = {"/a/../b", "/..", "/x/" + std::string(256, 'c'),
                                            "/" + std::string(4200, 'd') + "/e"};
  for (const auto& path : refused) {
    INFO("path: " << path.substr(0, 40));
    CHECK_FALSE(systemdSays({"--path", "--", path}));
    auto escaped = escapeUnitPath(path);
    REQUIRE_FALSE(escaped);
    CHECK(escaped.error().path == path);
    CHECK_FALSE(escaped.error().message.empty());
  }
  // The longest component systemd still takes.
  std::string longest = "/x/" + std::string(255, 'c');
  REQUIRE(systemdSays({"--path", "--", longest}));
  CHECK(escapeUnitPath(longest).valueOr("") == *systemdSays({"--path", "--", longest}));
}

TEST_CASE("relative and empty paths are errors that ask for an absolute path") {
  for (std::string path : {"", "a/b", "./a", "relative"}) {
    auto escaped = escapeUnitPath(path);
    REQUIRE_FALSE(escaped);
    CHECK(escaped.error().message.find("absolute") != std::string::npos);
  }
  CHECK_FALSE(escapeUnitPath(std::string("/a\0b", 4)));
}

TEST_CASE("random byte paths escape as systemd-escape does and unescape back to themselves") {
  if (!haveSystemdEscape()) WSLGO_SKIP_LIVE_TEST("systemd-escape is not installed");
  std::mt19937 random(20240611);
  std::uniform_int_distribution<int> byte(1, 255);
  std::uniform_int_distribution<int> componentCount(1, 4);
  std::uniform_int_distribution<int> componentLength(1, 12);
  std::vector<std::string> paths;
  while (paths.size() < 300) {
    std::string path;
    int count = componentCount(random);
    for (int i = 0; i < count; ++i) {
      std::string component;
      int length = componentLength(random);
      for (int j = 0; j < length; ++j) {
        // Mostly the characters paths are made of, so '-', '.' and '\' meet plain neighbours.
        int pick = byte(random);
        char c = pick < 128 ? "ab.-\\_:x9 "[pick % 10] : static_cast<char>(pick);
        if (c != '/') component += c;
      }
      if (component == "." || component == "..") component += 'z';
      path += "/" + component;
    }
    paths.push_back(path);
  }
  std::vector<std::string> args = {"--path", "--"};
  args.insert(args.end(), paths.begin(), paths.end());
  Run run = systemdEscape(args);
  REQUIRE(run.status == 0);

  // One line, the escapes separated by spaces: an escape never holds a space or a newline.
  size_t at = 0;
  for (const auto& path : paths) {
    INFO("path: " << path);
    size_t end = run.out.find_first_of(" \n", at);
    REQUIRE(end != std::string::npos);
    std::string expected = run.out.substr(at, end - at);
    at = end + 1;
    auto escaped = escapeUnitPath(path);
    REQUIRE(escaped);
    CHECK(*escaped == expected);
    auto back = unescapeUnitPath(*escaped);
    REQUIRE(back);
    CHECK(*back == path);
  }
}

TEST_CASE("unescaping agrees with systemd-escape --unescape --path, valid or not") {
  if (!haveSystemdEscape()) WSLGO_SKIP_LIVE_TEST("systemd-escape is not installed");
  const std::vector<std::string> escapedNames = {
      "-",      "home-me-src-app", "a\\x2db-c_d", "\\x2ehidden-x", "a\\x2fb", "a\\x41", "a\\X41",
      "a\\xZZ", "a\\x4",           "a\\x",        "a\\",           "a--b",    "-a",     "a-",
      "\\x2e",  "a-.-b",           "a-..-b",      "a\\x2f\\x2fb",  "x-.y",    "x-...",  "a b",
      "",       "\\x2d",           "\\xc3\\xA9",
  };
  for (const auto& name : escapedNames) {
    INFO("escaped: " << name);
    auto expected = systemdSays({"--unescape", "--path", "--", name});
    auto path = unescapeUnitPath(name);
    CHECK(path.ok() == expected.has_value());
    if (path && expected) CHECK(*path == *expected);
    if (!path) CHECK(path.error().path == name);
  }
}

TEST_CASE("an escaped NUL byte is refused instead of cutting the path short") {
  auto path = unescapeUnitPath("a\\x00b");
  REQUIRE_FALSE(path);
  CHECK(path.error().message.find("NUL") != std::string::npos);
}

TEST_CASE("the workspace unit name is the template instance systemd-escape --template builds") {
  if (!haveSystemdEscape()) WSLGO_SKIP_LIVE_TEST("systemd-escape is not installed");
  for (const auto& path : kNastyPaths) {
    INFO("path: " << path);
    auto expected = systemdSays({"--template=wslgo-gopls@.service", "--path", "--", path});
    REQUIRE(expected);
    auto name = workspaceUnitName(path);
    REQUIRE(name);
    CHECK(*name == *expected);
  }
}

TEST_CASE("a workspace whose unit name would pass 255 bytes is refused, naming path and limit") {
  if (!haveSystemdEscape()) WSLGO_SKIP_LIVE_TEST("systemd-escape is not installed");
  // "wslgo-gopls@" + escape + ".service" is 20 bytes around the escape.
  std::string fits = "/" + std::string(235, 'a');
  std::string tooLong = "/" + std::string(236, 'a');
  auto template_ = std::string("--template=wslgo-gopls@.service");
  REQUIRE(systemdSays({template_, "--path", "--", fits}));
  REQUIRE_FALSE(systemdSays({template_, "--path", "--", tooLong}));

  auto name = workspaceUnitName(fits);
  REQUIRE(name);
  CHECK(name->size() == 255);
  auto refused = workspaceUnitName(tooLong);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == ENAMETOOLONG);
  CHECK(refused.error().path == tooLong);
  CHECK(refused.error().message.find("255") != std::string::npos);

  // Escapes count at their escaped size: 60 spaces are 240 bytes of unit name.
  auto spaces = workspaceUnitName("/" + std::string(60, ' '));
  REQUIRE_FALSE(spaces);
  CHECK(spaces.error().code == ENAMETOOLONG);
}

}  // namespace
}  // namespace wslgo
