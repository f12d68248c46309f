#include "bench/benches.h"

namespace wslgo::bench {
bool runReaderBenches() { return true; }
}  // namespace wslgo::bench
