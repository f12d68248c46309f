// DoctorFacts: everything `wslgo-guardctl doctor` judges, gathered once. Reading them goes over
// configurable roots (the fixture trees in tests); what only the running command can find out
// (a user manager, gopls on PATH, the clock, the guard's status) comes in as DoctorProbe.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "lib/cgroup_hierarchy.h"
#include "lib/doctor_status.h"
#include "lib/doctor_wsl.h"
#include "lib/meminfo.h"
#include "lib/mountinfo.h"
#include "lib/result.h"
#include "lib/sys_roots.h"

namespace wslgo {

// Where doctor reads: /proc and /sys, and the distro's /etc (for wsl.conf).
struct DoctorRoots {
  SysRoots sys;
  std::string etc = "/etc";
};

// A gopls binary and what `gopls version` printed.
struct FoundGopls {
  std::string path;           // absolute
  std::string versionOutput;  // stdout of `gopls version`; empty when it failed
};

// What the command finds out itself, impurely.
struct DoctorProbe {
  bool userManagerReachable = false;
  // The gopls a unit would run: $GOPLS, ~/go/bin/gopls, then PATH; nullopt: none found.
  std::optional<FoundGopls> gopls;
  int64_t realtimeSeconds = 0;  // CLOCK_REALTIME now
  // GetStatus' JSON, or why the guard could not be asked.
  Result<std::string> guardStatus = Error{};
};

struct DoctorFacts {
  WslSigns wsl;
  WslKind wslKind = WslKind::NotWsl;
  // /etc/wsl.conf under the root; nullopt when absent or unreadable.
  std::optional<std::string> wslConf;
  std::string wslConfPath;
  // %UserProfile%\.wslconfig, readable from Linux only when $USERPROFILE is a Linux path
  // (WSLENV=USERPROFILE/p passes it so); nullopt otherwise.
  std::optional<std::string> wslConfig;
  std::string wslConfigPath;  // empty when $USERPROFILE is not a Linux path

  bool userManagerReachable = false;
  Result<Meminfo> meminfo = Error{};
  Result<CgroupLayout> cgroupLayout = Error{};
  std::vector<MountEntry> mounts;  // empty when mountinfo could not be read

  // The hardware clock (roots.sys/class/rtc/rtc0/since_epoch) against the system clock.
  std::optional<int64_t> rtcSeconds;
  int64_t realtimeSeconds = 0;

  std::optional<FoundGopls> gopls;
  std::string goplsVersion;  // parsed from versionOutput: "v0.23.0", "master"; empty: unknown

  Result<GuardStatus> guard = Error{};
};

// The version `gopls version` names on its first line, "golang.org/x/tools/gopls VERSION";
// empty when the output has no such line.
std::string parseGoplsVersionOutput(std::string_view output);

// Reads the files under `roots`, takes $WSL_DISTRO_NAME and $USERPROFILE from `environment`,
// and the rest from `probe`. Never fails: a fact that cannot be read is recorded as such and
// judged so.
DoctorFacts gatherDoctorFacts(const DoctorRoots& roots,
                              const std::map<std::string, std::string>& environment,
                              DoctorProbe probe);

}  // namespace wslgo
