// Fuzzes parseUnitEnvironment (the wslgo-gopls@ unit's environment file, read by its launcher)
// and oomScoreAdjustFrom. Variables that parse and that renderUnitEnvironment may write are
// written and read back unchanged.
#include "fuzz/fuzz_check.h"
#include "lib/unit_environment.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace wslgo;
  auto variables = parseUnitEnvironment(fuzz::asText(data, size));
  if (!variables) return 0;
  if (auto adjust = oomScoreAdjustFrom(*variables); adjust && *adjust) {
    FUZZ_CHECK(**adjust >= -1000 && **adjust <= 1000);
  }
  UnitEnvironment environment;
  for (const auto& [name, value] : *variables) {
    if (name.rfind(kGuardVariablePrefix, 0) == 0 || name == "GOMEMLIMIT") continue;
    if (isShellName(name) && isSingleLineValue(value)) environment.env[name] = value;
  }
  auto rendered = renderUnitEnvironment(environment);
  FUZZ_CHECK(rendered.ok());
  auto reread = parseUnitEnvironment(*rendered);
  FUZZ_CHECK(reread.ok());
  for (const auto& [name, value] : environment.env) {
    auto it = reread->find(name);
    FUZZ_CHECK(it != reread->end() && it->second == value);
  }
  return 0;
}
