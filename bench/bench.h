// Tiny CPU-time benchmark harness for wslgo-bench: no framework, figures a person can read.
#pragma once

#include <time.h>

#include <cstdint>
#include <cstdio>
#include <string>

namespace wslgo::bench {

inline double processCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// Runs `op` `iterations` times after a warm-up and returns the CPU time per call in
// microseconds. CPU time, not wall time: the targets are about what the guard costs the machine.
template <class Op>
double cpuMicrosPerCall(uint64_t iterations, Op&& op) {
  for (uint64_t i = 0; i < iterations / 10 + 1; ++i) op();
  double start = processCpuSeconds();
  for (uint64_t i = 0; i < iterations; ++i) op();
  return (processCpuSeconds() - start) * 1e6 / static_cast<double>(iterations);
}

// One line of the report: "name  12.3 µs/op  (target < 50 µs)  ok".
inline bool report(const std::string& name, double micros, double targetMicros) {
  bool ok = micros < targetMicros;
  std::printf("%-58s %9.2f us/op  (target < %g us)  %s\n", name.c_str(), micros, targetMicros,
              ok ? "ok" : "OVER TARGET");
  return ok;
}

}  // namespace wslgo::bench
