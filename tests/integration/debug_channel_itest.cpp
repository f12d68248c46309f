// The debug channel against a hostile server on loopback: a squatter on gopls' port, bodies over
// the limit or without end, redirects elsewhere. The server is real (a thread accepting on a
// loopback socket); "gopls" is whichever process the test names as the unit's MainPID.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "daemon/event_loop.h"
#include "daemon/gopls_debug_client.h"
#include "daemon/http_client.h"
#include "tests/integration/support/http_loop.h"
#include "tests/support/sanitizer_build.h"
#include "tests/unit/child_process.h"
#include "tests/unit/temp_dir.h"

namespace wslgo {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

using Loop = test::HttpLoop;

// What the server writes on a connection, after reading the request's head.
using Answer = std::function<void(int fd)>;

bool sendAll(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// A loopback HTTP server on its own thread, one connection at a time. It counts connections
// and bytes sent, and stops when destroyed.
class HostileServer {
 public:
  explicit HostileServer(Answer answer) : answer_(std::move(answer)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    REQUIRE(::listen(fd_, 8) == 0);
    REQUIRE(::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) == 0);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~HostileServer() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }

  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  uint16_t port() const { return port_; }
  int connections() const { return connections_; }
  std::string lastRequest() {
    std::lock_guard<std::mutex> lock(mutex_);
    return lastRequest_;
  }

 private:
  void serve() {
    while (!stop_) {
      pollfd ready{.fd = fd_, .events = POLLIN, .revents = 0};
      if (::poll(&ready, 1, 50) <= 0) continue;
      int client = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (client < 0) continue;
      ++connections_;
      std::string request;
      char buffer[4096];
      while (request.find("\r\n\r\n") == std::string::npos) {
        ssize_t n = ::recv(client, buffer, sizeof buffer, 0);
        if (n <= 0) break;
        request.append(buffer, static_cast<size_t>(n));
      }
      {
        std::lock_guard<std::mutex> lock(mutex_);
        lastRequest_ = request.substr(0, request.find("\r\n"));
      }
      answer_(client);
      ::close(client);
    }
  }

  Answer answer_;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::mutex mutex_;
  std::string lastRequest_;
};

// Writes `head`, then body bytes until the peer goes away or `limit` bytes are out.
Answer endlessBody(std::string head, uint64_t limit = UINT64_MAX) {
  return [head = std::move(head), limit](int fd) {
    if (!sendAll(fd, head)) return;
    const std::string block(64 << 10, 'x');
    for (uint64_t sent = 0; sent < limit; sent += block.size()) {
      if (!sendAll(fd, block)) return;
    }
  };
}

Answer fixed(std::string response) {
  return [response = std::move(response)](int fd) { sendAll(fd, response); };
}

// A process that is not the server: the "gopls" a squatter pretends to be. Made before the
// server, so it does not hold the server's socket.
class OtherProcess {
 public:
  OtherProcess() : pid_(test::sleepingChild()) {}
  ~OtherProcess() { test::killAndReap(pid_); }
  uint32_t pid() const { return static_cast<uint32_t>(pid_); }

 private:
  pid_t pid_;
};

// A client for the server's port whose "gopls" is `mainPid`, checked as the daemon checks.
std::unique_ptr<GoplsDebugClient> clientFor(Loop& loop, const HostileServer& server,
                                            uint32_t mainPid) {
  return std::make_unique<GoplsDebugClient>(*loop.http,
                                            GoplsEndpoints{.socket = "/nonexistent/gopls.sock",
                                                           .debugAddress = server.address(),
                                                           .mainPid = mainPid,
                                                           .noDebugServerWhy = {}},
                                            GoplsLspAsk{}, [](const GoplsEndpoints& endpoints) {
                                              return mainPidHoldsDebugPort(SysRoots{}, endpoints);
                                            });
}

uint32_t self() { return static_cast<uint32_t>(::getpid()); }

uint64_t vmHwmKiB() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoull(line.substr(6));
  }
  FAIL("no VmHWM in /proc/self/status");
  return 0;
}

constexpr const char* kMemStatsTrailer =
    "# runtime.MemStats\n# Alloc = 1\n# TotalAlloc = 1\n# Sys = 123456789\n# HeapAlloc = 1\n"
    "# HeapSys = 2\n# HeapIdle = 0\n# HeapInuse = 123456789\n# NextGC = 4\n# NumGC = 5\n";

