#include "lib/doctor_facts.h"

#include <sys/stat.h>

#include <charconv>

#include "lib/file_path.h"
#include "lib/kept_file.h"
#include "lib/text_lines.h"

namespace wslgo {
namespace {

std::optional<std::string> readWhole(const std::string& path) {
  std::string buffer;
  auto text = readFileInto(path, buffer);
  if (!text) return std::nullopt;
  return std::string(*text);
}

bool exists(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0;
}

std::string lookup(const std::map<std::string, std::string>& environment, const char* name) {
  auto found = environment.find(name);
  return found == environment.end() ? std::string() : found->second;
}

std::optional<int64_t> parseSeconds(std::string_view text) {
  text = trimWhitespace(text);
  int64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || text.empty()) {
    return std::nullopt;
  }
  return value;
}

}  // namespace

std::string parseGoplsVersionOutput(std::string_view output) {
  constexpr std::string_view kModule = "golang.org/x/tools/gopls ";
  for (const TextLine& raw : TextLines(output)) {
    std::string_view line = trimWhitespace(raw.text);
    if (!line.starts_with(kModule)) continue;
    std::string_view version = trimWhitespace(line.substr(kModule.size()));
    return std::string(version.substr(0, version.find_first_of(" \t")));
  }
  return {};
}

DoctorFacts gatherDoctorFacts(const DoctorRoots& roots,
                              const std::map<std::string, std::string>& environment,
                              DoctorProbe probe) {
  DoctorFacts facts;
  if (auto release = readWhole(roots.sys.procPath("sys/kernel/osrelease"))) {
    facts.wsl.osRelease = std::string(trimWhitespace(*release));
  }
  facts.wsl.interop = exists(roots.sys.procPath("sys/fs/binfmt_misc/WSLInterop"));
  facts.wsl.distroName = lookup(environment, "WSL_DISTRO_NAME");
  facts.wslKind = classifyWsl(facts.wsl);

  facts.wslConfPath = joinPath(roots.etc, "wsl.conf");
  facts.wslConf = readWhole(facts.wslConfPath);
  const std::string userProfile = lookup(environment, "USERPROFILE");
  if (isAbsolutePath(userProfile)) {
    facts.wslConfigPath = joinPath(userProfile, ".wslconfig");
    facts.wslConfig = readWhole(facts.wslConfigPath);
  }

  facts.userManagerReachable = probe.userManagerReachable;
  facts.meminfo = readMeminfo(roots.sys);
  facts.cgroupLayout = readCgroupLayout(roots.sys);
  if (auto mounts = readMountinfo(roots.sys)) facts.mounts = std::move(*mounts);

  if (auto rtc = readWhole(roots.sys.sysPath("class/rtc/rtc0/since_epoch"))) {
    facts.rtcSeconds = parseSeconds(*rtc);
  }
  facts.realtimeSeconds = probe.realtimeSeconds;

  facts.gopls = std::move(probe.gopls);
  if (facts.gopls) facts.goplsVersion = parseGoplsVersionOutput(facts.gopls->versionOutput);

  if (probe.guardStatus) {
    facts.guard = parseGuardStatus(*probe.guardStatus);
  } else {
    facts.guard = probe.guardStatus.error();
  }
  return facts;
}

}  // namespace wslgo
