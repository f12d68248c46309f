#include "lib/gopls_process.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <utility>

#include "lib/process.h"

namespace wslgo {
namespace {

constexpr std::string_view kGoplsName = "gopls";
constexpr std::string_view kDeletedSuffix = " (deleted)";

// gopls' flags that take a value (`gopls -h`, `gopls help serve`, and newer releases' profile.*):
// only these may take it from the next argument (`-listen unix;/run/x`). The rest are bools.
constexpr std::array<std::string_view, 16> kValueFlags = {
    "debug",         "listen",        "listen.timeout", "logfile",       "mode",
    "ocagent",       "port",          "profile.alloc",  "profile.block", "profile.cpu",
    "profile.mem",   "profile.trace", "remote",         "remote.debug",  "remote.listen.timeout",
    "remote.logfile"};

std::string_view baseName(std::string_view path) {
  if (path.ends_with(kDeletedSuffix)) path.remove_suffix(kDeletedSuffix.size());
  size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

// What a flag does to the invocation; flags that do not change the role are ignored.
void applyFlag(std::string_view name, std::string_view value, GoplsInvocation& invocation) {
  if (name == "listen") {
    invocation.listen = parseGoplsAddress(value);
  } else if (name == "port") {
    int port = 0;
    auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), port);
    if (ec == std::errc() && ptr == value.data() + value.size() && port != 0) {
      invocation.listen = {GoplsNetwork::Tcp, ":" + std::string(value)};
    }
  } else if (name == "remote") {
    invocation.remote = parseGoplsAddress(value);
  } else if (name == "debug") {
    invocation.debugAddress = std::string(value);
  } else if (name == "logfile") {
    invocation.logfile = std::string(value);
  }
}

enum class FlagsEnd { Arguments, Help, Rejected };

// Parses flags from argv[next] on, as Go's flag package does: `-name`, `--name`, `-name=value`,
// `-name value` for flags that take one; parsing stops at `--` or the first argument that is
// not a flag. Leaves `next` at that argument.
FlagsEnd parseFlags(const std::vector<std::string>& argv, size_t& next,
                    GoplsInvocation& invocation) {
  while (next < argv.size()) {
    std::string_view arg = argv[next];
    if (arg.size() < 2 || arg[0] != '-') return FlagsEnd::Arguments;
    ++next;
    if (arg == "--") return FlagsEnd::Arguments;
    std::string_view name = arg.substr(arg[1] == '-' ? 2 : 1);
    if (name.empty() || name[0] == '-' || name[0] == '=') return FlagsEnd::Rejected;
    std::string_view value;
    size_t equals = name.find('=');
    if (equals != std::string_view::npos) {
      value = name.substr(equals + 1);
      name = name.substr(0, equals);
    } else if (name == "h" || name == "help") {
      return FlagsEnd::Help;
    } else if (std::find(kValueFlags.begin(), kValueFlags.end(), name) != kValueFlags.end()) {
      if (next == argv.size()) return FlagsEnd::Rejected;
      value = argv[next++];
    } else {
      // A bool, or a flag newer than this list: gopls versions add flags, and guessing that it
      // takes the next argument could swallow the subcommand. Reading it as a bool keeps a
      // live server a server.
      continue;
    }
    applyFlag(name, value, invocation);
  }
  return FlagsEnd::Arguments;
}

}  // namespace

std::string_view toString(GoplsRole role) {
  switch (role) {
    case GoplsRole::NotGopls:
      return "not-gopls";
    case GoplsRole::Daemon:
      return "daemon";
    case GoplsRole::Forwarder:
      return "forwarder";
    case GoplsRole::Editor:
      return "editor";
    case GoplsRole::Tool:
      return "tool";
  }
  return "unknown";
}

