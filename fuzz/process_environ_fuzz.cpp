// Fuzzes parseProcessEnviron: /proc/PID/environ, NUL-separated NAME=VALUE strings.
#include "fuzz/fuzz_check.h"
#include "lib/process_environ.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace wslgo;
  std::string_view text = fuzz::asText(data, size);
  auto environ = parseProcessEnviron(text);
  if (!environ) return 0;
  for (const auto& [name, value] : environ->variables) {
    // Names are what comes before the first '=' of a string, so none is empty or holds one.
    FUZZ_CHECK(!name.empty());
    FUZZ_CHECK(name.find('=') == std::string::npos);
    FUZZ_CHECK(name.find('\0') == std::string::npos);
    FUZZ_CHECK(environ->value(name) == value);
  }
  return 0;
}
