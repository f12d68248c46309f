// Fuzzes parseGoplsInfoPage (gopls' /info debug page: which gopls answers) and parseGoplsRelease
// on the version it finds.
#include "fuzz/fuzz_check.h"
#include "lib/gopls_build.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace wslgo;
  std::string_view html = fuzz::asText(data, size);
  auto build = parseGoplsInfoPage(html);
  (void)parseGoplsRelease(html);
  (void)releaseHasFileCache(html);
  if (!build) return 0;
  (void)parseGoplsRelease(build->version);
  (void)releaseHasFileCache(build->version);
  return 0;
}
