// bus_errors.h is header-only; this unit makes sure it compiles on its own.
#include "daemon/bus_errors.h"
