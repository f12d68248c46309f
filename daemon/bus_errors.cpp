#include "daemon/bus_errors.h"

#include <cerrno>

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

}  // namespace wslgo
