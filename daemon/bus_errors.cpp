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
      name = kErrorNotFound;
      break;
    case EBUSY:
      name = kErrorBusy;
      break;
    case EINVAL:
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
