#include "lib/policy_decision.h"

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
  }
  return "unknown";
}

}  // namespace wslgo
