#include "tests/integration/support/fake_systemd.h"

#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <exception>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <sdbus-c++/Error.h>

extern char** environ;

namespace wslgo::test {
namespace {

constexpr const char* kControlInterface = "org.wslgo.Test.FakeSystemd";
constexpr auto kExitTimeout = std::chrono::seconds(5);

// Reaps `pid` within `timeout`; false if it is still running. Polls waitpid: a child's exit has
// no fd to wait on without pidfd plumbing, and this runs only at teardown.
bool reapWithin(pid_t pid, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    const pid_t got = ::waitpid(pid, &status, WNOHANG);
    if (got == pid || (got < 0 && errno == ECHILD)) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    ::poll(nullptr, 0, 10);
  }
}

template <class Fn>
auto callControl(const char* what, Fn&& fn) -> Result<decltype(fn())> {
  try {
    if constexpr (std::is_void_v<decltype(fn())>) {
      fn();
      return {};
    } else {
      return fn();
    }
  } catch (const std::exception& e) {
    return errnoError(EIO, "wslgo-fake-systemd1", std::string(what) + " failed: " + e.what());
  }
}

}  // namespace

std::string FakeSystemd::binaryPath() {
  return std::string(WSLGO_BINARY_DIR) + "/tests/integration/fake_systemd1/wslgo-fake-systemd1";
}

Result<FakeSystemd> FakeSystemd::start(const PrivateBus& bus, const Options& options) {
  const std::string binary = binaryPath();
  if (::access(binary.c_str(), X_OK) != 0) {
    return errnoError(errno, binary, "the fake systemd is not built (target wslgo-fake-systemd1)");
  }
  // Everything the child needs is built before fork: the test process may have threads.
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string_view entry = *e;
    if (entry.starts_with("WSLGO_FAKE_SYSTEMD_")) continue;
    env.emplace_back(entry);
  }
  env.push_back("WSLGO_FAKE_SYSTEMD_EXEC=" + options.execCommand);
  env.push_back("WSLGO_FAKE_SYSTEMD_ENV_DIR=" + options.envDir);
  env.push_back(std::string("WSLGO_FAKE_SYSTEMD_CGROUP=") + (options.realCgroups ? "1" : "0"));
  std::vector<char*> envp;
  for (auto& entry : env) envp.push_back(entry.data());
  envp.push_back(nullptr);
  std::string addressArg = "--address=" + bus.address();
  char* argv[] = {const_cast<char*>(binary.c_str()), addressArg.data(), nullptr};

  const pid_t pid = ::fork();
  if (pid < 0) return errnoError(errno, binary, "fork failed");
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    ::execve(argv[0], argv, envp.data());
    ::_exit(127);
  }

  if (!bus.waitForName("org.freedesktop.systemd1")) {
    int status = 0;
    const bool exited = ::waitpid(pid, &status, WNOHANG) == pid;
    if (!exited) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
    }
    return errnoError(ETIMEDOUT, binary,
                      exited ? "exited before owning org.freedesktop.systemd1 (stderr above)"
                             : "did not own org.freedesktop.systemd1 in time");
  }
  try {
    return FakeSystemd(pid, bus.connect());
  } catch (const std::exception& e) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    return errnoError(EIO, binary, std::string("connecting to its control object: ") + e.what());
  }
}

FakeSystemd::FakeSystemd(pid_t pid, std::unique_ptr<sdbus::IConnection> connection)
    : pid_(pid),
      connection_(std::move(connection)),
      control_(sdbus::createProxy(*connection_, "org.freedesktop.systemd1", "/org/wslgo/Test")) {
  control_->finishRegistration();
}

FakeSystemd::FakeSystemd(FakeSystemd&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      connection_(std::move(other.connection_)),
      control_(std::move(other.control_)) {}

FakeSystemd& FakeSystemd::operator=(FakeSystemd&& other) noexcept {
  if (this != &other) {
    stop();
    pid_ = std::exchange(other.pid_, -1);
    connection_ = std::move(other.connection_);
    control_ = std::move(other.control_);
  }
  return *this;
}

FakeSystemd::~FakeSystemd() { stop(); }

void FakeSystemd::stop() {
  control_.reset();
  connection_.reset();
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  if (!reapWithin(pid_, kExitTimeout)) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  pid_ = -1;
}

Result<void> FakeSystemd::failNextJob(const std::string& unit) {
  return callControl("FailNextJob", [&] {
    control_->callMethod("FailNextJob").onInterface(kControlInterface).withArguments(unit);
  });
}

Result<void> FakeSystemd::crashUnit(const std::string& unit) {
  return callControl("CrashUnit", [&] {
    control_->callMethod("CrashUnit").onInterface(kControlInterface).withArguments(unit);
  });
}

Result<void> FakeSystemd::setStartDelay(std::chrono::microseconds delay) {
  return callControl("SetStartDelay", [&] {
    control_->callMethod("SetStartDelay")
        .onInterface(kControlInterface)
        .withArguments(static_cast<uint64_t>(delay.count()));
  });
}

Result<void> FakeSystemd::emitReload() {
  return callControl("EmitReload",
                     [&] { control_->callMethod("EmitReload").onInterface(kControlInterface); });
}

Result<uint32_t> FakeSystemd::subscribers() {
  return callControl("Subscribers", [&] {
    uint32_t count = 0;
    control_->callMethod("Subscribers").onInterface(kControlInterface).storeResultsTo(count);
    return count;
  });
}

}  // namespace wslgo::test
