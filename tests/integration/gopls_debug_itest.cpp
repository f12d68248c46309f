#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <systemd/sd-event.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include "daemon/event_loop.h"
#include "daemon/gopls_debug_client.h"
#include "daemon/http_client.h"
#include "tests/integration/support/http_loop.h"
#include "daemon/lsp_probe.h"
#include "tests/integration/support/gopls_daemon.h"
#include "tests/unit/live.h"

namespace wslgo {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

using Loop = test::HttpLoop;

HttpRequestOptions within(Usec timeout, size_t maxBodyBytes = HttpRequestOptions().maxBodyBytes) {
  HttpRequestOptions options;
  options.timeout = timeout;
  options.maxBodyBytes = maxBodyBytes;
  return options;
}

// A loopback TCP port that completes connections (the kernel's backlog does) and never
// answers: a hung debug server.
class SilentListener {
 public:
  SilentListener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0);
    REQUIRE(::listen(fd_, 8) == 0);
    REQUIRE(::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) == 0);
    port_ = ntohs(address.sin_port);
  }
  ~SilentListener() { ::close(fd_); }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

// A loopback port nothing listens on: bound, then closed.
std::string closedAddress() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0);
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0);
  ::close(fd);
  return "127.0.0.1:" + std::to_string(ntohs(address.sin_port));
}

// A client of the debug server at `address` alone (no socket, no listener check).
GoplsEndpoints at(const std::string& address) {
  return GoplsEndpoints{
      .socket = {}, .debugAddress = address, .mainPid = 0, .noDebugServerWhy = {}};
}

// A client of a live gopls as the daemon makes it: its socket for LSP, and the check that the
// debug port is held by gopls' own process before every request.
std::unique_ptr<GoplsDebugClient> daemonClientOf(Loop& loop, const test::GoplsDaemon& gopls) {
  return std::make_unique<GoplsDebugClient>(
      *loop.http,
      GoplsEndpoints{.socket = gopls.socketPath(),
                     .debugAddress = gopls.debugAddress(),
                     .mainPid = static_cast<uint32_t>(gopls.pid()),
                     .noDebugServerWhy = {}},
      lspAskOn(*loop.eventLoop, gopls.socketPath()),
      [](const GoplsEndpoints& endpoints) { return mainPidHoldsDebugPort(SysRoots{}, endpoints); });
}

