// GoplsDaemon: a real `gopls` daemon with a loopback debug server, started and reaped by a test.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "lib/result.h"

namespace wslgo::test {

// Runs `gopls -listen="unix;<dir>/gopls.sock" -debug=127.0.0.1:<port>` in a workspace:
//
//   if (!GoplsDaemon::toolFound()) WSLGO_SKIP_LIVE_TEST("no gopls at " << GoplsDaemon::binary());
//   auto gopls = GoplsDaemon::start();
//   REQUIRE(gopls.ok());
//   GoplsDebugClient client(http, (*gopls)->debugAddress());
//
// The process is its own process group and dies with the test process (PR_SET_PDEATHSIG);
// the destructor stops the group (SIGTERM, SIGKILL after 5 s) and reaps it.
class GoplsDaemon {
 public:
  struct Options {
    // The directory gopls runs in. Empty: a fresh module (go.mod + main.go) inside the
    // daemon's own temporary directory. A given directory is used as it is and never removed.
    std::string workspace;
    // How long to wait until the socket exists and the debug server answers HTTP.
    std::chrono::milliseconds startTimeout{std::chrono::seconds(30)};
  };

  // The gopls every test runs, whether as a daemon, a unit's main process or a `gopls -remote`
  // client: $WSLGO_TEST_GOPLS when set (ctest sets it from CMake's WSLGO_TEST_GOPLS, or
  // WSLGO_TEST_OLD_GOPLS for the [gopls-compat] run), else `gopls` as found on PATH.
  static std::string binary();
  // True when binary() is an executable file (a bare name: on PATH). Without it a test skips
  // with WSLGO_SKIP_LIVE_TEST; with it, a daemon that fails to start is a test failure.
  static bool toolFound();

  // Picks a free loopback port (binds port 0 and closes it), starts gopls and waits for it. The
  // error carries gopls' own output when it exited or did not answer in time.
  static Result<std::unique_ptr<GoplsDaemon>> start(Options options);
  static Result<std::unique_ptr<GoplsDaemon>> start() { return start(Options{}); }

  GoplsDaemon(const GoplsDaemon&) = delete;
  GoplsDaemon& operator=(const GoplsDaemon&) = delete;
  // Stops and reaps gopls, then removes the temporary directory (never a given workspace).
  ~GoplsDaemon();

  pid_t pid() const { return pid_; }
  uint16_t debugPort() const { return port_; }
  // "127.0.0.1:PORT", as GoplsDebugClient and the daemon's workspace records take it.
  std::string debugAddress() const { return "127.0.0.1:" + std::to_string(port_); }
  // The unix socket LSP clients (and `gopls -remote=unix;PATH`) connect to.
  const std::string& socketPath() const { return socketPath_; }
  const std::string& workspace() const { return workspace_; }
  // gopls' stdout and stderr so far, for failure messages.
  std::string output() const;

 private:
  GoplsDaemon() = default;

  pid_t pid_ = -1;
  uint16_t port_ = 0;
  std::string tempDir_;
  std::string workspace_;
  std::string socketPath_;
  std::string logPath_;
};

}  // namespace wslgo::test
