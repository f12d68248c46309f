#include "daemon/bus_errors.h"

#include <cerrno>
#include <new>
#include <string>

namespace wslgo {

sdbus::Error busErrorFor(const Error& error) {
  const char* name = kErrorFailed;
  switch (error.code) {
    case EEXIST:
      name = kErrorAlreadyExists;
      break;
    case ESRCH:
      // ESRCH stands for "no such workspace" here; its strerror, "No such process", would only
      // mislead whoever reads the message (an editor's user, for AttachEditor).
      return sdbus::Error(
          kErrorNotFound,
          Error{.code = 0, .path = error.path, .message = error.message}.describe());
    case EBUSY:
      name = kErrorBusy;
      break;
    case EINPROGRESS:
      // "Operation now in progress" adds nothing to the message, which says what goes on.
      return sdbus::Error(
          kErrorStillRunning,
          Error{.code = 0, .path = error.path, .message = error.message}.describe());
    case ENOMEM:  // the message says so, and that the guard goes on
    case EUSERS:
      // The workspace limit; "Too many users" would only puzzle. ENOSPC is a full disk, and
      // keeps its strerror: "No space left on device" is then what the user must read.
      return sdbus::Error(
          kErrorFailed, Error{.code = 0, .path = error.path, .message = error.message}.describe());
    case EINVAL:
    case EPERM:   // a system directory as a workspace
    case EILSEQ:  // a path that is not UTF-8
    case ENOENT:
    case ENOTDIR:
    case ENAMETOOLONG:
      name = kErrorInvalidArgument;
      break;
    default:
      break;
  }
  return sdbus::Error(name, error.describe());
}

sdbus::Error busErrorForException(const char* method, const std::exception& e) {
  if (dynamic_cast<const std::bad_alloc*>(&e) != nullptr) {
    try {
      return sdbus::Error(
          kErrorFailed, std::string(method) + " failed: the guard ran out of memory (" + e.what() +
                            "); it keeps running and answering. Free some memory and try "
                            "again; if it persists, lower guard.history or remove workspaces");
    } catch (const std::bad_alloc&) {
      // Not even the message fits: a shorter one may.
      return sdbus::Error(kErrorFailed, "the guard ran out of memory");
    }
  }
  return sdbus::Error(kErrorFailed, std::string(method) + " failed: " + describeException(e));
}

}  // namespace wslgo
