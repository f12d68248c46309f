// wslgo-gopls-launch WORKSPACE: starts gopls for one workspace as its unit's main process.
//   ExecStart=.../wslgo-gopls-launch /%I
//   ExecStopPost=.../wslgo-gopls-launch --cleanup /%I
#include <fcntl.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "daemon/loopback_port.h"
#include "lib/atomic_file.h"
#include "lib/gopls_launch.h"
#include "lib/kept_file.h"
#include "lib/unit_environment.h"
#include "lib/workspace_path.h"

namespace {

// EX_CONFIG: the unit's RestartPreventExitStatus= names it, so a refusal that no restart can fix
// (a wrong instance, no gopls) fails once instead of looping until the start limit.
constexpr int kExitRefused = EX_CONFIG;

int fail(const std::string& message) {
  std::fprintf(stderr, "wslgo-gopls-launch: %s\n", message.c_str());
  return kExitRefused;
}

std::string envOr(const char* name, const std::string& fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && value[0] != '\0' ? value : fallback;
}

bool isExecutable(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

// Removes `path` only if it is a socket: a workspace's socket path must never cost a file.
void removeStaleSocket(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) ::unlink(path.c_str());
}

// oom_score_adjust for gopls, which inherits it across exec. Raising it needs no privilege;
// lowering it below what the manager gave the unit does (CAP_SYS_RESOURCE). A refusal is said
// in the journal and gopls starts anyway: a wrong OOM preference is no reason to leave the
// editor without gopls.
void adjustOomScore(int value) {
  const std::string text = std::to_string(value);
  const int fd = ::open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
  const bool written =
      fd >= 0 && ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  const int error = errno;
  if (fd >= 0) ::close(fd);
  if (written) return;
  std::fprintf(stderr,
               "wslgo-gopls-launch: cannot set oom_score_adj to %d: %s; gopls keeps the unit's "
               "(lowering it needs privilege: raise workspaces.*.oom_score_adjust, or set "
               "OOMScoreAdjust= in a drop-in for the unit)\n",
               value, std::strerror(error));
}

// Everything but the free port, which only a start needs. The guard's environment file for the
// workspace is read when there is one; a file that is there but unreadable or malformed is an
// error, since the guard's settings would silently be lost.
wslgo::Result<wslgo::LaunchInputs> inputsFor(const std::string& root) {
  wslgo::LaunchInputs inputs;
  inputs.workspace = root;
  inputs.home = envOr("HOME", "");
  inputs.runtimeDir = envOr("XDG_RUNTIME_DIR", "");
  inputs.getenv = [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    return value != nullptr ? std::optional<std::string>(value) : std::nullopt;
  };
  inputs.isExecutable = isExecutable;
  auto file = wslgo::unitEnvironmentFile(
      envOr("XDG_STATE_HOME", inputs.home + "/.local/state") + "/wslgo-guard", root);
  if (!file) return file.error();
  const std::string& envFile = *file;
  std::string buffer;
  if (auto text = wslgo::readFileInto(envFile, buffer)) {
    auto parsed = wslgo::parseUnitEnvironment(*text);
    if (!parsed) {
      return wslgo::errnoError(
          EINVAL, envFile,
          parsed.error().describe() +
              "; wslgo-guard rewrites it when it starts the unit, or delete it");
    }
    inputs.unitEnvironment = std::move(*parsed);
  } else if (text.error().code != ENOENT) {
    return text.error();
  }
  return inputs;
}

// ExecStopPost=: gopls leaves its socket behind. Best effort and always successful, even for a
// workspace that is gone or a gopls that was uninstalled, so a stop never fails over it.
int cleanup(const std::string& workspace) {
  auto root = wslgo::resolveWorkspaceRoot(workspace, /*allowNonModule=*/true);
  auto inputs = inputsFor(root ? *root : workspace);
  if (!inputs) return 0;
  if (auto socket = wslgo::launchSocket(*inputs)) removeStaleSocket(*socket);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Starts gopls for one workspace as the main process of its wslgo-gopls@ unit: listening on "
      "a unix socket (gopls -remote=unix;SOCKET) with a debug server on a loopback port picked "
      "afresh at every start (none when WSLGO_DEBUG_SERVER=0). Settings come "
      "from the environment file wslgo-guard writes, "
      "$XDG_STATE_HOME/wslgo-guard/units/<systemd-escape --path WORKSPACE>.env; without one the "
      "guard's default socket path is used. gopls is WSLGO_GOPLS from that file, "
      "else $GOPLS, ~/go/bin/gopls, then PATH. Exits 78 (EX_CONFIG) when it refuses to start."};
  std::string workspace;
  bool cleanupOnly = false;
  app.add_option("WORKSPACE", workspace, "the workspace root (the unit passes /%I)")->required();
  app.add_flag("--cleanup", cleanupOnly,
               "remove the workspace's socket after gopls stopped and exit");
  CLI11_PARSE(app, argc, argv);
  if (cleanupOnly) return cleanup(workspace);

  auto root = wslgo::resolveWorkspaceRoot(workspace, /*allowNonModule=*/true);
  if (!root) {
    return fail(root.error().describe() +
                "; the unit's instance must be `systemd-escape --path` of an existing directory, "
                "e.g. wslgo-gopls@$(systemd-escape --path ~/src/app).service");
  }
  auto inputs = inputsFor(*root);
  if (!inputs) return fail(inputs.error().describe());
  if (auto wanted = wslgo::debugServerWanted(inputs->unitEnvironment); wanted && *wanted) {
    if (auto port = wslgo::pickLoopbackPort()) inputs->freePort = *port;
  }
  auto launch = wslgo::planGoplsLaunch(*inputs);
  if (!launch) return fail(launch.error().describe());
  auto oomScoreAdjust = wslgo::oomScoreAdjustFrom(inputs->unitEnvironment);
  if (!oomScoreAdjust) return fail(oomScoreAdjust.error().describe());
  if (*oomScoreAdjust) adjustOomScore(**oomScoreAdjust);

  const std::string socketDir = launch->socket.substr(0, launch->socket.rfind('/'));
  if (auto made = wslgo::makeDirectories(socketDir, 0700); !made) {
    return fail(made.error().describe());
  }
  removeStaleSocket(launch->socket);  // gopls leaves it behind, and would then fail to listen
  for (const auto& [key, value] : launch->environment) ::setenv(key.c_str(), value.c_str(), 1);
  if (::chdir(root->c_str()) != 0) return fail(*root + ": cannot enter: " + std::strerror(errno));
  std::fprintf(stderr, "wslgo-gopls-launch: %s in %s, socket %s, debug server %s\n",
               launch->gopls.c_str(), root->c_str(), launch->socket.c_str(),
               launch->debugAddress.empty() ? "off (gopls.debug_server is false)"
                                            : launch->debugAddress.c_str());
  std::fflush(stderr);

  std::vector<char*> args;
  for (std::string& arg : launch->argv) args.push_back(arg.data());
  args.push_back(nullptr);
  ::execv(launch->gopls.c_str(), args.data());
  return fail(launch->gopls + ": cannot run: " + std::strerror(errno));
}
