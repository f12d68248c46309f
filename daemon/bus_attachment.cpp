#include "daemon/bus_attachment.h"

#include <systemd/sd-event.h>
#include <time.h>

#include <cerrno>
#include <cstdint>

#include <sdbus-c++/Error.h>

namespace wslgo {

namespace {

// sd-bus timeouts are method-call deadlines measured in seconds; 1 ms of slack is plenty.
constexpr uint64_t kBusTimeoutAccuracyUsec = 1000;

// sdbus-c++ 1.2 passes sd_bus_get_timeout() through unchanged: absolute CLOCK_MONOTONIC usec,
// UINT64_MAX for "no timeout", 0 for "messages already queued, process at once".
constexpr uint64_t kNoTimeout = UINT64_MAX;

int onIo(sd_event_source* /*source*/, int /*fd*/, uint32_t /*revents*/, void* userdata) {
  static_cast<BusAttachment*>(userdata)->kick();
  return 0;
}

int onTimeout(sd_event_source* /*source*/, uint64_t /*usec*/, void* userdata) {
  static_cast<BusAttachment*>(userdata)->kick();
  return 0;
}

}  // namespace

// Runs after every event the loop dispatched: whatever that callback sent, or whatever reply
// deadline it started, is in the poll data now.
int BusAttachment::onPost(sd_event_source* /*source*/, void* userdata) {
  static_cast<BusAttachment*>(userdata)->rearm();
  return 0;
}

Result<std::unique_ptr<BusAttachment>> BusAttachment::attach(EventLoop& loop,
                                                             sdbus::IConnection& connection,
                                                             LostHook onLost) {
  sdbus::IConnection::PollData poll{};
  try {
    poll = connection.getEventLoopPollData();
  } catch (const sdbus::Error& e) {
    return errnoError(EIO, "D-Bus", std::string("cannot read the bus poll data: ") + e.what());
  }

  std::unique_ptr<BusAttachment> bus(new BusAttachment(loop, connection, std::move(onLost)));
  void* self = bus.get();
  sd_event_source* source = nullptr;

  int r =
      sd_event_add_io(loop.raw(), &source, poll.fd, static_cast<uint32_t>(poll.events), onIo, self);
  if (r < 0) return errnoError(-r, "D-Bus", "cannot watch the bus fd in the event loop");
  bus->io_ = EventSource(source);
  bus->fd_ = poll.fd;

  r = sd_event_add_time(loop.raw(), &source, CLOCK_MONOTONIC, 0, kBusTimeoutAccuracyUsec, onTimeout,
                        self);
  if (r < 0) return errnoError(-r, "D-Bus", "cannot add the bus timeout to the event loop");
  bus->timeout_ = EventSource(source);

  r = sd_event_add_post(loop.raw(), &source, onPost, self);
  if (r < 0) return errnoError(-r, "D-Bus", "cannot add the bus re-arm hook to the event loop");
  bus->post_ = EventSource(source);
  sd_event_source_set_enabled(source, SD_EVENT_ON);

  bus->rearm();
  return bus;
}

void BusAttachment::kick() {
  dispatch();
  rearm();
}

void BusAttachment::dispatch() {
  if (lost_ || dispatching_) return;
  dispatching_ = true;
  try {
    while (connection_.processPendingRequest()) {
    }
  } catch (const sdbus::Error& e) {
    dispatching_ = false;
    fail(e.what());
  } catch (const std::exception& e) {
    dispatching_ = false;
    fail(e.what());
  }
  dispatching_ = false;
}

void BusAttachment::rearm() {
  if (lost_) return;
  sdbus::IConnection::PollData poll{};
  try {
    poll = connection_.getEventLoopPollData();
  } catch (const sdbus::Error& e) {
    fail(e.what());
    return;
  }
  if (poll.fd != fd_) {
    sd_event_source_set_io_fd(io_.raw(), poll.fd);
    fd_ = poll.fd;
  }
  sd_event_source_set_io_events(io_.raw(), static_cast<uint32_t>(poll.events));
  if (poll.timeout_usec == kNoTimeout) {
    sd_event_source_set_enabled(timeout_.raw(), SD_EVENT_OFF);
  } else {
    sd_event_source_set_time(timeout_.raw(), poll.timeout_usec);
    sd_event_source_set_enabled(timeout_.raw(), SD_EVENT_ONESHOT);
  }
}

void BusAttachment::fail(const std::string& why) {
  lost_ = true;
  // A dead connection's fd stays readable (hang-up); left on, the loop would spin on it.
  sd_event_source_set_enabled(io_.raw(), SD_EVENT_OFF);
  sd_event_source_set_enabled(timeout_.raw(), SD_EVENT_OFF);
  sd_event_source_set_enabled(post_.raw(), SD_EVENT_OFF);
  const std::string what = "D-Bus connection failed: " + why;
  if (onLost_) {
    runGuarded(loop_, "bus lost hook", [&] { onLost_(what); });
  } else {
    loop_.reportError(what);
  }
}

}  // namespace wslgo
