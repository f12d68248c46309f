// FakeSystemd: starts wslgo-fake-systemd1 on a private bus and drives its fault injection.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include <sdbus-c++/IConnection.h>
#include <sdbus-c++/IProxy.h>

#include "lib/result.h"
#include "tests/integration/support/private_bus.h"

namespace wslgo::test {

class FakeSystemd {
 public:
  struct Options {
    // Shell command line each wslgo-gopls@X.service runs (sh -c), with WSLGO_INSTANCE=X and
    // the KEY=VALUE lines of envDir/X.env in its environment. Empty: a long sleep.
    std::string execCommand;
    std::string envDir;
    // Each unit's processes in a real cgroup of its own (/wslgo-fake-<fake's pid>/<unit> in
    // every writable hierarchy), named by ControlGroup, so the guard reads real memory files and
    // PSI. Needs the right to make cgroups (root here); the fake exits at start without it.
    bool realCgroups = false;
  };

  // The binary from this build tree (WSLGO_BINARY_DIR).
  static std::string binaryPath();

  // Starts the fake on `bus` and returns once it owns org.freedesktop.systemd1.
  static Result<FakeSystemd> start(const PrivateBus& bus, const Options& options);

  FakeSystemd(FakeSystemd&& other) noexcept;
  FakeSystemd& operator=(FakeSystemd&& other) noexcept;
  FakeSystemd(const FakeSystemd&) = delete;
  FakeSystemd& operator=(const FakeSystemd&) = delete;
  // SIGTERM (the fake kills its units' processes), then SIGKILL if it does not exit in time.
  ~FakeSystemd();

  pid_t pid() const { return pid_; }

  // org.wslgo.Test.FakeSystemd on /org/wslgo/Test.
  Result<void> failNextJob(const std::string& unit);  // its next job ends "failed"
  Result<void> crashUnit(const std::string& unit);    // SIGKILL its process: on-failure restart
  Result<void> setStartDelay(std::chrono::microseconds delay);
  Result<void> emitReload();  // Reloading(true), Reloading(false); subscriptions are dropped
  Result<uint32_t> subscribers();

 private:
  FakeSystemd(pid_t pid, std::unique_ptr<sdbus::IConnection> connection);
  void stop();

  pid_t pid_ = -1;
  std::unique_ptr<sdbus::IConnection> connection_;
  std::unique_ptr<sdbus::IProxy> control_;
};

}  // namespace wslgo::test
