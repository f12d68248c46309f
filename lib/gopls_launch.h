// GoplsLaunch: how a wslgo-gopls@ unit starts gopls, decided from the guard's environment file
// when there is one and from defaults when the unit runs alone.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/result.h"

namespace wslgo {

// What the launcher knows; the lookups are injected so the decision itself does no I/O.
struct LaunchInputs {
  std::string workspace;   // the canonical workspace root
  std::string home;        // $HOME
  std::string runtimeDir;  // $XDG_RUNTIME_DIR
  // The guard's environment file for this workspace, parsed; empty when the guard never ran.
  std::map<std::string, std::string> unitEnvironment;
  std::function<std::optional<std::string>(const std::string&)> getenv;
  std::function<bool(const std::string&)> isExecutable;
  std::optional<uint16_t> freePort;  // a free loopback port, picked for this start
};

struct GoplsLaunch {
  std::string gopls;         // the binary to exec
  std::string socket;        // gopls -listen=unix;<socket>
  std::string debugAddress;  // gopls -debug=<address>; empty without a debug server
  std::vector<std::string> argv;
  // Variables to set for gopls (GOMEMLIMIT, GOFLAGS, ... from the file); WSLGO_* are ours.
  std::map<std::string, std::string> environment;
};

// gopls is the first of: WSLGO_GOPLS (the guard's gopls.path), $GOPLS, ~/go/bin/gopls, then each
// $PATH entry. The socket comes from the file, else the guard's own default socket path (so an
// editor finds a unit started by hand where the guard would put it). The debug server listens on
// the free port, fresh at every start (the guard reads it back from gopls' command line), unless
// WSLGO_DEBUG_SERVER is 0. WSLGO_GOPLS_ARGS (gopls.args, a JSON array) is appended to gopls'
// arguments. An error says what is missing and how to provide it.
Result<GoplsLaunch> planGoplsLaunch(const LaunchInputs& inputs);

// WSLGO_DEBUG_SERVER: the guard's gopls.debug_server, "1" or "0"; absent means on.
inline constexpr std::string_view kDebugServerVariable = "WSLGO_DEBUG_SERVER";
Result<bool> debugServerWanted(const std::map<std::string, std::string>& variables);

// The socket alone, as planGoplsLaunch picks it: what the unit's stop step removes, which must
// work even when gopls itself can no longer be found.
Result<std::string> launchSocket(const LaunchInputs& inputs);

}  // namespace wslgo
