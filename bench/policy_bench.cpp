#include "bench/benches.h"

namespace wslgo::bench {
bool runPolicyBenches() { return true; }
}  // namespace wslgo::bench
