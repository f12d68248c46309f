// FakeGopls: scripted gopls debug servers for the Manager's unit tests. Each workspace's client
// reaches the FakeGopls of its debug address; answers come on a later turn of the fake loop,
// after the delay the test set, as a real server's do.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "daemon/gopls_debug.h"
#include "tests/support/fake_scheduler.h"

namespace wslgo::test {

// One gopls debug server as a test scripts it.
struct FakeGopls {
  std::string address;
  bool answers = true;  // false: every request fails as a refused connection
  // What detect() finds: a current gopls unless the test says otherwise.
  GoplsDebugFeatures features{.gcRoute = kGoplsGcRoute,
                              .heapStatsRoute = kHeapStatsRoute,
                              .build = {.version = "v0.23.0", .goVersion = "go1.26.8"},
                              .gcPage = true,
                              .memStats = true};
  uint64_t heapInUse = 64 << 20;  // what readHeapStats reports
  bool heapFails = false;         // readHeapStats fails (a debug page that does not parse)
  bool squatted = false;          // another process holds the port: every request is EPERM
  Usec gcTakes{std::chrono::milliseconds(100)};
  std::function<void()> onGc;  // runs when a GC completes: the test frees memory here
  bool profileFails = false;
  size_t detections = 0;
  size_t gcCalls = 0;
  std::optional<Usec> lastGcAt;  // when the last GC was asked for
  size_t profileCalls = 0;
  size_t heapReads = 0;
};

// The FakeGopls of every gopls that runs without a debug server.
inline constexpr const char* kNoDebugServer = "(no debug server)";

// Makes clients and keeps the FakeGopls behind each address.
class FakeGoplsFleet {
 public:
  explicit FakeGoplsFleet(FakeScheduler& scheduler) : scheduler_(scheduler) {}

  GoplsDebugFactory factory();
  // The server at a workspace's debug address ("127.0.0.1:PORT"), made on first use.
  FakeGopls& at(const std::string& address);
  std::shared_ptr<FakeGopls> shared(const std::string& address);

 private:
  FakeScheduler& scheduler_;
  std::map<std::string, std::shared_ptr<FakeGopls>> servers_;
};

}  // namespace wslgo::test
