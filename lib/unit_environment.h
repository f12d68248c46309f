// The environment file a wslgo-gopls@ unit reads: where to listen, whether to run a debug
// server, GOMEMLIMIT, gopls' OOM score adjustment.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/config.h"
#include "lib/result.h"

namespace wslgo {

struct UnitEnvironment {
  std::string workspace;                   // WSLGO_WORKSPACE: the module root gopls runs in
  std::string socket;                      // WSLGO_SOCKET: gopls -listen=unix;<socket>
  bool debugServer = true;                 // WSLGO_DEBUG_SERVER: 1, or 0 for no -debug
  std::string goplsPath;                   // WSLGO_GOPLS: empty lets the unit find gopls itself
  std::vector<std::string> goplsArgs;      // WSLGO_GOPLS_ARGS (a JSON array): gopls.args
  std::optional<uint64_t> gomemlimit;      // GOMEMLIMIT, bytes
  std::optional<int> oomScoreAdjust;       // WSLGO_OOM_SCORE_ADJ: the launcher's oom_score_adj
  std::map<std::string, std::string> env;  // from the workspace's config (GOFLAGS, GOPATH…)
};

// The GOMEMLIMIT a workspace gets: `gomemlimit` when configured, else 90% of its `high`
// memory threshold, so Go's own GC works harder before the guard has to step in. None when
// neither is set.
std::optional<uint64_t> gomemlimitFor(const WorkspaceSettings& settings);

// The rules renderUnitEnvironment writes by, also checked when the configuration is loaded, so
// a bad `env` is refused there rather than at a unit's start. A shell name: [A-Za-z_][A-Za-z0-9_]*.
bool isShellName(std::string_view name);
// No newline, carriage return or NUL: systemd's EnvironmentFile= would split or cut the value.
bool isSingleLineValue(std::string_view value);
// The prefix of the variables the guard sets for the unit's launcher (WSLGO_GOPLS picks the
// binary it runs): the configuration's `env` may not set them.
inline constexpr std::string_view kGuardVariablePrefix = "WSLGO_";

// KEY="VALUE" lines in systemd's EnvironmentFile= syntax (double quotes, backslash before " and
// \). Keys must be shell names and values single lines: anything else is an error naming the key,
// since systemd would silently drop or mangle it.
Result<std::string> renderUnitEnvironment(const UnitEnvironment& environment);

// Where the guard writes a workspace's file and the unit's launcher reads it:
// <guardStateDir>/units/<systemd-escape --path of the workspace>.env, guardStateDir being
// $XDG_STATE_HOME/wslgo-guard.
Result<std::string> unitEnvironmentFile(std::string_view guardStateDir, std::string_view workspace);

// Reads such a file back (the unit's launcher does, see launcher/): KEY="VALUE" or KEY=VALUE
// lines, "#" comments and blank lines skipped. A malformed line is an error naming its number.
Result<std::map<std::string, std::string>> parseUnitEnvironment(std::string_view text);

// The variable that carries oom_score_adjust to the launcher. systemd cannot change a loaded
// unit's OOMScoreAdjust= at run time, so the launcher writes /proc/self/oom_score_adj itself
// before it execs gopls, as it sets GOMEMLIMIT.
inline constexpr std::string_view kOomScoreAdjustVariable = "WSLGO_OOM_SCORE_ADJ";

// WSLGO_OOM_SCORE_ADJ from a parsed file: nullopt when absent, an error naming the variable when
// it is not a whole number from -1000 to 1000 (the kernel's range).
Result<std::optional<int>> oomScoreAdjustFrom(const std::map<std::string, std::string>& variables);

}  // namespace wslgo
