// Finding gopls processes and telling daemons, forwarders, editors' servers and tool runs apart.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/result.h"
#include "lib/sys_roots.h"

namespace wslgo {

enum class GoplsRole {
  NotGopls,
  Daemon,     // serves LSP on a socket (-listen or -port): what a workspace unit runs
  Forwarder,  // -remote: relays one editor's stdio to a daemon
  Editor,     // serves one editor on stdio, with its own cache
  Tool,       // a command-line run (version, check, remote sessions...) or a rejected command line
};

std::string_view toString(GoplsRole role);

// How gopls reads an address flag: "unix;PATH", "tcp;HOST:PORT", "auto" or "auto;ID" (remote
// only), or a bare HOST:PORT meaning TCP.
enum class GoplsNetwork { None, Tcp, Unix, Auto, Other };

struct GoplsAddress {
  GoplsNetwork network = GoplsNetwork::None;
  // The socket path, HOST:PORT or auto id without its prefix; the whole flag value for Other.
  std::string address;

  bool isSet() const { return network != GoplsNetwork::None; }
  friend bool operator==(const GoplsAddress&, const GoplsAddress&) = default;
};

GoplsAddress parseGoplsAddress(std::string_view value);

struct GoplsInvocation {
  GoplsRole role = GoplsRole::NotGopls;
  // The subcommand as given: "serve", a tool's name, or empty when gopls defaults to serve.
  std::string subcommand;
  GoplsAddress listen;  // -listen, or -port as TCP ":PORT" (gopls lets -port win)
  GoplsAddress remote;
  std::string debugAddress;  // -debug
  std::string logfile;       // -logfile
};

// The TCP port of a -debug address the guard can reach on loopback ("127.0.0.1:N",
// "localhost:N", ":N"); unset for anything else (another host, no port, garbage).
std::optional<uint16_t> loopbackDebugPort(std::string_view debugAddress);

// Classifies a command line the way gopls' own flag parsing would read it. `exePath` is the
// target of /proc/PID/exe (may be empty when unreadable); either it or argv[0] naming `gopls`
// makes the process a gopls.
GoplsInvocation classifyGoplsCommand(const std::vector<std::string>& argv,
                                     std::string_view exePath);

struct GoplsProcess {
  pid_t pid = 0;
  GoplsInvocation invocation;
  std::string exe;               // without " (deleted)"; empty when the link is unreadable
  std::string workingDirectory;  // empty when the link is unreadable
};

// Reads one process's cmdline, exe and cwd and classifies it. A process that is gone is an
// error (ENOENT/ESRCH); links another user's process hides (EACCES) are left empty.
Result<GoplsProcess> inspectGoplsProcess(const SysRoots& roots, pid_t pid);

// Every gopls process (any role but NotGopls), in /proc order. Processes that vanish during the
// scan are skipped; only an unreadable /proc is an error.
Result<std::vector<GoplsProcess>> findGoplsProcesses(const SysRoots& roots);

}  // namespace wslgo
