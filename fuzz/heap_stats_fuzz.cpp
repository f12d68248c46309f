// Fuzzes parsePprofHeapDebug1: the runtime.MemStats trailer of gopls' /debug/pprof/heap?debug=1,
// where the guard reads the Go heap figures.
#include "fuzz/fuzz_check.h"
#include "lib/heap_stats.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto stats = wslgo::parsePprofHeapDebug1(wslgo::fuzz::asText(data, size));
  (void)stats.ok();
  return 0;
}
