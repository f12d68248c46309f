// wslgo-bench: prints the CPU cost of the guard's hot paths against the issues' targets.
#include <cstdio>

#include "bench/benches.h"

int main() {
  bool ok = true;
  ok &= wslgo::bench::runReaderBenches();
  ok &= wslgo::bench::runPolicyBenches();
  std::printf("%s\n", ok ? "all figures within target" : "some figures over target");
  return ok ? 0 : 1;
}
