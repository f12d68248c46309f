// Fuzzes parseRegistry: the guard's state file (the workspace registry). What parses must
// serialize to a file that parses to the same registry, or a restart would change it.
#include "fuzz/fuzz_check.h"
#include "lib/workspace_registry.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace wslgo;
  auto registry = parseRegistry(fuzz::asText(data, size));
  if (!registry) return 0;
  FUZZ_CHECK(registry->workspaces.size() <= kMaxWorkspaces);
  std::string saved = serializeRegistry(*registry);
  auto loaded = parseRegistry(saved);
  FUZZ_CHECK(loaded.ok());
  FUZZ_CHECK(serializeRegistry(*loaded) == saved);
  return 0;
}
