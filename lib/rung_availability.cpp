#include "lib/rung_availability.h"

namespace wslgo {

RungAvailability rungAvailability(const RungFacts& facts) {
  RungAvailability out;
  if (facts.debugServerOff) {
    if (!facts.memStats.value_or(true)) {
      out.rungs.gc = false;
      const std::string gopls =
          facts.goplsVersion.empty() ? "this gopls" : "gopls " + facts.goplsVersion;
      out.why[static_cast<size_t>(ActionKind::Gc)] =
          "gopls runs without a debug server (gopls.debug_server is false) and " + gopls +
          " has no gopls.mem_stats command, so nothing can ask it for a GC";
    }
  } else if (!facts.debugServerAnswers) {
    out.rungs.gc = false;
    out.why[static_cast<size_t>(ActionKind::Gc)] =
        "gopls' debug server does not answer, so there is no one to ask for a GC";
  }
  // Trim frees memory through the kernel's reclaim or by dropping gopls' file cache from the
  // page cache; the module cache alone was measured to free next to nothing.
  if (!facts.reclaimAvailable && !facts.fileCache) {
    out.rungs.trim = false;
    const std::string gopls =
        facts.goplsVersion.empty() ? "this gopls" : "gopls " + facts.goplsVersion;
    out.why[static_cast<size_t>(ActionKind::Trim)] =
        "nothing to trim: no memory.reclaim for this unit (cgroup v1, or a kernel before 5.19) "
        "and " +
        gopls + " keeps no file cache";
  }
  return out;
}

}  // namespace wslgo
