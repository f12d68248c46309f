// BusAttachment: drives an sdbus-c++ connection from the daemon's EventLoop instead of a thread.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <sdbus-c++/IConnection.h>

#include "daemon/event_loop.h"
#include "lib/result.h"

namespace wslgo {

// An I/O source on the bus fd and a CLOCK_MONOTONIC time source for sd-bus' next timeout
// (method-call replies), both re-armed from fresh poll data after every event the loop
// dispatches (an sd_event post source), so a signal emitted from a timer or any other callback
// gets POLLOUT without anyone having to remember to kick the bus.
//
// Destroy it before the connection and the loop (declare it after both).
class BusAttachment {
 public:
  // Called once when processing the bus fails (connection lost); the sources are off by then.
  using LostHook = std::function<void(const std::string& why)>;

  static Result<std::unique_ptr<BusAttachment>> attach(EventLoop& loop,
                                                       sdbus::IConnection& connection,
                                                       LostHook onLost = {});
  BusAttachment(const BusAttachment&) = delete;
  BusAttachment& operator=(const BusAttachment&) = delete;
  ~BusAttachment() = default;

  // Processes whatever is pending and re-arms now. Only needed outside the loop's callbacks
  // (before run(), say); inside them the post source does it. Harmless from a bus handler.
  void kick();

 private:
  BusAttachment(EventLoop& loop, sdbus::IConnection& connection, LostHook onLost)
      : loop_(loop), connection_(connection), onLost_(std::move(onLost)) {}

  static int onPost(sd_event_source* source, void* userdata);
  void dispatch();
  void rearm();
  void fail(const std::string& why);

  EventLoop& loop_;
  sdbus::IConnection& connection_;
  LostHook onLost_;
  EventSource io_;
  EventSource timeout_;
  EventSource post_;
  int fd_ = -1;
  bool lost_ = false;
  bool dispatching_ = false;  // sd-bus cannot process from inside its own callbacks
};

}  // namespace wslgo
