#include "daemon/event_loop.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <time.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <future>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <sdbus-c++/sdbus-c++.h>
#include <spdlog/sinks/ostream_sink.h>
#include <catch2/catch.hpp>

#include "daemon/bus_attachment.h"
#include "daemon/logging.h"
#include "daemon/notify.h"
#include "tests/integration/support/private_bus.h"

namespace wslgo {
namespace {

using namespace std::chrono_literals;

constexpr const char* kName = "org.wslgo.Test";
constexpr const char* kPath = "/org/wslgo/Test";
constexpr const char* kInterface = "org.wslgo.Test";

// A pipe from a client thread to the loop: the loop must not be touched from another thread,
// so the thread writes a byte and an I/O watch on the loop reads it.
struct Pipe {
  int read = -1;
  int write = -1;
  Pipe() {
    int fds[2];
    REQUIRE(::pipe2(fds, O_CLOEXEC | O_NONBLOCK) == 0);
    read = fds[0];
    write = fds[1];
  }
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;
  ~Pipe() {
    ::close(read);
    ::close(write);
  }
  void send(char c) const { (void)!::write(write, &c, 1); }
};

std::unique_ptr<EventLoop> makeLoop() {
  auto loop = EventLoop::create();
  REQUIRE(loop.ok());
  return std::move(loop).value();
}

// A deadline, so a broken loop fails the test instead of hanging it.
Timer failAfter(EventLoop& loop, Usec deadline, int code = 99) {
  auto timer = loop.addOneShotTimer(deadline, [&loop, code](Usec) { loop.exit(code); });
  REQUIRE(timer.ok());
  return std::move(timer).value();
}

uint64_t monotonicUsec() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000u + static_cast<uint64_t>(ts.tv_nsec) / 1000u;
}

TEST_CASE("a method exported on a loop-driven connection answers a client on another connection",
          "[event_loop][bus]") {
  WSLGO_START_PRIVATE_BUS(bus);
  auto loop = makeLoop();
  auto server = bus.connect();
  server->requestName(kName);
  auto object = sdbus::createObject(*server, kPath);
  int calls = 0;
  object->registerMethod("Double").onInterface(kInterface).implementedAs([&](int32_t x) {
    ++calls;
    return x * 2;
  });
  object->finishRegistration();
  auto attached = BusAttachment::attach(*loop, *server);
  REQUIRE(attached.ok());

  Pipe done;
  auto watch = loop->addIo(done.read, EPOLLIN, [&](uint32_t) { loop->exit(0); });
  REQUIRE(watch.ok());
  auto deadline = failAfter(*loop, 10s);

  std::atomic<bool> sawName{false};
  int32_t answer = 0;
  std::string clientError;
  std::thread client([&] {
    sawName = bus.waitForName(kName, 5s);
    try {
      auto connection = bus.connect();
      auto proxy = sdbus::createProxy(*connection, kName, kPath);
      proxy->callMethod("Double").onInterface(kInterface).withArguments(21).storeResultsTo(answer);
    } catch (const sdbus::Error& e) {
      clientError = e.getMessage();
    }
    done.send('d');
  });
  const int code = loop->run();
  client.join();

  CHECK(sawName);
  CHECK(clientError.empty());
  CHECK(code == 0);
  CHECK(answer == 42);
  CHECK(calls == 1);
}

TEST_CASE(
    "signals emitted from a timer callback reach the client even when they overflow the socket",
    "[event_loop][bus]") {
  // 1 MiB of signals to a stopped bus through a 64 KiB socket buffer cannot leave at once: most
  // wait in sd-bus' write queue and go out only if the loop re-arms the bus fd for POLLOUT after
  // the timer callback, with no kick() and nothing arriving on the bus to wake the server.
  constexpr int kSignals = 64;
  constexpr size_t kPayload = 16 * 1024;

  WSLGO_START_PRIVATE_BUS(bus);
  auto loop = makeLoop();
  auto server = bus.connect();
  server->requestName(kName);
  auto object = sdbus::createObject(*server, kPath);
  object->registerSignal("Chunk").onInterface(kInterface).withParameters<std::vector<uint8_t>>();
  object->finishRegistration();
  // sd-bus raised the buffer to 8 MiB; a small one makes the overflow certain and cheap.
  const int bufferSize = 64 * 1024;
  REQUIRE(::setsockopt(server->getEventLoopPollData().fd, SOL_SOCKET, SO_SNDBUF, &bufferSize,
                       sizeof bufferSize) == 0);
  auto attached = BusAttachment::attach(*loop, *server);
  REQUIRE(attached.ok());

  Pipe fromClient;
  Timer emit;
  uint64_t emittedAt = 0;
  uint64_t arrivedAt = 0;
  auto watch = loop->addIo(fromClient.read, EPOLLIN, [&](uint32_t) {
    char c = 0;
    while (::read(fromClient.read, &c, 1) == 1) {
      if (c == 'r') {
        auto timer = loop->addOneShotTimer(1ms, [&](Usec) {
          // A stopped bus reads nothing, so the socket fills for certain and the rest queues.
          ::kill(bus.pid(), SIGSTOP);
          const std::vector<uint8_t> chunk(kPayload, 0x5a);
          for (int i = 0; i < kSignals; ++i) {
            object->emitSignal("Chunk").onInterface(kInterface).withArguments(chunk);
          }
          ::kill(bus.pid(), SIGCONT);
          emittedAt = monotonicUsec();
        });
        CHECK(timer.ok());
        if (timer.ok()) emit = std::move(timer).value();
      } else if (c == 'd') {
        arrivedAt = monotonicUsec();
        loop->exit(0);
      }
    }
  });
  REQUIRE(watch.ok());
  auto deadline = failAfter(*loop, 10s);

  std::atomic<int> received{0};
  std::atomic<bool> intact{true};
  std::promise<void> finished;
  std::shared_future<void> loopDone = finished.get_future().share();
  std::thread client([&] {
    if (!bus.waitForName(kName, 5s)) return;
    auto connection = bus.connect();
    auto proxy = sdbus::createProxy(*connection, kName, kPath);
    proxy->uponSignal("Chunk").onInterface(kInterface).call([&](const std::vector<uint8_t>& c) {
      if (c.size() != kPayload) intact = false;
      if (++received == kSignals) fromClient.send('d');
    });
    proxy->finishRegistration();  // the match is on the bus once this returns
    connection->enterEventLoopAsync();
    fromClient.send('r');
    loopDone.wait();
    connection->leaveEventLoop();
  });
  const int code = loop->run();
  finished.set_value();
  client.join();

  CHECK(code == 0);
  CHECK(received == kSignals);
  CHECK(intact);
  REQUIRE(emittedAt != 0);
  REQUIRE(arrivedAt != 0);
  CHECK(arrivedAt - emittedAt < 5'000'000);
}

TEST_CASE("a repeating timer fires at its interval and a new interval takes effect at once",
          "[event_loop][timer]") {
  auto loop = makeLoop();
  const uint64_t started = static_cast<uint64_t>(loop->now().count());
  std::vector<uint64_t> times;
  Timer timer;
  auto made = loop->addRepeatingTimer(40ms, [&](Usec now) {
    times.push_back(static_cast<uint64_t>(now.count()));
    if (times.size() == 4) timer.setInterval(5ms);
    if (times.size() == 10) loop->exit(0);
  });
  REQUIRE(made.ok());
  timer = std::move(made).value();
  auto deadline = failAfter(*loop, 10s);

  REQUIRE(loop->run() == 0);
  REQUIRE(times.size() == 10);
  CHECK(timer.interval() == 5ms);
  // Firings are due at fixed steps from the start (a late wake-up does not push the rest back)
  // and never come early; the fourth firing switched the step to 5 ms.
  for (uint64_t i = 0; i < 4; ++i) CHECK(times[i] >= started + (i + 1) * 40'000);
  for (uint64_t i = 4; i < 10; ++i) CHECK(times[i] >= started + 160'000 + (i - 3) * 5'000);
  // Six firings at the new interval take far less than six at the old.
  CHECK(times[9] - times[3] < 6 * 40'000);
}

TEST_CASE("a one-shot timer fires once and may drop its own handle in its callback",
          "[event_loop][timer]") {
  auto loop = makeLoop();
  int fired = 0;
  Timer once;
  auto made = loop->addOneShotTimer(5ms, [&](Usec) {
    ++fired;
    once.reset();
  });
  REQUIRE(made.ok());
  once = std::move(made).value();
  CHECK(once.pending());
  auto end = loop->addOneShotTimer(100ms, [&](Usec) { loop->exit(0); });
  REQUIRE(end.ok());

  REQUIRE(loop->run() == 0);
  CHECK(fired == 1);
  CHECK_FALSE(once);
}

TEST_CASE("a loop that goes away frees what only its pending callbacks kept alive",
          "[event_loop][timer]") {
  // An exchange that owns itself through its own sources until it finishes, as the LSP probes
  // do: at shutdown it has not finished, and only the loop can end the cycle.
  struct SelfOwned {
    Timer deadline;
    IoWatch watch;
  };
  int pipeFds[2];
  REQUIRE(::pipe2(pipeFds, O_CLOEXEC) == 0);
  std::weak_ptr<SelfOwned> gone;
  bool fired = false;
  {
    auto loop = makeLoop();
    auto exchange = std::make_shared<SelfOwned>();
    gone = exchange;
    auto deadline = loop->addOneShotTimer(1h, [exchange, &fired](Usec) { fired = true; });
    REQUIRE(deadline.ok());
    exchange->deadline = std::move(deadline).value();
    auto watch = loop->addIo(pipeFds[0], EPOLLIN, [exchange, &fired](uint32_t) { fired = true; });
    REQUIRE(watch.ok());
    exchange->watch = std::move(watch).value();
    exchange.reset();
    CHECK_FALSE(gone.expired());  // the sources' callbacks hold it
  }
  CHECK(gone.expired());
  CHECK_FALSE(fired);
  ::close(pipeFds[0]);
  ::close(pipeFds[1]);
}

TEST_CASE("a signal raised to ourselves makes run() return the exit code its handler gives",
          "[event_loop][signal]") {
  const int signo = GENERATE(SIGTERM, SIGINT, SIGHUP);
  auto loop = makeLoop();
  int seen = 0;
  auto watch = loop->onSignal(signo, [&](int s) {
    seen = s;
    loop->exit(40 + s);
  });
  REQUIRE(watch.ok());
  auto raiser = loop->addOneShotTimer(5ms, [signo](Usec) { ::raise(signo); });
  REQUIRE(raiser.ok());
  auto deadline = failAfter(*loop, 10s);

  CHECK(loop->run() == 40 + signo);
  CHECK(seen == signo);
}

TEST_CASE("a callback that throws is reported and does not end the loop", "[event_loop]") {
  auto loop = makeLoop();
  std::vector<std::string> reported;
  loop->setErrorHook([&](std::string_view what) { reported.emplace_back(what); });
  int calls = 0;
  auto timer = loop->addRepeatingTimer(2ms, [&](Usec) {
    if (++calls == 1) throw std::runtime_error("sample failed");
    if (calls == 3) loop->exit(7);
  });
  REQUIRE(timer.ok());
  auto deadline = failAfter(*loop, 10s);

  CHECK(loop->run() == 7);
  CHECK(calls == 3);
  REQUIRE(reported.size() == 1);
  CHECK(reported[0].find("sample failed") != std::string::npos);
}

TEST_CASE("an I/O watch reports readiness and can be switched off", "[event_loop][io]") {
  auto loop = makeLoop();
  Pipe pipe;
  int wakeups = 0;
  IoWatch watch;
  auto made = loop->addIo(pipe.read, EPOLLIN, [&](uint32_t revents) {
    ++wakeups;
    CHECK((revents & EPOLLIN) != 0);
    // Level-triggered: the byte stays unread, so only switching the watch off stops it.
    CHECK(watch.setEvents(0).ok());
  });
  REQUIRE(made.ok());
  watch = std::move(made).value();
  pipe.send('x');
  auto end = loop->addOneShotTimer(50ms, [&](Usec) { loop->exit(0); });
  REQUIRE(end.ok());

  REQUIRE(loop->run() == 0);
  CHECK(wakeups == 1);
}

TEST_CASE("losing the bus connection calls the lost hook instead of spinning",
          "[event_loop][bus]") {
  WSLGO_START_PRIVATE_BUS(bus);
  auto loop = makeLoop();
  auto server = bus.connect();
  std::string why;
  int lost = 0;
  auto attached = BusAttachment::attach(*loop, *server, [&](const std::string& w) {
    ++lost;
    why = w;
    loop->exit(3);
  });
  REQUIRE(attached.ok());
  auto killer = loop->addOneShotTimer(5ms, [&](Usec) { ::kill(bus.pid(), SIGKILL); });
  REQUIRE(killer.ok());
  auto deadline = failAfter(*loop, 10s);

  CHECK(loop->run() == 3);
  CHECK(lost == 1);
  CHECK(why.find("D-Bus connection failed") != std::string::npos);
}

// A datagram socket standing in for systemd's notify socket.
struct NotifySocket {
  int fd = -1;
  std::string path;
  NotifySocket() {
    path = "/tmp/wslgo-notify-" + std::to_string(::getpid());
    ::unlink(path.c_str());
    fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    REQUIRE(fd >= 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    path.copy(addr.sun_path, sizeof addr.sun_path - 1);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    ::setenv("NOTIFY_SOCKET", path.c_str(), 1);
  }
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;
  ~NotifySocket() {
    ::unsetenv("NOTIFY_SOCKET");
    ::close(fd);
    ::unlink(path.c_str());
  }
  std::vector<std::string> drain() const {
    std::vector<std::string> got;
    char buffer[4096];
    ssize_t n = 0;
    while ((n = ::recv(fd, buffer, sizeof buffer, 0)) > 0) got.emplace_back(buffer, n);
    return got;
  }
};

TEST_CASE("notifyStatus sends a status only when the text changed", "[notify]") {
  NotifySocket socket;
  notifyStatus("watching 1 workspace");
  notifyStatus("watching 1 workspace");
  notifyStatus("watching 2 workspaces");
  notifyReady();
  notifyStopping();

  CHECK(socket.drain() == std::vector<std::string>{"STATUS=watching 1 workspace",
                                                   "STATUS=watching 2 workspaces", "READY=1",
                                                   "STOPPING=1"});
}

TEST_CASE("notifyReloading sends the monotonic time Type=notify-reload asks for", "[notify]") {
  NotifySocket socket;
  const uint64_t before = monotonicUsec();
  notifyReloading();
  const uint64_t after = monotonicUsec();

  const auto got = socket.drain();
  REQUIRE(got.size() == 1);
  const std::string prefix = "RELOADING=1\nMONOTONIC_USEC=";
  REQUIRE(got[0].rfind(prefix, 0) == 0);
  const uint64_t sent = std::stoull(got[0].substr(prefix.size()));
  CHECK(sent >= before);
  CHECK(sent <= after);
}

TEST_CASE("the watchdog pings the notify socket while the loop turns", "[notify][event_loop]") {
  NotifySocket socket;
  auto loop = makeLoop();
  SECTION("not asked for, it stays off") {
    ::unsetenv("WATCHDOG_USEC");
    auto enabled = loop->enableWatchdog();
    REQUIRE(enabled.ok());
    CHECK_FALSE(*enabled);
  }
  SECTION("asked for, WATCHDOG=1 arrives within the period") {
    ::setenv("WATCHDOG_USEC", "100000", 1);
    ::setenv("WATCHDOG_PID", std::to_string(::getpid()).c_str(), 1);
    auto enabled = loop->enableWatchdog();
    ::unsetenv("WATCHDOG_USEC");
    ::unsetenv("WATCHDOG_PID");
    REQUIRE(enabled.ok());
    CHECK(*enabled);
    auto end = loop->addOneShotTimer(300ms, [&](Usec) { loop->exit(0); });
    REQUIRE(end.ok());
    REQUIRE(loop->run() == 0);
    const auto got = socket.drain();
    CHECK(std::count(got.begin(), got.end(), "WATCHDOG=1") >= 2);
  }
}

TEST_CASE("log levels parse by name and an unknown one lists the valid names", "[logging]") {
  CHECK(*parseLogLevel("warning") == spdlog::level::warn);
  CHECK(*parseLogLevel("off") == spdlog::level::off);
  const auto bad = parseLogLevel("verbose");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message.find("verbose") != std::string::npos);
  CHECK(bad.error().message.find("trace, debug, info, warning, error, critical, off") !=
        std::string::npos);
}

TEST_CASE("the journal is chosen only when JOURNAL_STREAM names our stderr", "[logging]") {
  struct stat st {};
  REQUIRE(::fstat(STDERR_FILENO, &st) == 0);
  const std::string ours = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
  ::setenv("JOURNAL_STREAM", ours.c_str(), 1);
  CHECK(detectLogTarget() == LogTarget::Journal);
  const std::string other = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino + 1);
  ::setenv("JOURNAL_STREAM", other.c_str(), 1);
  CHECK(detectLogTarget() == LogTarget::Stderr);
  ::setenv("JOURNAL_STREAM", "garbage", 1);
  CHECK(detectLogTarget() == LogTarget::Stderr);
  ::unsetenv("JOURNAL_STREAM");
  CHECK(detectLogTarget() == LogTarget::Stderr);
}

TEST_CASE("on stderr an event's fields follow its message", "[logging]") {
  std::ostringstream out;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_st>(out);
  sink->set_pattern("%l %n: %v");
  spdlog::logger logger("actions", sink);
  logger.set_level(spdlog::level::info);

  logEvent(
      logger, spdlog::level::warn, "restarted gopls",
      {{"WORKSPACE", "/src/my app"}, {"UNIT", "wslgo-gopls@1.service"}, {"ACTION", "restart"}});
  logEvent(logger, spdlog::level::debug, "below the level", {{"UNIT", "x"}});

  CHECK(out.str() ==
        "warning actions: restarted gopls WORKSPACE=\"/src/my app\" UNIT=wslgo-gopls@1.service "
        "ACTION=restart\n");
}

TEST_CASE("component loggers share the level setupLogging gave", "[logging]") {
  setupLogging(LogTarget::Stderr, spdlog::level::warn);
  auto manager = componentLogger("manager");
  CHECK(manager->name() == "manager");
  CHECK(manager->level() == spdlog::level::warn);
  CHECK(componentLogger("manager") == manager);
  setupLogging(LogTarget::Stderr, spdlog::level::debug);
  CHECK(manager->level() == spdlog::level::debug);
  CHECK(componentLogger("gopls")->level() == spdlog::level::debug);
}

}  // namespace
}  // namespace wslgo