GoplsAddress parseGoplsAddress(std::string_view value) {
  if (value.empty()) return {};
  if (value == "auto") return {GoplsNetwork::Auto, {}};
  size_t semicolon = value.find(';');
  if (semicolon == std::string_view::npos) return {GoplsNetwork::Tcp, std::string(value)};
  std::string_view network = value.substr(0, semicolon);
  std::string address(value.substr(semicolon + 1));
  if (network == "unix") return {GoplsNetwork::Unix, std::move(address)};
  if (network == "tcp" || network == "tcp4" || network == "tcp6") {
    return {GoplsNetwork::Tcp, std::move(address)};
  }
  if (network == "auto") return {GoplsNetwork::Auto, std::move(address)};
  return {GoplsNetwork::Other, std::string(value)};
}

GoplsInvocation classifyGoplsCommand(const std::vector<std::string>& argv,
                                     std::string_view exePath) {
  GoplsInvocation invocation;
  bool named = (!argv.empty() && baseName(argv.front()) == kGoplsName) ||
               (!exePath.empty() && baseName(exePath) == kGoplsName);
  // An empty argv is a kernel thread or a zombie: nothing runs there any more.
  if (!named || argv.empty()) return invocation;

  size_t next = 1;
  FlagsEnd end = parseFlags(argv, next, invocation);
  if (end == FlagsEnd::Arguments && next < argv.size()) {
    invocation.subcommand = argv[next++];
    if (invocation.subcommand == "serve") end = parseFlags(argv, next, invocation);
  }
  if (end == FlagsEnd::Help && invocation.subcommand.empty()) invocation.subcommand = "help";

  // gopls prints usage and exits on -h or a command line it rejects.
  if (end != FlagsEnd::Arguments ||
      (!invocation.subcommand.empty() && invocation.subcommand != "serve")) {
    invocation.role = GoplsRole::Tool;
  } else if (invocation.remote.isSet()) {
    // With -remote gopls forwards even when it also listens.
    invocation.role = GoplsRole::Forwarder;
  } else if (invocation.listen.isSet()) {
    invocation.role = GoplsRole::Daemon;
  } else {
    invocation.role = GoplsRole::Editor;
  }
  return invocation;
}

Result<GoplsProcess> inspectGoplsProcess(const SysRoots& roots, pid_t pid) {
  auto argv = readCmdline(roots, pid);
  if (!argv) return argv.error();
  GoplsProcess process;
  process.pid = pid;
  // exe and cwd are unreadable for another user's process (EACCES) and for kernel threads and
  // zombies (ENOENT); only a process that vanished entirely is an error.
  auto exe = readExe(roots, pid);
  if (exe) {
    process.exe = std::move(*exe);
  } else if (exe.error().code == ESRCH) {
    return exe.error();
  }
  process.invocation = classifyGoplsCommand(*argv, process.exe);
  if (process.invocation.role == GoplsRole::NotGopls) return process;
  auto cwd = readCwd(roots, pid);
  if (cwd) {
    process.workingDirectory = std::move(*cwd);
  } else if (cwd.error().code != EACCES) {
    // A gopls whose cmdline we just read has a cwd; failing now means it exited.
    return cwd.error();
  }
  return process;
}

Result<std::vector<GoplsProcess>> findGoplsProcesses(const SysRoots& roots) {
  auto pids = listPids(roots);
  if (!pids) return pids.error();
  std::vector<GoplsProcess> found;
  for (pid_t pid : *pids) {
    auto process = inspectGoplsProcess(roots, pid);
    if (process && process->invocation.role != GoplsRole::NotGopls) {
      found.push_back(std::move(*process));
    }
  }
  return found;
}

std::optional<uint16_t> loopbackDebugPort(std::string_view debugAddress) {
  const size_t colon = debugAddress.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  const std::string_view host = debugAddress.substr(0, colon);
  if (!host.empty() && host != "127.0.0.1" && host != "localhost") return std::nullopt;
  const std::string_view digits = debugAddress.substr(colon + 1);
  unsigned port = 0;
  auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
  if (error != std::errc() || end != digits.data() + digits.size() || port == 0 || port > 65535) {
    return std::nullopt;
  }
  return static_cast<uint16_t>(port);
}

}  // namespace wslgo