TEST_CASE("a squatter on gopls' debug port is never talked to: no figures, GC or profile",
          "[debug_channel]") {
  Loop loop;
  // Forked first: a child forked later would hold the server's socket too.
  OtherProcess gopls;
  HostileServer squatter(fixed(std::string("HTTP/1.1 200 OK\r\nContent-Length: ") +
                               std::to_string(std::strlen(kMemStatsTrailer)) + "\r\n\r\n" +
                               kMemStatsTrailer));
  auto client = clientFor(loop, squatter, gopls.pid());

  std::optional<Result<HeapStats>> heap;
  client->readHeapStats(5s, [&](Result<HeapStats> r) { heap = std::move(r); });
  Result<HeapStats> stats = loop.await(heap);
  REQUIRE_FALSE(stats.ok());
  CHECK(stats.error().code == EPERM);
  const std::string message = stats.error().describe();
  CHECK_THAT(message, Catch::Contains(squatter.address()));
  CHECK_THAT(message, Catch::Contains("PID " + std::to_string(::getpid())));
  CHECK_THAT(message, Catch::Contains("MainPID " + std::to_string(gopls.pid())));

  std::optional<Result<void>> gc;
  client->collectGarbage(5s, [&](Result<void> r) { gc = std::move(r); });
  CHECK(loop.await(gc).error().code == EPERM);

  test::TempDir dir("squat");
  const std::string profile = (dir.path() / "heap.pb.gz").string();
  std::optional<Result<uint64_t>> saved;
  client->saveHeapProfile(profile, 5s, [&](Result<uint64_t> r) { saved = std::move(r); });
  CHECK(loop.await(saved).error().code == EPERM);
  CHECK(std::filesystem::is_empty(dir.path()));

  CHECK(squatter.connections() == 0);

  // The same server is talked to once it is the unit's own process.
  auto owned = clientFor(loop, squatter, self());
  std::optional<Result<HeapStats>> ownHeap;
  owned->readHeapStats(5s, [&](Result<HeapStats> r) { ownHeap = std::move(r); });
  Result<HeapStats> ownStats = loop.await(ownHeap);
  INFO((ownStats.ok() ? std::string() : ownStats.error().describe()));
  REQUIRE(ownStats.ok());
  CHECK(ownStats->heapInuse == 123456789);
  CHECK(squatter.connections() == 1);
}

TEST_CASE("nothing listening on the debug port is refused before connecting", "[debug_channel]") {
  Loop loop;
  std::optional<HostileServer> gone(std::in_place, fixed("HTTP/1.1 200 OK\r\n\r\n"));
  const std::string address = gone->address();
  GoplsEndpoints endpoints{
      .socket = {}, .debugAddress = address, .mainPid = self(), .noDebugServerWhy = {}};
  gone.reset();
  GoplsDebugClient client(*loop.http, endpoints, {}, [](const GoplsEndpoints& e) {
    return mainPidHoldsDebugPort(SysRoots{}, e);
  });
  std::optional<Result<HeapStats>> heap;
  client.readHeapStats(5s, [&](Result<HeapStats> r) { heap = std::move(r); });
  Result<HeapStats> stats = loop.await(heap);
  REQUIRE_FALSE(stats.ok());
  CHECK(stats.error().code == ECONNREFUSED);
  CHECK_THAT(stats.error().describe(), Catch::Contains(address));
}

TEST_CASE("a GC answered with a redirect to another server is done, and the redirect not followed",
          "[debug_channel]") {
  Loop loop;
  HostileServer elsewhere(fixed("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"));
  HostileServer gopls(fixed("HTTP/1.1 303 See Other\r\nLocation: http://" + elsewhere.address() +
                            "/memory\r\nContent-Length: 0\r\n\r\n"));
  auto client = clientFor(loop, gopls, self());
  std::optional<Result<void>> gc;
  client->collectGarbage(5s, [&](Result<void> r) { gc = std::move(r); });
  Result<void> collected = loop.await(gc);
  INFO((collected.ok() ? std::string() : collected.error().describe()));
  CHECK(collected.ok());
  CHECK(gopls.connections() == 1);
  CHECK_THAT(gopls.lastRequest(), Catch::StartsWith("GET /debug/pprof/heap?gc=1 "));
  CHECK(elsewhere.connections() == 0);

  // A redirect anywhere but a GC is an error naming the status, and not followed either.
  std::optional<Result<HeapStats>> heap;
  client->readHeapStats(5s, [&](Result<HeapStats> r) { heap = std::move(r); });
  Result<HeapStats> stats = loop.await(heap);
  REQUIRE_FALSE(stats.ok());
  CHECK(stats.error().code == EPROTO);
  CHECK_THAT(stats.error().describe(), Catch::Contains("303"));
  CHECK(elsewhere.connections() == 0);
}

