// PrivateBus: a dbus-daemon of the test's own, so bus tests never touch the user's session bus.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <utility>

#include <sdbus-c++/IConnection.h>

#include "lib/result.h"
#include "tests/unit/live.h"

namespace wslgo::test {

class PrivateBus {
 public:
  // True when dbus-daemon is on PATH. A test without it skips with WSLGO_SKIP_LIVE_TEST (see
  // WSLGO_START_PRIVATE_BUS below); with it, a bus that fails to start is a test failure.
  static bool toolFound();

  // Forks `dbus-daemon --session --fork --print-address --print-pid` and waits (bounded) for
  // its address and pid.
  static Result<PrivateBus> start();

  PrivateBus(PrivateBus&& other) noexcept;
  PrivateBus& operator=(PrivateBus&& other) noexcept;
  PrivateBus(const PrivateBus&) = delete;
  PrivateBus& operator=(const PrivateBus&) = delete;
  // Kills the dbus-daemon (SIGTERM) and reaps it if it is our child.
  ~PrivateBus();

  // "unix:path=/tmp/dbus-...,guid=..."
  const std::string& address() const { return address_; }
  pid_t pid() const { return pid_; }

  // A new sdbus-c++ connection to this bus (createSessionBusConnectionWithAddress).
  std::unique_ptr<sdbus::IConnection> connect() const;

  // Sets DBUS_SESSION_BUS_ADDRESS to this bus, for code under test that opens "the session
  // bus" itself. Each integration case runs in its own process, so this leaks nowhere.
  void exportAsSessionBus() const;

  // Waits until `name` has an owner on this bus: subscribes to NameOwnerChanged, then asks
  // NameHasOwner, then waits for the signal, so there is no polling interval to tune.
  // False when the deadline passes first.
  bool waitForName(const std::string& name,
                   std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;

  // Waits until `name` has no owner on this bus (the service exited or released it).
  bool waitForNameGone(const std::string& name,
                       std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;

 private:
  PrivateBus(std::string address, pid_t pid) : address_(std::move(address)), pid_(pid) {}
  bool waitForOwner(const std::string& name, bool wantOwner,
                    std::chrono::milliseconds timeout) const;

  std::string address_;
  pid_t pid_ = -1;
};

}  // namespace wslgo::test

// Declares `var` as a started PrivateBus, or skips (no dbus-daemon) / fails (it would not start).
// A macro because WSLGO_SKIP_LIVE_TEST and REQUIRE must expand inside the test case.
#define WSLGO_START_PRIVATE_BUS(var)                                                        \
  if (!::wslgo::test::PrivateBus::toolFound())                                              \
    WSLGO_SKIP_LIVE_TEST("dbus-daemon is not on PATH (apt install dbus-daemon)");           \
  auto var##Started = ::wslgo::test::PrivateBus::start();                                   \
  if (!var##Started.ok()) FAIL("private dbus-daemon: " << var##Started.error().describe()); \
  ::wslgo::test::PrivateBus var = std::move(var##Started).value()
