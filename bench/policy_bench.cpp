// Policy benches: one evaluation of the engine over 100 workspaces, in a steady state.
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "bench/bench.h"
#include "bench/benches.h"
#include "lib/policy_engine.h"
#include "tests/support/policy_test_config.h"

namespace wslgo::bench {
namespace {

using namespace std::chrono_literals;
constexpr uint64_t kGiB = 1ull << 30;
constexpr size_t kWorkspaces = 100;

// The tests' configuration with every workspace and system metric judged, so an evaluation does
// all the work a steady state asks for.
Config benchConfig() {
  Config config = test::policyTestConfig();
  config.defaults.rss = config.defaults.memory;
  config.defaults.heap = config.defaults.memory;
  config.defaults.growthBytesPerMinute = 512ull << 20;
  config.system.pressureSomeAvg10 = Thresholds{.warning = 20, .high = 40, .critical = 60};
  config.system.pressureFullAvg10 = Thresholds{.warning = 5, .high = 15, .critical = 30};
  return config;
}

}  // namespace

bool runPolicyBenches() {
  PolicyEngine engine(benchConfig());
  PolicyState state;
  Snapshot snapshot;
  snapshot.system.memTotal = 16 * kGiB;
  snapshot.system.memAvailable = 6 * kGiB;
  snapshot.system.pressureSomeAvg10 = 2.5;
  snapshot.system.pressureFullAvg10 = 0.5;
  // Every metric set and below its thresholds: the steady state the guard spends its life in.
  for (size_t i = 0; i < kWorkspaces; ++i) {
    WorkspaceSnapshot w;
    w.id = "/home/dev/src/workspace-" + std::to_string(i);
    w.memoryCurrent = (1ull << 30) + i * (1ull << 20);
    w.inactiveFile = 64ull << 20;
    w.rss = w.memoryCurrent;
    w.heapInUse = 512ull << 20;
    snapshot.workspaces.push_back(std::move(w));
  }
  std::vector<Decision> decisions;
  double micros = cpuMicrosPerCall(20000, [&] {
    snapshot.now += 2s;  // two minutes of growth history fill up, then the ring is reused
    decisions.clear();
    engine.evaluate(snapshot, state, decisions);
  });
  return report("policy: one evaluation over 100 workspaces", micros, 100);
}

}  // namespace wslgo::bench
