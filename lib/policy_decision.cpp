#include "lib/policy_decision.h"

#include <array>
#include <cstddef>

namespace wslgo {

std::string_view toString(DecisionKind kind) {
  switch (kind) {
    case DecisionKind::Level:
      return "level";
    case DecisionKind::Action:
      return "action";
    case DecisionKind::Outcome:
      return "outcome";
    case DecisionKind::Crash:
      return "crash";
    case DecisionKind::CrashLoop:
      return "crash-loop";
    case DecisionKind::Degraded:
      return "degraded";
    case DecisionKind::Restored:
      return "restored";
    case DecisionKind::OverBudget:
      return "over-budget";
  }
  return "unknown";
}

std::string_view toString(Metric metric) {
  constexpr std::array<std::string_view, 3> kNames{"memory", "rss", "heap"};  // in enum order
  return kNames.at(static_cast<size_t>(metric));
}

}  // namespace wslgo
