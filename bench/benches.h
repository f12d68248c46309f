// The benchmark groups wslgo-bench runs; each prints its lines and returns false if over target.
#pragma once

namespace wslgo::bench {

bool runReaderBenches();  // readers_bench.cpp: meminfo + PSI, one workspace read
bool runPolicyBenches();  // policy_bench.cpp: one evaluation over 100 workspaces

}  // namespace wslgo::bench