TEST_CASE("a GC whose answer never ends is done at its status line, the body never read",
          "[debug_channel]") {
  Loop loop;
  HostileServer gopls(
      endlessBody("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n\r\n"));
  auto client = clientFor(loop, gopls, self());
  std::optional<Result<void>> gc;
  const auto started = Clock::now();
  client->collectGarbage(30s, [&](Result<void> r) { gc = std::move(r); });
  Result<void> collected = loop.await(gc);
  INFO((collected.ok() ? std::string() : collected.error().describe()));
  CHECK(collected.ok());
  CHECK(Clock::now() - started < 5s);
}

TEST_CASE("heap figures from an endless body cost a bounded buffer and end at the byte limit",
          "[debug_channel]") {
  Loop loop;
  // 64 MiB of samples and no trailer: what a hostile server sent to take the guard to 500 MB.
  HostileServer gopls(endlessBody("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n"));
  auto client = clientFor(loop, gopls, self());
  const uint64_t before = vmHwmKiB();
  std::optional<Result<HeapStats>> heap;
  client->readHeapStats(60s, [&](Result<HeapStats> r) { heap = std::move(r); });
  Result<HeapStats> stats = loop.await(heap);
  REQUIRE_FALSE(stats.ok());
  CHECK(stats.error().code == EFBIG);
  // The tail kept is 64 KiB; the read buffer another 64 KiB. Allow for the server's thread.
  CHECK(vmHwmKiB() - before < 8 * 1024);
}

TEST_CASE("heap figures at the end of a long page are read from its tail", "[debug_channel]") {
  Loop loop;
  // 10 MiB of heap samples before the trailer, as a large gopls' page has; chunked.
  Answer answer = [](int fd) {
    if (!sendAll(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")) return;
    const std::string samples(1 << 20, '#');
    char size[32];
    std::snprintf(size, sizeof size, "%zx\r\n", samples.size());
    for (int i = 0; i < 10; ++i) {
      if (!sendAll(fd, std::string(size) + samples + "\r\n")) return;
    }
    std::string trailer = std::string("\n") + kMemStatsTrailer;
    std::snprintf(size, sizeof size, "%zx\r\n", trailer.size());
    sendAll(fd, std::string(size) + trailer + "\r\n0\r\n\r\n");
  };
  HostileServer gopls(answer);
  auto client = clientFor(loop, gopls, self());
  const uint64_t before = vmHwmKiB();
  std::optional<Result<HeapStats>> heap;
  client->readHeapStats(30s, [&](Result<HeapStats> r) { heap = std::move(r); });
  Result<HeapStats> stats = loop.await(heap);
  INFO((stats.ok() ? std::string() : stats.error().describe()));
  REQUIRE(stats.ok());
  CHECK(stats->heapInuse == 123456789);
  CHECK(stats->numGC == 5);
  // Under ASan the redzones and quarantine alone exceed this; the bound is for the real build.
  if (!test::kUnderAddressSanitizer) CHECK(vmHwmKiB() - before < 8 * 1024);
}

TEST_CASE("a heap profile over its size limit is refused and leaves no file", "[debug_channel]") {
  Loop loop;
  // A gzip magic, then more than the 256 MiB a profile may have.
  HostileServer gopls(endlessBody("HTTP/1.1 200 OK\r\n\r\n\x1f\x8b"));
  auto client = clientFor(loop, gopls, self());
  test::TempDir dir("profile");
  const std::string profile = (dir.path() / "heap.pb.gz").string();
  const uint64_t before = vmHwmKiB();
  std::optional<Result<uint64_t>> saved;
  client->saveHeapProfile(profile, 60s, [&](Result<uint64_t> r) { saved = std::move(r); });
  Result<uint64_t> result = loop.await(saved, 90s);
  REQUIRE_FALSE(result.ok());
  CHECK(result.error().code == EFBIG);
  CHECK(std::filesystem::is_empty(dir.path()));
  CHECK(vmHwmKiB() - before < 8 * 1024);
}

TEST_CASE("a debug server that trickles its answer is cut off at the deadline", "[debug_channel]") {
  Loop loop;
  Answer trickle = [](int fd) {
    if (!sendAll(fd, "HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n")) return;
    for (int i = 0; i < 100; ++i) {
      if (!sendAll(fd, "x")) return;
      std::this_thread::sleep_for(100ms);
    }
  };
  HostileServer gopls(trickle);
  auto client = clientFor(loop, gopls, self());
  std::optional<Result<HeapStats>> heap;
  const auto started = Clock::now();
  client->readHeapStats(1s, [&](Result<HeapStats> r) { heap = std::move(r); });
  Result<HeapStats> stats = loop.await(heap);
  REQUIRE_FALSE(stats.ok());
  CHECK(stats.error().code == ETIMEDOUT);
  CHECK(Clock::now() - started < 3s);
}

}  // namespace
}  // namespace wslgo
