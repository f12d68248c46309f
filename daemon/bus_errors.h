// The org.wslgo.Guard1 error names, and the wrapper every bus handler runs inside.
#pragma once

#include <exception>
#include <string>
#include <utility>

#include <sdbus-c++/Error.h>

#include "lib/result.h"

namespace wslgo {

inline constexpr const char* kErrorInvalidArgument = "org.wslgo.Guard1.Error.InvalidArgument";
inline constexpr const char* kErrorNotFound = "org.wslgo.Guard1.Error.NotFound";
inline constexpr const char* kErrorAlreadyExists = "org.wslgo.Guard1.Error.AlreadyExists";
inline constexpr const char* kErrorBusy = "org.wslgo.Guard1.Error.Busy";
inline constexpr const char* kErrorFailed = "org.wslgo.Guard1.Error.Failed";
// An action that takes longer than a caller should wait; it goes on without them.
inline constexpr const char* kErrorStillRunning = "org.wslgo.Guard1.Error.StillRunning";

// The bus error for a manager Error, by its errno: the manager speaks errno, the bus speaks
// org.wslgo.Guard1.Error.*. EEXIST → AlreadyExists, ESRCH → NotFound (no such workspace; its
// message without strerror's "No such process"), EBUSY → Busy, EINVAL/ENOENT/ENOTDIR/ENAMETOOLONG
// → InvalidArgument, anything else → Failed.
sdbus::Error busErrorFor(const Error& error);

// The Failed error for a handler that threw `e`: "METHOD failed: …", running out of memory said
// as such, with what the caller can do.
sdbus::Error busErrorForException(const char* method, const std::exception& e);

// sdbus-c++ 1.2 aborts the process when a handler throws anything but sdbus::Error, so every
// handler body (every method, every property getter and setter) runs in here: sdbus::Error
// passes through, anything else (std::bad_alloc included) becomes Failed with its message, and
// the daemon stays up.
template <class Handler>
auto guardBusHandler(const char* method, Handler&& handler) -> decltype(handler()) {
  try {
    return std::forward<Handler>(handler)();
  } catch (const sdbus::Error&) {
    throw;
  } catch (const std::exception& e) {
    throw busErrorForException(method, e);
  } catch (...) {
    throw sdbus::Error(kErrorFailed, std::string(method) + " failed for an unknown reason");
  }
}

// Answers an async call later, from a manager callback on the loop: `deliver` sends the reply,
// and whatever it throws is sent as the call's error instead, so the caller hears back rather
// than waiting out its timeout. `reply` is an sdbus::Result<...>.
template <class Reply, class Deliver>
void completeBusReply(const char* method, Reply& reply, Deliver&& deliver) {
  try {
    guardBusHandler(method, std::forward<Deliver>(deliver));
  } catch (const sdbus::Error& e) {
    reply.returnError(e);
  }
}

}  // namespace wslgo
