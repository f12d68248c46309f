// Fuzzes parseMemStatsAnswer: gopls' answer to gopls.mem_stats over LSP, the heap figures of a
// gopls without a debug server.
#include "fuzz/fuzz_check.h"
#include "lib/gopls_mem_stats.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body = wslgo::fuzz::asText(data, size);
  for (int id : {1, 7, -1}) (void)wslgo::parseMemStatsAnswer(body, id).ok();
  return 0;
}
