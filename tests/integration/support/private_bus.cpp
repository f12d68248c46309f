#include "tests/integration/support/private_bus.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <vector>

#include <sdbus-c++/IConnection.h>

namespace wslgo::test {

namespace {

constexpr auto kStartTimeout = std::chrono::seconds(10);

std::string findDbusDaemon() {
  const char* path = std::getenv("PATH");
  std::string_view dirs = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  while (!dirs.empty()) {
    const auto colon = dirs.find(':');
    const std::string_view dir = dirs.substr(0, colon);
    dirs = colon == std::string_view::npos ? std::string_view{} : dirs.substr(colon + 1);
    if (dir.empty()) continue;
    std::string candidate = std::string(dir) + "/dbus-daemon";
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return {};
}

int msLeft(std::chrono::steady_clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  return left.count() > 0 ? static_cast<int>(left.count()) : 0;
}

// Reads until the daemon has printed two lines (address, pid) or the deadline passes.
Result<std::string> readTwoLines(int fd, std::chrono::steady_clock::time_point deadline) {
  std::string text;
  char buffer[512];
  while (std::count(text.begin(), text.end(), '\n') < 2) {
    pollfd pfd{fd, POLLIN, 0};
    const int ready = ::poll(&pfd, 1, msLeft(deadline));
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) return errnoError(errno, "dbus-daemon", "poll on its output pipe failed");
    if (ready == 0) {
      return errnoError(ETIMEDOUT, "dbus-daemon",
                        "printed no address and pid in time; got \"" + text + "\"");
    }
    const ssize_t got = ::read(fd, buffer, sizeof buffer);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return errnoError(errno, "dbus-daemon", "reading its output pipe failed");
    if (got == 0) {
      return errnoError(
          EPIPE, "dbus-daemon",
          "exited before printing its address and pid; got \"" + text + "\" (its stderr is above)");
    }
    text.append(buffer, static_cast<size_t>(got));
  }
  return text;
}

struct OwnerWait {
  std::string_view name;
  bool wantOwner = true;
  bool done = false;
};

int onNameOwnerChanged(sd_bus_message* message, void* userdata, sd_bus_error* /*error*/) {
  auto* wait = static_cast<OwnerWait*>(userdata);
  const char* name = nullptr;
  const char* oldOwner = nullptr;
  const char* newOwner = nullptr;
  if (sd_bus_message_read(message, "sss", &name, &oldOwner, &newOwner) < 0) return 0;
  if (wait->name != name) return 0;
  const bool owned = newOwner != nullptr && *newOwner != '\0';
  if (owned == wait->wantOwner) wait->done = true;
  return 0;
}

}  // namespace

bool PrivateBus::toolFound() { return !findDbusDaemon().empty(); }

Result<PrivateBus> PrivateBus::start() {
  const std::string tool = findDbusDaemon();
  if (tool.empty()) return errnoError(ENOENT, "dbus-daemon", "not found on PATH");

  int pipeFds[2];
  if (::pipe2(pipeFds, O_CLOEXEC) != 0) return errnoError(errno, "pipe2", "for dbus-daemon");

  // Everything the child needs is built before fork: after it, only async-signal-safe calls.
  std::vector<std::string> args = {tool,          "--session",         "--nofork",
                                   "--nopidfile", "--print-address=1", "--print-pid=1"};
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  const pid_t parent = ::getpid();

  const pid_t child = ::fork();
  if (child < 0) {
    const int saved = errno;
    ::close(pipeFds[0]);
    ::close(pipeFds[1]);
    return errnoError(saved, "fork", "for dbus-daemon");
  }
  if (child == 0) {
    // --nofork keeps the daemon our child, and PDEATHSIG ends it with the test process even
    // when the test crashes before the destructor runs.
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(127);
    if (::dup2(pipeFds[1], STDOUT_FILENO) < 0) ::_exit(127);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(pipeFds[1]);

  auto text = readTwoLines(pipeFds[0], std::chrono::steady_clock::now() + kStartTimeout);
  ::close(pipeFds[0]);
  PrivateBus bus("", child);  // from here the destructor kills and reaps the child
  if (!text.ok()) return text.error();

  const auto newline = text->find('\n');
  bus.address_ = text->substr(0, newline);
  const std::string_view pidLine = std::string_view(*text).substr(newline + 1);
  pid_t printed = 0;
  const auto parsed = std::from_chars(pidLine.data(), pidLine.data() + pidLine.size(), printed);
  if (bus.address_.rfind("unix:", 0) != 0 || parsed.ec != std::errc{} || printed != child) {
    return errnoError(
        EPROTO, "dbus-daemon",
        "printed \"" + *text + "\", expected an address and its pid " + std::to_string(child));
  }
  return bus;
}

PrivateBus::PrivateBus(PrivateBus&& other) noexcept
    : address_(std::move(other.address_)), pid_(std::exchange(other.pid_, -1)) {}

PrivateBus& PrivateBus::operator=(PrivateBus&& other) noexcept {
  if (this != &other) {
    PrivateBus old(std::move(*this));
    address_ = std::move(other.address_);
    pid_ = std::exchange(other.pid_, -1);
  }
  return *this;
}

PrivateBus::~PrivateBus() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
}

std::unique_ptr<sdbus::IConnection> PrivateBus::connect() const {
  return sdbus::createSessionBusConnectionWithAddress(address_);
}

void PrivateBus::exportAsSessionBus() const {
  ::setenv("DBUS_SESSION_BUS_ADDRESS", address_.c_str(), 1);
}

bool PrivateBus::waitForName(const std::string& name, std::chrono::milliseconds timeout) const {
  return waitForOwner(name, true, timeout);
}

bool PrivateBus::waitForNameGone(const std::string& name, std::chrono::milliseconds timeout) const {
  return waitForOwner(name, false, timeout);
}

bool PrivateBus::waitForOwner(const std::string& name, bool wantOwner,
                              std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  sd_bus* bus = nullptr;
  if (sd_bus_new(&bus) < 0) return false;
  // sd_bus_flush_close_unref on every path out.
  std::unique_ptr<sd_bus, sd_bus* (*)(sd_bus*)> owner(bus, sd_bus_flush_close_unref);
  if (sd_bus_set_address(bus, address_.c_str()) < 0 || sd_bus_set_bus_client(bus, 1) < 0 ||
      sd_bus_start(bus) < 0) {
    return false;
  }

  OwnerWait wait{name, wantOwner, false};
  // The match is in place (sd_bus_add_match waits for the reply) before NameHasOwner is asked,
  // so an owner change between the two cannot be missed.
  const std::string match =
      "type='signal',sender='org.freedesktop.DBus',interface='org.freedesktop.DBus',"
      "member='NameOwnerChanged',arg0='" +
      name + "'";
  if (sd_bus_add_match(bus, nullptr, match.c_str(), onNameOwnerChanged, &wait) < 0) return false;

  sd_bus_message* reply = nullptr;
  if (sd_bus_call_method(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                         "org.freedesktop.DBus", "NameHasOwner", nullptr, &reply, "s",
                         name.c_str()) < 0) {
    return false;
  }
  int hasOwner = 0;
  const int read = sd_bus_message_read(reply, "b", &hasOwner);
  sd_bus_message_unref(reply);
  if (read < 0) return false;
  if ((hasOwner != 0) == wantOwner) return true;

  while (!wait.done) {
    const int processed = sd_bus_process(bus, nullptr);
    if (processed < 0) return false;
    if (processed > 0) continue;
    const int left = msLeft(deadline);
    if (left == 0) return false;
    if (sd_bus_wait(bus, static_cast<uint64_t>(left) * 1000) < 0) return false;
  }
  return true;
}

}  // namespace wslgo::test