#define WSLGO_START_GOPLS(name)                                                      \
  if (!test::GoplsDaemon::toolFound()) WSLGO_SKIP_LIVE_TEST("gopls is not on PATH"); \
  auto name##Started = test::GoplsDaemon::start();                                   \
  INFO((name##Started.ok() ? std::string() : name##Started.error().describe()));     \
  REQUIRE(name##Started.ok());                                                       \
  test::GoplsDaemon& name = **name##Started

// What the gopls under test says of itself on its command line ("v0.23.0", "master"): a source
// independent of the debug server detect() reads.
std::string versionOfGoplsUnderTest() {
  const char* chosen = std::getenv("WSLGO_TEST_GOPLS");
  const std::string command =
      std::string(chosen != nullptr && *chosen ? chosen : "gopls") + " version 2>/dev/null";
  FILE* out = ::popen(command.c_str(), "r");
  REQUIRE(out != nullptr);
  char line[512] = {};
  const bool read = std::fgets(line, sizeof line, out) != nullptr;
  ::pclose(out);
  REQUIRE(read);
  std::string text(line);
  const std::string prefix = "golang.org/x/tools/gopls ";
  REQUIRE(text.rfind(prefix, 0) == 0);
  text = text.substr(prefix.size());
  return text.substr(0, text.find_first_of(" \n"));
}

TEST_CASE("detect finds what the gopls under test offers: version, GC page, gopls.mem_stats",
          "[gopls_debug][live][gopls-compat]") {
  WSLGO_START_GOPLS(gopls);
  Loop loop;
  auto owned = daemonClientOf(loop, gopls);
  GoplsDebugClient& client = *owned;
  CHECK_FALSE(client.features().has_value());

  std::optional<Result<GoplsDebugFeatures>> detected;
  client.detect([&](Result<GoplsDebugFeatures> features) { detected = std::move(features); },
                std::chrono::seconds(5));
  auto features = loop.await(detected);
  INFO((features.ok() ? std::string() : features.error().describe()));
  REQUIRE(features.ok());
  const std::string version = versionOfGoplsUnderTest();
  CHECK(features->build.version == version);
  CHECK_THAT(features->build.goVersion, Catch::StartsWith("go1."));
  CHECK(features->heapStatsRoute == kHeapStatsRoute);
  CHECK(features->gcRoute == (features->gcPage ? kGoplsGcRoute : kPprofGcRoute));
  REQUIRE(features->memStats.has_value());
  REQUIRE(client.features().has_value());
  CHECK(client.features()->gcRoute == features->gcRoute);
  // The two gopls the suites run against, as captured in tests/fixtures/gopls-debug.
  if (version == "master") {  // Debian 12's, the 0.5.0 line
    CHECK_FALSE(features->gcPage);
    CHECK_FALSE(*features->memStats);
  } else if (version == "v0.23.0") {
    CHECK(features->gcPage);
    CHECK(*features->memStats);
  }
}

TEST_CASE("the LSP probe of a socket nobody listens on fails naming the socket", "[gopls_debug]") {
  Loop loop;
  const std::string socket =
      (std::filesystem::temp_directory_path() / "wslgo-no-such-gopls.sock").string();
  std::optional<Result<std::vector<std::string>>> probed;
  probeLspCommands(*loop.eventLoop, socket, 2s, [&](Result<std::vector<std::string>> commands) {
    probed = std::move(commands);
  });
  CHECK_FALSE(probed.has_value());  // never from inside the call
  auto commands = loop.await(probed);
  REQUIRE_FALSE(commands.ok());
  CHECK(commands.error().path == socket);
  CHECK(commands.error().code == ENOENT);
}

TEST_CASE("the LSP probe of a socket that never answers gives up at its timeout", "[gopls_debug]") {
  Loop loop;
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("wslgo-silent-lsp-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string socket = (dir / "silent.sock").string();
  int listener = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(listener >= 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::snprintf(address.sun_path, sizeof address.sun_path, "%s", socket.c_str());
  REQUIRE(::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  REQUIRE(::listen(listener, 4) == 0);

  const auto started = Clock::now();
  std::optional<Result<std::vector<std::string>>> probed;
  probeLspCommands(*loop.eventLoop, socket, 300ms, [&](Result<std::vector<std::string>> commands) {
    probed = std::move(commands);
  });
  auto commands = loop.await(probed, 5s);
  REQUIRE_FALSE(commands.ok());
  CHECK(commands.error().code == ETIMEDOUT);
  CHECK(Clock::now() - started >= 300ms);
  ::close(listener);
  std::filesystem::remove_all(dir);
}

TEST_CASE("heap stats of a live gopls report a heap in use", "[gopls_debug][live][gopls-compat]") {
  WSLGO_START_GOPLS(gopls);
  Loop loop;
  auto owned = daemonClientOf(loop, gopls);
  GoplsDebugClient& client = *owned;
  std::optional<Result<HeapStats>> read;
  client.readHeapStats(5s, [&](Result<HeapStats> stats) { read = std::move(stats); });
  auto stats = loop.await(read);
  INFO((stats.ok() ? std::string() : stats.error().describe()));
  REQUIRE(stats.ok());
  CHECK(stats->heapInuse > 0);
  CHECK(stats->heapSys >= stats->heapInuse);
  CHECK(stats->sys >= stats->heapSys);
  CHECK(stats->nextGC > 0);
}

TEST_CASE("a forced GC on a live gopls shows in its NumGC", "[gopls_debug][live][gopls-compat]") {
  WSLGO_START_GOPLS(gopls);
  Loop loop;
  auto owned = daemonClientOf(loop, gopls);
  GoplsDebugClient& client = *owned;
  auto numGC = [&] {
    std::optional<Result<HeapStats>> read;
    client.readHeapStats(5s, [&](Result<HeapStats> stats) { read = std::move(stats); });
    auto stats = loop.await(read);
    REQUIRE(stats.ok());
    return stats->numGC;
  };
  uint64_t before = numGC();

  std::optional<Result<void>> collected;
  client.collectGarbage(10s, [&](Result<void> result) { collected = std::move(result); });
  auto result = loop.await(collected);
  INFO((result.ok() ? std::string() : result.error().describe()));
  REQUIRE(result.ok());
  CHECK(numGC() > before);
}

TEST_CASE("a heap profile of a live gopls is saved whole as gzip, with nothing left beside it",
          "[gopls_debug][live][gopls-compat]") {
  WSLGO_START_GOPLS(gopls);
  Loop loop;
  auto owned = daemonClientOf(loop, gopls);
  GoplsDebugClient& client = *owned;
  std::filesystem::path dir = gopls.socketPath();
  dir = dir.parent_path() / "profiles";
  std::filesystem::create_directory(dir);
  std::string path = (dir / "heap.pb.gz").string();

  std::optional<Result<uint64_t>> saved;
  client.saveHeapProfile(path, 10s, [&](Result<uint64_t> bytes) { saved = std::move(bytes); });
  auto bytes = loop.await(saved);
  INFO((bytes.ok() ? std::string() : bytes.error().describe()));
  REQUIRE(bytes.ok());
  REQUIRE(std::filesystem::exists(path));
  CHECK(std::filesystem::file_size(path) == *bytes);
  std::ifstream in(path, std::ios::binary);
  char magic[2] = {};
  in.read(magic, 2);
  CHECK(static_cast<unsigned char>(magic[0]) == 0x1f);
  CHECK(static_cast<unsigned char>(magic[1]) == 0x8b);
  CHECK(std::system(("gzip -t '" + path + "'").c_str()) == 0);
  CHECK(std::distance(std::filesystem::directory_iterator(dir),
                      std::filesystem::directory_iterator()) == 1);
}

TEST_CASE("a heap profile that cannot be written leaves no file and names the path",
          "[gopls_debug][live]") {
  WSLGO_START_GOPLS(gopls);
  Loop loop;
  auto owned = daemonClientOf(loop, gopls);
  GoplsDebugClient& client = *owned;
  std::string path = gopls.workspace() + "/no-such-dir/heap.pb.gz";
  std::optional<Result<uint64_t>> saved;
  client.saveHeapProfile(path, 10s, [&](Result<uint64_t> bytes) { saved = std::move(bytes); });
  auto bytes = loop.await(saved);
  REQUIRE_FALSE(bytes.ok());
  CHECK(bytes.error().code == ENOENT);
  CHECK(bytes.error().path.find("no-such-dir/heap.pb.gz") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(gopls.workspace() + "/no-such-dir"));
}

TEST_CASE("a route gopls does not serve is an error naming status 404", "[gopls_debug][live]") {
  WSLGO_START_GOPLS(gopls);
  Loop loop;
  std::string url = "http://" + gopls.debugAddress() + "/debug/pprof/no-such-profile";
  std::optional<Result<HttpResponse>> answer;
  loop.http->get(url, within(5s), [&](Result<HttpResponse> r) { answer = std::move(r); });
  auto response = loop.await(answer);
  REQUIRE_FALSE(response.ok());
  CHECK(response.error().code == EPROTO);
  CHECK(response.error().path == url);
  CHECK(response.error().message.find("404") != std::string::npos);
}

TEST_CASE("a body over the limit is refused, not truncated", "[gopls_debug][live]") {
  WSLGO_START_GOPLS(gopls);
  Loop loop;
  std::string url = "http://" + gopls.debugAddress() + kHeapStatsRoute;
  std::optional<Result<HttpResponse>> answer;
  loop.http->get(url, within(5s, 100), [&](Result<HttpResponse> r) { answer = std::move(r); });
  auto response = loop.await(answer);
  REQUIRE_FALSE(response.ok());
  CHECK(response.error().code == EFBIG);
  CHECK(response.error().message.find("100 bytes") != std::string::npos);
}

TEST_CASE("a callback that throws does not stop the client", "[gopls_debug][live]") {
  WSLGO_START_GOPLS(gopls);
  Loop loop;
  std::string url = "http://" + gopls.debugAddress() + "/info";
  bool threw = false;
  loop.http->get(url, within(5s), [&](Result<HttpResponse>) {
    threw = true;
    throw std::runtime_error("a caller's bug");
  });
  REQUIRE(loop.runUntil([&] { return threw; }));
  CHECK(loop.http->inFlight() == 0);

  std::optional<Result<HttpResponse>> answer;
  loop.http->get(url, within(5s), [&](Result<HttpResponse> r) { answer = std::move(r); });
  auto response = loop.await(answer);
  REQUIRE(response.ok());
  CHECK(response->status == 200);
  CHECK(response->contentType.find("text/html") != std::string::npos);
  CHECK_FALSE(response->body.empty());
}

TEST_CASE("a request to a closed port fails fast naming the address", "[gopls_debug]") {
  Loop loop;
  std::string address = closedAddress();
  GoplsDebugClient client(*loop.http, at(address));
  std::optional<Result<HeapStats>> read;
  auto started = Clock::now();
  client.readHeapStats(10s, [&](Result<HeapStats> stats) { read = std::move(stats); });
  auto stats = loop.await(read, 5s);
  CHECK(Clock::now() - started < 2s);
  REQUIRE_FALSE(stats.ok());
  CHECK(stats.error().code == ECONNREFUSED);
  CHECK(stats.error().describe().find(address) != std::string::npos);
}

TEST_CASE("a debug server that never answers times out with an error naming the timeout",
          "[gopls_debug]") {
  Loop loop;
  SilentListener silent;
  GoplsDebugClient client(*loop.http, at(silent.address()));
  std::optional<Result<HeapStats>> read;
  auto started = Clock::now();
  client.readHeapStats(300ms, [&](Result<HeapStats> stats) { read = std::move(stats); });
  auto stats = loop.await(read, 5s);
  auto elapsed = Clock::now() - started;
  CHECK(elapsed >= 300ms);
  CHECK(elapsed < 3s);
  REQUIRE_FALSE(stats.ok());
  CHECK(stats.error().code == ETIMEDOUT);
  CHECK(stats.error().message.find("300 ms") != std::string::npos);
  CHECK(stats.error().path.find(silent.address()) != std::string::npos);
  CHECK(loop.http->inFlight() == 0);
}

TEST_CASE("destroying the HTTP client with a request in flight calls no callback",
          "[gopls_debug]") {
  Loop loop;
  SilentListener silent;
  bool called = false;
  loop.http->get("http://" + silent.address() + "/memory", within(200ms),
                 [&](Result<HttpResponse>) { called = true; });
  // Far enough for the connection to be made and the request sent.
  loop.runUntil([] { return false; }, 50ms);
  REQUIRE(loop.http->inFlight() == 1);
  loop.http.reset();
  loop.runUntil([] { return false; }, 400ms);
  CHECK_FALSE(called);
}

TEST_CASE("destroying the gopls client with a request in flight drops its callback",
          "[gopls_debug]") {
  Loop loop;
  SilentListener silent;
  bool called = false;
  auto client = std::make_unique<GoplsDebugClient>(*loop.http, at(silent.address()));
  client->readHeapStats(200ms, [&](Result<HeapStats>) { called = true; });
  client.reset();
  REQUIRE(loop.runUntil([&] { return loop.http->inFlight() == 0; }, 5s));
  CHECK_FALSE(called);
}

TEST_CASE("a non-positive timeout is refused on the loop, not inside get()", "[gopls_debug]") {
  Loop loop;
  std::optional<Result<HttpResponse>> answer;
  loop.http->get("http://127.0.0.1:1/", within(0us),
                 [&](Result<HttpResponse> r) { answer = std::move(r); });
  CHECK_FALSE(answer.has_value());
  auto response = loop.await(answer, 1s);
  REQUIRE_FALSE(response.ok());
  CHECK(response.error().code == EINVAL);
}

TEST_CASE("only gopls' /memory page with the GC form counts as offering /gc", "[gopls_debug]") {
  std::ifstream in(std::string(WSLGO_FIXTURES_DIR) + "/gopls-debug/memory.html");
  std::string debian((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  REQUIRE(debian.find("GoPls memory usage") != std::string::npos);
  CHECK_FALSE(memoryPageOffersGc(debian));
  std::ifstream current(std::string(WSLGO_FIXTURES_DIR) + "/gopls-debug/memory-v0.23.0.html");
  std::string v0230((std::istreambuf_iterator<char>(current)), std::istreambuf_iterator<char>());
  REQUIRE(v0230.find("Run garbage collector") != std::string::npos);
  CHECK(memoryPageOffersGc(v0230));
}

}  // namespace
}  // namespace wslgo
