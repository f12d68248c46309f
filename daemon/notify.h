// sd_notify wrappers: readiness, status text, stopping and reloading for the service manager.
#pragma once

#include <string_view>

namespace wslgo {

// All are no-ops when NOTIFY_SOCKET is unset (not started by systemd, or Type= is not notify):
// sd_notify checks that itself.
void notifyReady();
// Sends STATUS= only when the text differs from the last one sent, so the daemon can call it on
// every sample without flooding the manager.
void notifyStatus(std::string_view status);
void notifyStopping();
// RELOADING=1 with MONOTONIC_USEC (which Type=notify-reload requires); call notifyReady() once
// the reload is done.
void notifyReloading();

}  // namespace wslgo
