#include "lib/levels.h"

namespace wslgo {

std::string_view toString(Level level) {
  switch (level) {
    case Level::Ok:
      return "ok";
    case Level::Warning:
      return "warning";
    case Level::High:
      return "high";
    case Level::Critical:
      return "critical";
  }
  return "unknown";
}

std::string_view toString(ActionKind action) {
  switch (action) {
    case ActionKind::Gc:
      return "gc";
    case ActionKind::Trim:
      return "trim";
    case ActionKind::Restart:
      return "restart";
  }
  return "unknown";
}

std::optional<Level> parseLevel(std::string_view text) {
  for (Level level : {Level::Ok, Level::Warning, Level::High, Level::Critical}) {
    if (toString(level) == text) return level;
  }
  return std::nullopt;
}

std::optional<ActionKind> parseActionKind(std::string_view text) {
  for (ActionKind action : {ActionKind::Gc, ActionKind::Trim, ActionKind::Restart}) {
    if (toString(action) == text) return action;
  }
  return std::nullopt;
}

}  // namespace wslgo
