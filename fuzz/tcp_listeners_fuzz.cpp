// Fuzzes parseTcpListeners (/proc/net/tcp and tcp6, where the guard finds gopls' debug port)
// and socketInodeFromFdLink (a /proc/PID/fd link target).
#include "fuzz/fuzz_check.h"
#include "lib/tcp_listener.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace wslgo;
  std::string_view text = fuzz::asText(data, size);
  (void)socketInodeFromFdLink(text);
  auto listeners = parseTcpListeners(text, 64);
  (void)listeners.ok();
  return 0;
}
