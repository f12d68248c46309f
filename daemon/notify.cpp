#include "daemon/notify.h"

#include <systemd/sd-daemon.h>
#include <time.h>

#include <cstdint>
#include <optional>
#include <string>

namespace wslgo {

namespace {

// The manager keeps one status per process, so the last one sent is per-process too; the daemon
// has one thread, so this needs no lock.
std::optional<std::string>& lastStatus() {
  static std::optional<std::string> last;
  return last;
}

}  // namespace

void notifyReady() { sd_notify(0, "READY=1"); }

void notifyStatus(std::string_view status) {
  std::optional<std::string>& last = lastStatus();
  if (last && *last == status) return;
  last.emplace(status);
  const std::string message = "STATUS=" + *last;
  sd_notify(0, message.c_str());
}

void notifyStopping() { sd_notify(0, "STOPPING=1"); }

void notifyReloading() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  const uint64_t usec =
      static_cast<uint64_t>(ts.tv_sec) * 1000000u + static_cast<uint64_t>(ts.tv_nsec) / 1000u;
  const std::string message = "RELOADING=1\nMONOTONIC_USEC=" + std::to_string(usec);
  sd_notify(0, message.c_str());
}

}  // namespace wslgo
