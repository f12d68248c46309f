// wslgo-fake-systemd1 --address=BUS: owns org.freedesktop.systemd1 on a private bus for tests.
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <sdbus-c++/IConnection.h>

#include "tests/integration/fake_systemd1/fake_manager.h"

namespace {

constexpr std::string_view kAddressFlag = "--address=";

std::string envOr(const char* name, const char* fallback) {
  const char* value = std::getenv(name);
  return value != nullptr ? value : fallback;
}

int runLoop(sdbus::IConnection& connection, wslgo::fake::FakeManager& manager, int signalFd) {
  using wslgo::fake::Clock;
  for (;;) {
    // A request handled after the timers ran may have added a timer that is due now, so alternate
    // until a drain finds nothing: only then is nextTimer the true next deadline.
    std::optional<Clock::time_point> nextTimer;
    for (bool processed = true; processed;) {
      processed = false;
      while (connection.processPendingRequest()) processed = true;
      nextTimer = manager.runDueTimers(Clock::now());
    }
    const auto pollData = connection.getEventLoopPollData();
    int timeoutMs = pollData.getPollTimeout();
    if (nextTimer) {
      const auto untilTimer =
          std::chrono::ceil<std::chrono::milliseconds>(*nextTimer - Clock::now());
      const int timerMs = static_cast<int>(std::max<int64_t>(0, untilTimer.count()));
      timeoutMs = timeoutMs < 0 ? timerMs : std::min(timeoutMs, timerMs);
    }
    pollfd fds[2] = {{pollData.fd, pollData.events, 0}, {signalFd, POLLIN, 0}};
    if (::poll(fds, 2, timeoutMs) < 0 && errno != EINTR) {
      std::perror("wslgo-fake-systemd1: poll");
      return 1;
    }
    if ((fds[1].revents & POLLIN) != 0) {
      signalfd_siginfo info{};
      while (::read(signalFd, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
        if (info.ssi_signo == SIGTERM || info.ssi_signo == SIGINT) return 0;
      }
      int status = 0;
      pid_t pid = 0;
      while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) manager.childExited(pid, status);
    }
    if ((fds[0].revents & (POLLHUP | POLLERR)) != 0) {
      std::fprintf(stderr, "wslgo-fake-systemd1: the bus went away\n");
      return 1;
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string address;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg.substr(0, kAddressFlag.size()) == kAddressFlag) {
      address = std::string(arg.substr(kAddressFlag.size()));
    } else {
      std::fprintf(stderr, "usage: wslgo-fake-systemd1 --address=BUS_ADDRESS\n");
      return 2;
    }
  }
  if (address.empty()) {
    std::fprintf(stderr, "wslgo-fake-systemd1: --address=BUS_ADDRESS is required\n");
    return 2;
  }

  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGCHLD);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  ::sigprocmask(SIG_BLOCK, &mask, nullptr);
  const int signalFd = ::signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
  if (signalFd < 0) {
    std::perror("wslgo-fake-systemd1: signalfd");
    return 1;
  }

  try {
    // WSLGO_FAKE_SYSTEMD_CGROUP=1: units in real cgroups under /wslgo-fake-<our pid>.
    std::optional<wslgo::fake::FakeCgroups> cgroups;
    if (envOr("WSLGO_FAKE_SYSTEMD_CGROUP", "") == "1") {
      auto made = wslgo::fake::FakeCgroups::create(wslgo::SysRoots{},
                                                   "wslgo-fake-" + std::to_string(::getpid()));
      if (!made) {
        std::fprintf(stderr, "wslgo-fake-systemd1: %s\n", made.error().describe().c_str());
        return 1;
      }
      cgroups = std::move(*made);
    }
    auto connection = sdbus::createSessionBusConnectionWithAddress(address);
    wslgo::fake::FakeManager manager(
        *connection,
        {envOr("WSLGO_FAKE_SYSTEMD_EXEC", ""), envOr("WSLGO_FAKE_SYSTEMD_ENV_DIR", "")},
        std::move(cgroups));
    // The name last: whoever waits for it finds every object in place.
    connection->requestName("org.freedesktop.systemd1");
    const int rc = runLoop(*connection, manager, signalFd);
    manager.killAll();
    return rc;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "wslgo-fake-systemd1: %s\n", e.what());
    return 1;
  }
}
