// Go heap figures (runtime.MemStats) as gopls' debug server reports them.
#pragma once

#include <cstdint>
#include <string_view>

#include "lib/result.h"

namespace wslgo {

// The runtime.MemStats fields the policy needs, in bytes except numGC.
struct HeapStats {
  uint64_t heapAlloc = 0;  // bytes of live and not-yet-swept heap objects
  uint64_t heapInuse = 0;  // bytes in in-use heap spans: what a GC can shrink
  uint64_t heapSys = 0;    // heap bytes obtained from the OS
  uint64_t nextGC = 0;     // heap size at which the next GC starts
  uint64_t numGC = 0;      // completed GC cycles; grows by at least one per forced GC
  uint64_t sys = 0;        // all bytes the Go runtime obtained from the OS
};

// Parses the "# runtime.MemStats" trailer of /debug/pprof/heap?debug=1, the one place every gopls
// version serves NumGC and NextGC as text (its /memory page is HTML without them, and it has no
// expvar /debug/vars). The heap samples before the trailer are skipped unread. The six fields of
// HeapStats are required; any of them missing (a body cut short), not a plain decimal or beyond
// 64 bits is an error naming the field.
Result<HeapStats> parsePprofHeapDebug1(std::string_view text);

}  // namespace wslgo
