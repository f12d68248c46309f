// `wslgo-guardctl watch` under a pseudo-terminal against the real guard on a private bus: it
// draws, quits on q or SIGTERM within 3 s, and leaves the terminal as it found it
// (docs/guardctl.md#watch).
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <string>

#include "tests/integration/support/guard_scenario.h"

namespace wslgo::test {
namespace {

std::string guardctlBinary() { return std::string(WSLGO_BINARY_DIR) + "/cli/wslgo-guardctl"; }

using Clock = std::chrono::steady_clock;

bool sameAttributes(const termios& a, const termios& b) {
  return a.c_iflag == b.c_iflag && a.c_oflag == b.c_oflag && a.c_cflag == b.c_cflag &&
         a.c_lflag == b.c_lflag && std::memcmp(a.c_cc, b.c_cc, sizeof a.c_cc) == 0;
}

// `wslgo-guardctl watch` with a pseudo-terminal as its controlling terminal and stdio.
class WatchOnPty {
 public:
  explicit WatchOnPty(const std::string& busAddress) {
    winsize size{.ws_row = 40, .ws_col = 100, .ws_xpixel = 0, .ws_ypixel = 0};
    REQUIRE(::openpty(&master_, &slave_, nullptr, nullptr, &size) == 0);
    REQUIRE(::tcgetattr(slave_, &before_) == 0);
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      ::setsid();
      ::ioctl(slave_, TIOCSCTTY, 0);
      ::dup2(slave_, STDIN_FILENO);
      ::dup2(slave_, STDOUT_FILENO);
      ::dup2(slave_, STDERR_FILENO);
      ::close(master_);
      ::setenv("DBUS_SESSION_BUS_ADDRESS", busAddress.c_str(), 1);
      ::setenv("NO_COLOR", "1", 1);
      const std::string binary = guardctlBinary();
      ::execl(binary.c_str(), "wslgo-guardctl", "watch", static_cast<char*>(nullptr));
      ::_exit(127);
    }
  }
  ~WatchOnPty() {
    if (pid_ > 0 && status_ < 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    ::close(master_);
    ::close(slave_);
  }
  WatchOnPty(const WatchOnPty&) = delete;
  WatchOnPty& operator=(const WatchOnPty&) = delete;

  // Reads what it drew until `text` shows or `timeout` passes.
  bool waitForOutput(const std::string& text, std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      drain(100);
      if (output_.find(text) != std::string::npos) return true;
    }
    return false;
  }

  void type(const std::string& keys) {
    REQUIRE(::write(master_, keys.data(), keys.size()) == static_cast<ssize_t>(keys.size()));
  }
  void signal(int number) { ::kill(pid_, number); }

  // Its wait status once it ended within `timeout`, else -1.
  int waitForExit(std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      drain(10);
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        status_ = status;
        drain(0);
        return status;
      }
    }
    return -1;
  }

  bool attributesRestored() const {
    termios after{};
    return ::tcgetattr(slave_, &after) == 0 && sameAttributes(before_, after);
  }
  const std::string& output() const { return output_; }

 private:
  void drain(int waitMs) {
    pollfd ready{.fd = master_, .events = POLLIN, .revents = 0};
    while (::poll(&ready, 1, waitMs) > 0 && (ready.revents & POLLIN) != 0) {
      char buffer[4096];
      const ssize_t got = ::read(master_, buffer, sizeof buffer);
      if (got <= 0) return;
      output_.append(buffer, static_cast<size_t>(got));
      waitMs = 0;
    }
  }

  int master_ = -1;
  int slave_ = -1;
  pid_t pid_ = -1;
  int status_ = -1;
  termios before_{};
  std::string output_;
};

#define WSLGO_REQUIRE_GUARDCTL()                  \
  if (!std::filesystem::exists(guardctlBinary())) \
  FAIL(guardctlBinary() << " is not built: cmake --build BUILD --target wslgo-guardctl")

}  // namespace

TEST_CASE(
    "guardctl watch draws the workspaces' memory, quits on q within 3 s and restores the terminal",
    "[guardctl][watch]") {
  WSLGO_REQUIRE_GUARDCTL();
  WSLGO_START_SCENARIO(s);
  const std::string module = s.home.makeModule("app");
  addWorkspace(s, module);

  WatchOnPty watch(s.bus.address());
  REQUIRE(watch.waitForOutput("peak ", std::chrono::seconds(10)));
  INFO(watch.output());
  CHECK(watch.output().find("\x1b[?1049h") != std::string::npos);
  CHECK(watch.output().find(module) != std::string::npos);
  watch.type("q");
  const int status = watch.waitForExit(std::chrono::seconds(3));
  REQUIRE(status >= 0);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(watch.attributesRestored());
  const std::string& out = watch.output();
  CHECK(out.rfind("\x1b[?1049l") != std::string::npos);
  CHECK(out.rfind("\x1b[?25h") > out.rfind("\x1b[?25l"));
}

TEST_CASE("guardctl watch ended by SIGTERM restores the terminal and dies of the signal",
          "[guardctl][watch]") {
  WSLGO_REQUIRE_GUARDCTL();
  WSLGO_START_SCENARIO(s);

  WatchOnPty watch(s.bus.address());
  REQUIRE(watch.waitForOutput("0 workspaces", std::chrono::seconds(10)));
  watch.signal(SIGTERM);
  const int status = watch.waitForExit(std::chrono::seconds(3));
  INFO(watch.output());
  REQUIRE(status >= 0);
  CHECK(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGTERM);
  CHECK(watch.attributesRestored());
  CHECK(watch.output().rfind("\x1b[?1049l") != std::string::npos);
}

TEST_CASE("guardctl watch outside a terminal refuses with exit 2 and points to status",
          "[guardctl][watch]") {
  WSLGO_REQUIRE_GUARDCTL();
  char dirTemplate[] = "/tmp/wslgo-guardctl-watch-XXXXXX";
  REQUIRE(::mkdtemp(dirTemplate) != nullptr);
  const std::string dir = dirTemplate;
  const std::string command =
      shellQuoted(guardctlBinary()) + " watch </dev/null >" + dir + "/out 2>" + dir + "/err";
  const int status = std::system(command.c_str());
  const std::string err = readFile(dir + "/err");
  std::filesystem::remove_all(dir);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 2);
  CHECK_THAT(err, Catch::StartsWith("wslgo-guardctl: watch needs a terminal") &&
                      Catch::Contains("wslgo-guardctl status"));
}

}  // namespace wslgo::test
