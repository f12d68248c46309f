// Level and ActionKind: the vocabulary shared by config, policy engine and daemon.
#pragma once

#include <optional>
#include <string_view>

namespace wslgo {

// How much trouble a workspace (or the system) is in. Ordered: a higher level is worse.
enum class Level { Ok = 0, Warning = 1, High = 2, Critical = 3 };

enum class ActionKind { Gc, Trim, Restart };

std::string_view toString(Level level);
std::string_view toString(ActionKind action);
std::optional<Level> parseLevel(std::string_view text);            // "ok", "warning", ...
std::optional<ActionKind> parseActionKind(std::string_view text);  // "gc", "trim", "restart"

}  // namespace wslgo
