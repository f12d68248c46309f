#include "lib/doctor_judge.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>

#include "lib/config_values.h"
#include "lib/gopls_build.h"
#include "lib/policy_format.h"

namespace wslgo {
namespace {

constexpr std::string_view kWslConfig = "%UserProfile%\\.wslconfig";
constexpr std::string_view kShutdown = "then `wsl --shutdown` from Windows";
constexpr std::string_view kInstallGopls =
    "go install golang.org/x/tools/gopls@latest (Go 1.24+; it lands in ~/go/bin, which the "
    "guard's units try before PATH)";
constexpr std::string_view kNoMemoryThresholdFlag =
    "gopls has no -memory-threshold flag, whatever some posts say: GOMEMLIMIT and the guard's "
    "lines bound it";

std::string bytes(uint64_t value) { return describeBytes(static_cast<double>(value)); }

bool isWsl(const DoctorFacts& facts) { return facts.wslKind != WslKind::NotWsl; }

DoctorCheck check(Verdict verdict, std::string name, std::string message, std::string fix) {
  return {.name = std::move(name),
          .workspace = {},
          .verdict = verdict,
          .message = std::move(message),
          .fix = std::move(fix)};
}
DoctorCheck pass(std::string name, std::string message) {
  return check(Verdict::Pass, std::move(name), std::move(message), {});
}
DoctorCheck warn(std::string name, std::string message, std::string fix) {
  return check(Verdict::Warn, std::move(name), std::move(message), std::move(fix));
}
DoctorCheck fail(std::string name, std::string message, std::string fix) {
  return check(Verdict::Fail, std::move(name), std::move(message), std::move(fix));
}

// " (it says KEY=VALUE)" when .wslconfig was read and sets the key, else "".
std::string wslConfigSays(const DoctorFacts& facts, std::string_view section,
                          std::string_view key) {
  if (!facts.wslConfig) return {};
  auto value = iniValue(*facts.wslConfig, section, key);
  if (!value) return " (" + facts.wslConfigPath + " does not set " + std::string(key) + ")";
  return " (" + facts.wslConfigPath + " says " + std::string(key) + "=" + *value + ")";
}

DoctorCheck checkWsl(const DoctorFacts& facts) {
  const std::string release =
      facts.wsl.osRelease.empty() ? std::string("unknown release") : facts.wsl.osRelease;
  switch (facts.wslKind) {
    case WslKind::NotWsl:
      return pass("wsl", "not WSL: Linux " + release);
    case WslKind::Wsl2: {
      std::string message = "WSL 2, kernel " + release;
      if (!facts.wsl.distroName.empty()) message += ", distro " + facts.wsl.distroName;
      return pass("wsl", message);
    }
    case WslKind::Wsl1: {
      const std::string distro =
          facts.wsl.distroName.empty() ? std::string("<distro>") : facts.wsl.distroName;
      return fail("wsl",
                  "WSL 1 (kernel release " + release +
                      "): no real Linux kernel, so no cgroups and no systemd; the guard needs "
                      "WSL 2",
                  "from Windows: `wsl --set-version " + distro + " 2`, then open the distro again");
    }
  }
  return pass("wsl", release);
}

DoctorCheck checkUserManager(const DoctorFacts& facts) {
  if (facts.userManagerReachable) {
    return pass("user-manager", "a systemd user manager is reachable (systemctl --user)");
  }
  const std::string message =
      "no systemd user manager is reachable: wslgo-guard runs as a user service and cannot run";
  if (facts.wslKind == WslKind::Wsl1) {
    return fail("user-manager", message + " (WSL 1 has no systemd)",
                "convert the distro to WSL 2 first (see wsl)");
  }
  if (isWsl(facts)) {
    const bool enabled = facts.wslConf && iniValue(*facts.wslConf, "boot", "systemd") &&
                         iniTrue(*iniValue(*facts.wslConf, "boot", "systemd"));
    if (enabled) {
      return fail("user-manager",
                  message + "; " + facts.wslConfPath +
                      " already has systemd=true under [boot], so the distro has not been "
                      "restarted since it was set (or this shell is not a login session)",
                  "run `wsl --shutdown` from Windows and open the distro again");
    }
    const std::string where = facts.wslConf
                                  ? facts.wslConfPath + " has no systemd=true under [boot]"
                                  : facts.wslConfPath + " does not exist";
    return fail("user-manager", message + "; " + where,
                "add `[boot]` and `systemd=true` to " + facts.wslConfPath + " (as root), " +
                    std::string(kShutdown));
  }
  return fail("user-manager", message,
              "log in through a session that starts `systemd --user` (a normal login on a systemd "
              "machine does; containers usually do not), or `loginctl enable-linger $USER`");
}

DoctorCheck checkGuard(const DoctorFacts& facts) {
  if (facts.guard) {
    const GuardStatus& status = *facts.guard;
    return pass("guard", "wslgo-guard " + status.version + " is running, state " + status.state +
                             ", " + std::to_string(status.workspaces.size()) +
                             " workspace(s) guarded");
  }
  const std::string start = "systemctl --user enable --now wslgo-guard";
  return warn(
      "guard",
      "wslgo-guard is not running (or not reachable), so the per-workspace checks are skipped: " +
          facts.guard.error().describe(),
      facts.userManagerReachable ? start
                                 : "get a user manager first (see user-manager), then " + start);
}

DoctorCheck checkMemory(const DoctorFacts& facts) {
  if (!facts.meminfo) {
    return warn("memory", "could not read MemTotal: " + facts.meminfo.error().describe(),
                "check that /proc is mounted");
  }
  const uint64_t total = facts.meminfo->memTotal;
  if (total >= kDoctorWantedMemory / 10 * 9) {
    return pass("memory", "MemTotal " + bytes(total) +
                              (isWsl(facts) ? " (the WSL VM's limit)" : std::string()));
  }
  const std::string message = "MemTotal " + bytes(total) + " is less than the " +
                              bytes(kDoctorWantedMemory) +
                              " gopls on a large module, the editor and go build want together";
  if (isWsl(facts)) {
    return warn("memory", message + wslConfigSays(facts, "wsl2", "memory"),
                "raise the VM's limit: `memory=8GB` (or more) under `[wsl2]` in " +
                    std::string(kWslConfig) + ", " + std::string(kShutdown));
  }
  return warn("memory", message,
              "guard fewer workspaces at once, or lower `workspaces.default.memory` lines in "
              "~/.config/wslgo-guard/config.json so the guard acts earlier");
}

DoctorCheck checkMemoryReclaim(const DoctorFacts& facts) {
  const std::string fix = "put `autoMemoryReclaim=gradual` under `[experimental]` in " +
                          std::string(kWslConfig) + ", " + std::string(kShutdown);
  if (!facts.wslConfig) {
    return warn("memory-reclaim",
                "could not read " + std::string(kWslConfig) +
                    " from here ($USERPROFILE is not a Linux path; `WSLENV=USERPROFILE/p` passes "
                    "it): without autoMemoryReclaim the VM keeps memory gopls freed from Windows",
                "if it is not there yet, " + fix);
  }
  auto value = iniValue(*facts.wslConfig, "experimental", "autoMemoryReclaim");
  if (value && (*value == "gradual" || *value == "dropcache" || *value == "dropCache")) {
    return pass("memory-reclaim", facts.wslConfigPath + " sets autoMemoryReclaim=" + *value +
                                      ": the VM gives freed memory back to Windows");
  }
  return warn("memory-reclaim",
              facts.wslConfigPath +
                  (value ? " sets autoMemoryReclaim=" + *value
                         : std::string(" does not set autoMemoryReclaim")) +
                  ": the VM keeps memory gopls freed from Windows",
              fix);
}

DoctorCheck checkSwap(const DoctorFacts& facts) {
  if (!facts.meminfo) {
    return warn("swap", "could not read SwapTotal: " + facts.meminfo.error().describe(),
                "check that /proc is mounted");
  }
  if (facts.meminfo->swapTotal > 0) {
    return pass("swap", "SwapTotal " + bytes(facts.meminfo->swapTotal));
  }
  const std::string message = "no swap: a burst of gopls memory goes straight to the OOM killer";
  if (isWsl(facts)) {
    return warn("swap", message + wslConfigSays(facts, "wsl2", "swap"),
                "set `swap=4GB` under `[wsl2]` in " + std::string(kWslConfig) + ", " +
                    std::string(kShutdown));
  }
  return warn("swap", message,
              "add a swapfile: `sudo fallocate -l 4G /swapfile && sudo chmod 600 /swapfile && "
              "sudo mkswap /swapfile && sudo swapon /swapfile`, and a line for it in /etc/fstab");
}

DoctorCheck checkCgroups(const DoctorFacts& facts) {
  if (!facts.cgroupLayout) {
    return warn("cgroups",
                "could not read the cgroup layout: " + facts.cgroupLayout.error().describe(),
                "check that /proc is mounted");
  }
  const std::string toV2 =
      isWsl(facts) ? "use cgroup v2 only: `kernelCommandLine = cgroup_no_v1=all` under `[wsl2]` "
                     "in " +
                         std::string(kWslConfig) + ", " + std::string(kShutdown)
                   : "boot with `systemd.unified_cgroup_hierarchy=1` on the kernel command line "
                     "(cgroup v2 only)";
  switch (facts.cgroupLayout->kind) {
    case CgroupLayoutKind::PureV2:
      return pass("cgroups",
                  "cgroup v2 only: memory.high, memory.reclaim (trim) and the weights can work "
                  "where the user manager is delegated the controllers");
    case CgroupLayoutKind::Hybrid:
      return warn("cgroups",
                  "hybrid layout (v1 controllers, cgroup2 without them): no memory.high and no "
                  "memory.reclaim for the trim rung, and a normal user's units get no v1 "
                  "controllers, so memory_max and the weights do nothing for them",
                  toV2);
    case CgroupLayoutKind::V1Only:
      return warn("cgroups", "cgroup v1 only: no memory.high, no memory.reclaim, no PSI per unit",
                  toV2);
    case CgroupLayoutKind::None:
      return warn("cgroups",
                  "no cgroup filesystem mounted: the guard judges each gopls by its summed RSS "
                  "and no resource control works",
                  toV2);
  }
  return pass("cgroups", std::string(toString(facts.cgroupLayout->kind)));
}

DoctorCheck checkClock(const DoctorFacts& facts) {
  if (!facts.rtcSeconds) {
    return check(Verdict::Skip, "clock",
                 "not checked: no readable hardware clock (/sys/class/rtc/rtc0/since_epoch) to "
                 "compare the system clock with",
                 {});
  }
  const int64_t skew = facts.realtimeSeconds - *facts.rtcSeconds;
  const int64_t magnitude = skew < 0 ? -skew : skew;
  if (magnitude <= kDoctorClockSkewSeconds) {
    return pass("clock", "the system clock is within " + std::to_string(kDoctorClockSkewSeconds) +
                             " s of the hardware clock");
  }
  return warn("clock",
              "the system clock is " + formatDuration(std::chrono::seconds(magnitude)) + " " +
                  (skew < 0 ? "behind" : "ahead of") +
                  " the hardware clock (after the host slept, WSL's clock lags): timestamps, "
                  "cooldowns and go's build cache suffer",
              "sudo hwclock -s");
}

// What a gopls version means for memory, or nothing when it is current.
std::optional<std::string> oldGoplsProblem(std::string_view version) {
  if (version == "master") {
    return std::string(
        "reports version master: Debian's package, from the 0.5.0 era, uses several times the "
        "memory of v0.12+ on a large module and has no file cache and no gopls.mem_stats");
  }
  auto release = parseGoplsRelease(version);
  if (release && *release < GoplsRelease{.major = 0, .minor = 12, .patch = 0}) {
    return std::string(version) +
           " is older than v0.12: it uses several times the memory of v0.12+ on a large module "
           "and has no file cache and no gopls.mem_stats";
  }
  return std::nullopt;
}

DoctorCheck checkFoundGopls(const DoctorFacts& facts) {
  if (!facts.gopls) {
    return warn("gopls", "no gopls in $GOPLS, ~/go/bin or on PATH, where the guard's units look",
                std::string(kInstallGopls));
  }
  const std::string& path = facts.gopls->path;
  if (facts.goplsVersion.empty()) {
    return warn("gopls", path + ": `gopls version` named no version",
                "run `" + path + " version` to see why; or " + std::string(kInstallGopls));
  }
  if (auto problem = oldGoplsProblem(facts.goplsVersion)) {
    return warn("gopls", path + " " + *problem + "; " + std::string(kNoMemoryThresholdFlag),
                std::string(kInstallGopls));
  }
  if (!parseGoplsRelease(facts.goplsVersion)) {
    return pass("gopls", path + " is a " + facts.goplsVersion +
                             " build: the guard asks it what it offers (GetStatus' gopls)");
  }
  return pass("gopls", path + " " + facts.goplsVersion +
                           ": file cache and gopls.mem_stats (v0.12+); the /gc page the guard "
                           "probes per workspace");
}

bool isUnderDir(std::string_view path, std::string_view dir) {
  if (dir == "/") return true;
  return path.substr(0, dir.size()) == dir &&
         (path.size() == dir.size() || path[dir.size()] == '/');
}

DoctorCheck checkLocation(const DoctorFacts& facts, const StatusWorkspace& w) {
  const MountEntry* best = nullptr;
  for (const MountEntry& mount : facts.mounts) {
    if (isUnderDir(w.path, mount.mountPoint) &&
        (best == nullptr || mount.mountPoint.size() >= best->mountPoint.size())) {
      best = &mount;
    }
  }
  const bool windowsFs = best != nullptr && (best->fsType == "9p" || best->fsType == "drvfs" ||
                                             best->fsType == "v9fs" || best->fsType == "virtiofs");
  // Without a mount table, /mnt/<drive letter>/ is where WSL mounts Windows drives.
  const bool driveLetterPath = w.path.size() >= 6 && w.path.starts_with("/mnt/") &&
                               std::isalpha(static_cast<unsigned char>(w.path[5])) &&
                               (w.path.size() == 6 || w.path[6] == '/');
  if (windowsFs || (best == nullptr && driveLetterPath)) {
    const std::string fs =
        best != nullptr ? best->fsType + " at " + best->mountPoint : std::string("a Windows drive");
    const std::string name = w.path.substr(w.path.find_last_of('/') + 1);
    return warn("location",
                "on " + fs +
                    ": every file gopls reads crosses to Windows, which makes loading "
                    "slow and gopls heavy",
                "move the module into the Linux filesystem (e.g. `cp -a " + w.path + " ~/src/" +
                    name + "`) and guard it there");
  }
  return pass("location", best != nullptr ? "on " + best->fsType + " (" + best->mountPoint + ")"
                                          : std::string("in the Linux filesystem"));
}

std::string describeControl(const StatusControl& control) {
  std::string value;
  if (control.name.starts_with("memory")) {
    value = bytes(*control.value);
  } else {
    value = std::to_string(*control.value);
  }
  return control.name + " " + value + (control.enforced ? " enforced" : " NOT enforced");
}

DoctorCheck checkControls(const StatusWorkspace& w) {
  std::vector<std::string> parts;
  std::vector<std::string> problems;
  if (w.memorySource == "cgroup-v2" || w.memorySource == "cgroup-v1") {
    parts.push_back("memory from " + w.memorySource);
  } else {
    const std::string source = w.memorySource.empty() ? std::string("none") : w.memorySource;
    parts.push_back("memory from " + source);
    problems.push_back(source == "process-rss"
                           ? "no per-unit memory figure: the guard sums its processes' RSS"
                           : "no memory figure for the unit yet");
  }
  for (const StatusRung& rung : w.rungs) {
    if (rung.available) {
      parts.push_back(rung.name + " rung can work");
    } else {
      parts.push_back(rung.name + " rung cannot work");
      problems.push_back(rung.name + ": " + (rung.why.empty() ? "unavailable" : rung.why));
    }
  }
  // The OOM preference is a property of the process: it works on every host, for every user.
  if (w.oomScoreAdjConfigured) {
    const std::string configured = std::to_string(*w.oomScoreAdjConfigured);
    if (!w.oomScoreAdjEffective) {
      parts.push_back("oom_score_adj " + configured + " (gopls not running)");
    } else if (*w.oomScoreAdjEffective == *w.oomScoreAdjConfigured) {
      parts.push_back("oom_score_adj " + configured + " in effect");
    } else {
      parts.push_back("oom_score_adj " + configured + " configured, " +
                      std::to_string(*w.oomScoreAdjEffective) + " in effect");
      problems.push_back("oom_score_adj: gopls runs with " +
                         std::to_string(*w.oomScoreAdjEffective) + ", not the configured " +
                         configured + "; it applies from the unit's next start");
    }
  }
  for (const StatusControl& control : w.controls) {
    if (!control.value) continue;
    parts.push_back(describeControl(control));
    if (!control.enforced) {
      problems.push_back(control.name + ": " +
                         (control.why.empty() ? "not enforced" : control.why));
    }
  }
  std::string message;
  for (const std::string& part : parts) message += (message.empty() ? "" : ", ") + part;
  if (problems.empty()) return pass("controls", message);
  for (const std::string& problem : problems) message += "; " + problem;
  return warn("controls", message,
              "see docs/configuration.md \"Resource controls: what works where\"; on a hybrid or "
              "v1 host, cgroup v2 only (see cgroups) makes them work");
}

DoctorCheck checkWorkspaceGopls(const StatusWorkspace& w) {
  if (!w.gopls) {
    return warn("gopls",
                "the guard has not found out which gopls serves it yet (state " + w.state +
                    "): it is starting, or not running",
                "journalctl --user -u '" + w.unit + "'");
  }
  const StatusGopls& g = *w.gopls;
  if (auto problem = oldGoplsProblem(g.version)) {
    return warn("gopls", "its gopls " + *problem,
                std::string(kInstallGopls) + ", then restart the unit: systemctl --user restart '" +
                    w.unit + "'");
  }
  std::string message = g.version + ": ";
  message += g.gcPage ? "the /gc page" : "GC through /debug/pprof/heap?gc=1 (no /gc page)";
  message += !g.memStats ? ", gopls.mem_stats unknown"
                         : (*g.memStats ? ", gopls.mem_stats" : ", no gopls.mem_stats");
  message += g.fileCache.empty() ? ", no file cache" : ", file cache " + g.fileCache;
  return pass("gopls", message);
}

DoctorCheck checkGomemlimit(const StatusWorkspace& w) {
  if (w.gomemlimit) return pass("gomemlimit", "GOMEMLIMIT " + bytes(*w.gomemlimit));
  return warn("gomemlimit",
              "no GOMEMLIMIT: Go's GC does not work harder as gopls nears the guard's lines (" +
                  std::string(kNoMemoryThresholdFlag) + ")",
              "set `workspaces.default.memory.high` (GOMEMLIMIT becomes 90 % of it) or "
              "`workspaces.default.gomemlimit` in ~/.config/wslgo-guard/config.json, then "
              "`systemctl --user reload wslgo-guard`");
}

DoctorCheck checkDebugAddress(const StatusWorkspace& w) {
  if (w.debugAddress.empty()) {
    return pass("debug-port",
                "no debug server (gopls.debug_server is off, or gopls is not running)");
  }
  if (w.debugAddress.starts_with("127.0.0.1:") || w.debugAddress.starts_with("[::1]:") ||
      w.debugAddress.starts_with("localhost:")) {
    return pass("debug-port", "debug server on loopback only (" + w.debugAddress + ")");
  }
  return fail("debug-port",
              "gopls' debug server listens on " + w.debugAddress +
                  ", beyond loopback: whoever reaches it can read heap profiles and source names",
              "set `gopls.debug_server` to false in ~/.config/wslgo-guard/config.json and "
              "`systemctl --user restart '" +
                  w.unit + "'` (and report it: the guard binds 127.0.0.1)");
}

void addWorkspaceChecks(const DoctorFacts& facts, const StatusWorkspace& w,
                        std::vector<DoctorCheck>& out) {
  for (DoctorCheck check : {checkLocation(facts, w), checkControls(w), checkWorkspaceGopls(w),
                            checkGomemlimit(w), checkDebugAddress(w)}) {
    check.workspace = w.path;
    out.push_back(std::move(check));
  }
}

}  // namespace

std::string_view toString(Verdict verdict) {
  switch (verdict) {
    case Verdict::Pass:
      return "PASS";
    case Verdict::Warn:
      return "WARN";
    case Verdict::Fail:
      return "FAIL";
    case Verdict::Skip:
      return "SKIP";
  }
  return "FAIL";
}

std::vector<DoctorCheck> judge(const DoctorFacts& facts) {
  std::vector<DoctorCheck> out;
  out.push_back(checkWsl(facts));
  out.push_back(checkUserManager(facts));
  out.push_back(checkGuard(facts));
  out.push_back(checkMemory(facts));
  if (facts.wslKind == WslKind::Wsl2) out.push_back(checkMemoryReclaim(facts));
  out.push_back(checkSwap(facts));
  out.push_back(checkCgroups(facts));
  out.push_back(checkClock(facts));
  out.push_back(checkFoundGopls(facts));
  if (facts.guard) {
    if (facts.guard->workspaces.empty()) {
      out.push_back(warn("workspaces", "the guard guards no workspace yet",
                         "`wslgo-guardctl add DIR` guards a Go module; an editor set up by "
                         "`wslgo-guardctl editor-config` adds the modules it opens"));
    }
    for (const StatusWorkspace& w : facts.guard->workspaces) addWorkspaceChecks(facts, w, out);
  }
  return out;
}

bool anyFailed(const std::vector<DoctorCheck>& checks) {
  return std::any_of(checks.begin(), checks.end(),
                     [](const DoctorCheck& check) { return check.verdict == Verdict::Fail; });
}

}  // namespace wslgo
