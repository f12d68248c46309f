// MemoryWakeup: a kernel notification that memory moved, so the guard looks before its next tick.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "daemon/event_loop.h"
#include "daemon/unique_fd.h"
#include "lib/result.h"
#include "lib/usec.h"

namespace wslgo {

// Each kind wakes on one kernel event; what changed is read by the tick the wake-up asks for.
// Where none applies (no PSI, no v1 memory controller, no MemoryHigh on v2), the guard falls
// back to sampling faster near a threshold.
class MemoryWakeup {
 public:
  // Gets the wake-up's description, for the logs.
  using Callback = std::function<void(const std::string& description)>;

  // The kernel's smallest and largest PSI trigger window, and the step it demands from callers
  // without CAP_SYS_RESOURCE (seen here even as root in a container): whole multiples of 2 s.
  static constexpr Usec kPressureWindowStep = std::chrono::seconds(2);

  // A PSI trigger on a pressure file (/proc/pressure/memory, or a cgroup's memory.pressure):
  // wakes once tasks have stalled on memory for `stall` within the last `window`. `kind` is
  // "some" or "full".
  static Result<MemoryWakeup> pressure(EventLoop& loop, const std::string& path,
                                       std::string_view kind, Usec stall, Usec window,
                                       Callback callback);
  // cgroup v1: wakes when the cgroup's memory.usage_in_bytes crosses `bytes`, either way
  // (an eventfd registered through cgroup.event_control).
  static Result<MemoryWakeup> usageThreshold(EventLoop& loop, const std::string& memoryV1Dir,
                                             uint64_t bytes, Callback callback);
  // cgroup v2: wakes when memory.events changes, i.e. on a high, max or oom event. Only useful
  // with MemoryHigh/MemoryMax set, since v2 has no threshold notification of its own.
  static Result<MemoryWakeup> memoryEvents(EventLoop& loop, const std::string& unifiedDir,
                                           Callback callback);

  MemoryWakeup() = default;

  // "PSI some 400ms/2s on /proc/pressure/memory", for the logs.
  const std::string& description() const { return state_->description; }

 private:
  enum class Kind { Pressure, UsageThreshold, MemoryEvents };
  struct State {
    Kind kind;
    UniqueFd fd;
    std::string description;
    Callback callback;
    IoWatch watch;
  };

  static Result<MemoryWakeup> watch(EventLoop& loop, std::unique_ptr<State> state, uint32_t events);
  static void onEvent(State& state, uint32_t revents);

  // Heap-held: the watch's callback points at it, and handles move.
  std::unique_ptr<State> state_;
};

}  // namespace wslgo
