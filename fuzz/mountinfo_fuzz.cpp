// Fuzzes parseMountinfo (/proc/self/mountinfo) and the unescaping of its paths.
#include "fuzz/fuzz_check.h"
#include "lib/mountinfo.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace wslgo;
  std::string_view text = fuzz::asText(data, size);
  // Escapes only ever shorten a path (\040 is one byte).
  FUZZ_CHECK(unescapeMountPath(text).size() <= text.size());
  auto mounts = parseMountinfo(text);
  if (!mounts) return 0;
  for (const auto& mount : *mounts) {
    FUZZ_CHECK(!mount.fsType.empty());
    FUZZ_CHECK(!mount.mountPoint.empty());
  }
  return 0;
}
