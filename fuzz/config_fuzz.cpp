// Fuzzes the configuration: the input is the user's config.json, loaded over the shipped
// config/default.json as the guard loads it (JSON, merge, validation of every key, sizes,
// durations and percentages). loadConfig reads files, so the input is written to one first.
#include <unistd.h>

#include <cstdio>
#include <string>

#include "fuzz/fuzz_check.h"
#include "lib/config.h"

namespace {

std::string userLayerPath() {
  const char* tmp = std::getenv("TMPDIR");
  std::string dir = tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
  // Per process: `-jobs` runs several fuzzers side by side.
  return dir + "/wslgo-config-fuzz-" + std::to_string(getpid()) + ".json";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace wslgo;
  static const std::string path = userLayerPath();
  FILE* file = std::fopen(path.c_str(), "wb");
  FUZZ_CHECK(file != nullptr);
  FUZZ_CHECK(std::fwrite(data, 1, size, file) == size);
  FUZZ_CHECK(std::fclose(file) == 0);
  std::vector<ConfigLayer> layers{{WSLGO_SOURCE_DIR "/config/default.json", true}, {path, true}};
  auto config = loadConfig(layers, uint64_t{16} << 30, "/home/me");
  std::remove(path.c_str());
  if (!config) {
    // Every rejection tells a person what is wrong.
    FUZZ_CHECK(!config.error().message.empty());
    return 0;
  }
  const GuardSettings& guard = config->guard;
  FUZZ_CHECK(guard.sampleInterval.count() > 0);
  FUZZ_CHECK(guard.history <= kMaxHistory);
  for (const auto& [root, settings] : config->workspaces) {
    FUZZ_CHECK(!root.empty() && root.front() == '/');
    FUZZ_CHECK(settings.growthWindow <= kMaxGrowthWindow);
    FUZZ_CHECK(settings.oomScoreAdjust >= -1000 && settings.oomScoreAdjust <= 1000);
  }
  return 0;
}
