// Fuzzes parseCmdline: /proc/PID/cmdline, NUL-separated argv.
#include <string>

#include "fuzz/fuzz_check.h"
#include "lib/process.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text = wslgo::fuzz::asText(data, size);
  auto argv = wslgo::parseCmdline(text);
  // Nothing is lost or made up: the arguments joined by NUL are the text without its last NUL.
  std::string joined;
  for (size_t i = 0; i < argv.size(); ++i) {
    if (i > 0) joined += '\0';
    joined += argv[i];
  }
  if (!text.empty() && text.back() == '\0') text.remove_suffix(1);
  FUZZ_CHECK(joined == text);
  FUZZ_CHECK(argv.empty() == (size == 0));
  return 0;
}
