// GuardDaemon: the real wslgo-guard binary on a private bus, in a home of the test's own.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "lib/result.h"
#include "tests/integration/support/private_bus.h"

namespace wslgo::test {

// A throwaway $HOME with the XDG directories the guard uses, and a Go module in it.
class GuardHome {
 public:
  GuardHome();
  ~GuardHome();
  GuardHome(const GuardHome&) = delete;
  GuardHome& operator=(const GuardHome&) = delete;

  const std::string& home() const { return home_; }
  std::string runtimeDir() const { return home_ + "/run"; }
  std::string stateDir() const { return home_ + "/.local/state"; }
  std::string configDir() const { return home_ + "/.config"; }
  // $XDG_STATE_HOME/wslgo-guard/units: the env files the fake systemd reads.
  std::string unitEnvDir() const { return stateDir() + "/wslgo-guard/units"; }
  // Writes $XDG_CONFIG_HOME/wslgo-guard/config.json.
  void writeUserConfig(const std::string& json) const;
  // A new Go module (go.mod + main.go) under the home; returns its path.
  std::string makeModule(const std::string& name) const;
  // What wslgo-guard runs with: HOME and the XDG directories above. A user manager gives the
  // guard and its units one environment, so the fake's units get these too: gopls then keeps
  // its file cache where the guard looks for it.
  std::vector<std::pair<std::string, std::string>> environment() const;

 private:
  std::string home_;
};

class GuardDaemon {
 public:
  static std::string binaryPath();  // the wslgo-guard of this build tree

  // Starts wslgo-guard with DBUS_SESSION_BUS_ADDRESS = bus and the home's XDG variables, and
  // returns once it owns org.wslgo.Guard1. Its stderr goes to a log the test can read.
  static Result<std::unique_ptr<GuardDaemon>> start(const PrivateBus& bus, const GuardHome& home,
                                                    const std::string& extraArgs = "");
  ~GuardDaemon();
  GuardDaemon(const GuardDaemon&) = delete;
  GuardDaemon& operator=(const GuardDaemon&) = delete;

  pid_t pid() const { return pid_; }
  bool running();
  void signal(int signo) const;
  // SIGTERM, then waits; the exit status as waitpid reports it, or an error on timeout.
  Result<int> stop(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // kill -9 and reap.
  void kill();
  std::string log() const;

 private:
  GuardDaemon(pid_t pid, std::string logPath) : pid_(pid), logPath_(std::move(logPath)) {}
  pid_t pid_ = -1;
  std::string logPath_;
};

}  // namespace wslgo::test
