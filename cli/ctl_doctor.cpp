#include "cli/ctl_doctor.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "lib/doctor_facts.h"
#include "lib/doctor_judge.h"
#include "lib/doctor_render.h"
#include "lib/file_path.h"
#include "lib/text_lines.h"

extern char** environ;

namespace wslgo::ctl {
namespace {

// A command run to its end within a time limit: its stdout and whether it exited 0.
struct CommandOutput {
  bool exitedZero = false;
  std::string out;
};

// Runs argv[0] (an absolute path, or a name searched in PATH) with stdin from /dev/null and
// stderr discarded. A command still running at `limit` is killed: a hung `systemctl --user`
// must not hang doctor.
std::optional<CommandOutput> runCommand(const std::vector<std::string>& argv,
                                        std::chrono::milliseconds limit) {
  int pipeFds[2];
  if (::pipe2(pipeFds, O_CLOEXEC) != 0) return std::nullopt;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, pipeFds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int spawned = ::posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(pipeFds[1]);
  if (spawned != 0) {
    ::close(pipeFds[0]);
    return std::nullopt;
  }
  CommandOutput result;
  const auto deadline = std::chrono::steady_clock::now() + limit;
  bool timedOut = false;
  std::array<char, 4096> buffer{};
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timedOut = true;
      break;
    }
    pollfd fd{.fd = pipeFds[0], .events = POLLIN, .revents = 0};
    const int ready = ::poll(&fd, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) {
      timedOut = ready == 0;
      break;
    }
    const ssize_t got = ::read(pipeFds[0], buffer.data(), buffer.size());
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    if (result.out.size() < (1U << 20)) result.out.append(buffer.data(), static_cast<size_t>(got));
  }
  ::close(pipeFds[0]);
  if (timedOut) ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exitedZero = !timedOut && WIFEXITED(status) && WEXITSTATUS(status) == 0;
  return result;
}

// `systemctl --user is-system-running` prints the manager's state when it reaches one (and
// exits non-zero for "degraded", which is still a manager); "offline" or nothing when not.
bool userManagerReachable() {
  auto output = runCommand({"systemctl", "--user", "is-system-running"}, std::chrono::seconds(5));
  if (!output) return false;
  const std::string_view state = trimWhitespace(output->out);
  for (std::string_view reachable :
       {"initializing", "starting", "running", "degraded", "maintenance", "stopping"}) {
    if (state == reachable) return true;
  }
  return false;
}

bool isExecutableFile(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode) &&
         ::access(path.c_str(), X_OK) == 0;
}

FoundGopls describeGopls(const std::string& path) {
  FoundGopls found{.path = path, .versionOutput = {}};
  if (auto output = runCommand({path, "version"}, std::chrono::seconds(10))) {
    found.versionOutput = output->out;
  }
  return found;
}

// The gopls a wslgo-gopls@ unit would run without `gopls.path` in the configuration, in the
// launcher's order: $GOPLS, ~/go/bin/gopls, then PATH.
std::optional<FoundGopls> findGopls(const std::map<std::string, std::string>& environment) {
  auto variable = [&environment](const char* name) {
    auto found = environment.find(name);
    return found == environment.end() ? std::string() : found->second;
  };
  const std::string fromVariable = variable("GOPLS");
  if (isAbsolutePath(fromVariable) && isExecutableFile(fromVariable)) {
    return describeGopls(fromVariable);
  }
  const std::string home = variable("HOME");
  if (isAbsolutePath(home)) {
    const std::string inGoBin = joinPath(home, "go/bin/gopls");
    if (isExecutableFile(inGoBin)) return describeGopls(inGoBin);
  }
  const std::string pathVariable =
      environment.contains("PATH") ? variable("PATH") : std::string("/usr/bin:/bin");
  std::string_view rest = pathVariable;
  while (true) {
    const size_t colon = rest.find(':');
    const std::string_view dir = rest.substr(0, colon);
    if (isAbsolutePath(dir)) {
      const std::string candidate = joinPath(dir, "gopls");
      if (isExecutableFile(candidate)) return describeGopls(candidate);
    }
    if (colon == std::string_view::npos) return std::nullopt;
    rest.remove_prefix(colon + 1);
  }
}

struct DoctorOptions {
  bool json = false;
  DoctorRoots roots;
};

}  // namespace

void addDoctorCommand(CLI::App& app, Run& run, std::function<Result<std::string>()> guardStatus) {
  auto options = std::make_shared<DoctorOptions>();
  CLI::App* command = app.add_subcommand(
      "doctor",
      "Check what wslgo-guard needs here (WSL, a systemd user manager, memory, swap, cgroups, the "
      "clock, gopls) and what it can do for each workspace: PASS / WARN / FAIL lines, each with "
      "a fix (SKIP: nothing here to check it against). Exit 0 when nothing failed, 1 when a check "
      "failed (warnings do not count); a guard that is not running is a warning.");
  command->add_flag("--json", options->json, "One JSON object (checks and a summary)");
  command->add_option("--proc", options->roots.sys.proc, "Where /proc is (for tests)")
      ->capture_default_str();
  command->add_option("--sys", options->roots.sys.sys, "Where /sys is (for tests)")
      ->capture_default_str();
  command->add_option("--etc", options->roots.etc, "Where the distro's /etc is (for tests)")
      ->capture_default_str();
  command->callback([&run, options, guardStatus = std::move(guardStatus)] {
    const std::map<std::string, std::string>& environment = run.host.environment;
    DoctorProbe probe;
    probe.userManagerReachable = userManagerReachable();
    probe.gopls = findGopls(environment);
    probe.realtimeSeconds = static_cast<int64_t>(run.host.realtimeUsec() / 1'000'000);
    probe.guardStatus =
        guardStatus
            ? guardStatus()
            : Result<std::string>(Error{.code = 0, .path = {}, .message = "no guard client"});
    const DoctorFacts facts = gatherDoctorFacts(options->roots, environment, std::move(probe));
    const std::vector<DoctorCheck> checks = judge(facts);
    run.output.out << (options->json ? renderDoctorJson(checks)
                                     : renderDoctorText(checks, run.output.colour));
    run.exitCode = anyFailed(checks) ? ExitCode::Failure : ExitCode::Ok;
  });
}

}  // namespace wslgo::ctl
