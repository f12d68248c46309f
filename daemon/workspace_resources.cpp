#include "daemon/workspace_resources.h"

#include <charconv>
#include <filesystem>

#include "lib/kept_file.h"
#include "lib/text_lines.h"

namespace wslgo {
namespace {

bool exists(const std::optional<std::string>& dir, const char* file) {
  std::error_code ignored;
  return dir && std::filesystem::exists(*dir + "/" + file, ignored);
}

std::optional<std::string> v1DirOf(const CgroupLayout& layout, std::string_view controller,
                                   std::string_view controlGroup, const SysRoots& roots) {
  const CgroupMount* mount = layout.v1Controller(controller);
  if (mount == nullptr) return std::nullopt;
  return cgroupDirIn(*mount, controlGroup, roots);
}

ControlEnforcement enforced() { return {.enforced = true, .why = ""}; }

ControlEnforcement notEnforced(std::string why) {
  return {.enforced = false, .why = std::move(why)};
}

}  // namespace

ResourceControls resourceControlsFor(const WorkspaceSettings& settings) {
  return ResourceControls{.memoryHigh = settings.memoryHigh,
                          .memoryMax = settings.memoryMax,
                          .cpuWeight = settings.cpuWeight,
                          .ioWeight = settings.ioWeight};
}

ResourceEnforcement judgeEnforcement(const CgroupLayout& layout, std::string_view controlGroup,
                                     const SysRoots& roots) {
  const CgroupDirs dirs = cgroupDirsFor(layout, controlGroup, roots);
  const std::optional<std::string> cpuV1 = v1DirOf(layout, "cpu", controlGroup, roots);
  const std::optional<std::string> blkioV1 = v1DirOf(layout, "blkio", controlGroup, roots);
  ResourceEnforcement out;

  const bool memoryV2 = exists(dirs.unified, "memory.max");
  out.memoryHigh = exists(dirs.unified, "memory.high")
                       ? enforced()
                       : notEnforced(
                             "the unit has no cgroup v2 memory controller here (hybrid or v1 "
                             "cgroups): MemoryHigh= is set but has no effect");
  if (memoryV2 || exists(dirs.memoryV1, "memory.limit_in_bytes")) {
    out.memoryMax = enforced();
  } else {
    out.memoryMax = notEnforced(
        "the unit has no memory controller of its own (no memory.max on cgroup v2, no "
        "memory.limit_in_bytes on v1; a normal user on a hybrid host gets none): MemoryMax= is "
        "set but has no effect");
  }
  if (exists(dirs.unified, "cpu.weight") || exists(cpuV1, "cpu.shares")) {
    out.cpuWeight = enforced();
  } else {
    out.cpuWeight = notEnforced(
        "the unit has no cpu controller of its own (no cpu.weight on cgroup v2, no cpu.shares on "
        "v1; a normal user on a hybrid host gets none): CPUWeight= has no effect");
  }
  // On v1 systemd writes IOWeight= as blkio.weight (CFQ's file). A kernel with BFQ alone has
  // blkio.bfq.weight instead, which it leaves alone: seen on this project's hybrid VM, where a
  // unit with IOWeight=30 kept blkio.bfq.weight 104.
  if (exists(dirs.unified, "io.weight") || exists(dirs.unified, "io.bfq.weight") ||
      exists(blkioV1, "blkio.weight")) {
    out.ioWeight = enforced();
  } else if (exists(blkioV1, "blkio.bfq.weight")) {
    out.ioWeight = notEnforced(
        "the unit's v1 blkio cgroup has only blkio.bfq.weight, and systemd writes IOWeight= on "
        "cgroup v1 as blkio.weight: IOWeight= has no effect");
  } else {
    out.ioWeight = notEnforced(
        "the unit has no io controller with weights of its own (no io.weight on cgroup v2, no "
        "blkio.weight on v1; a normal user on a hybrid host gets none): IOWeight= has no effect");
  }

  if (exists(dirs.unified, "memory.events")) {
    out.oomKillCounter = *dirs.unified + "/memory.events";
    out.systemdSeesOomKills = true;
  } else if (exists(dirs.memoryV1, "memory.oom_control")) {
    out.oomKillCounter = *dirs.memoryV1 + "/memory.oom_control";
  }
  return out;
}

std::optional<uint64_t> parseOomKillCount(std::string_view text) {
  std::optional<uint64_t> count;
  forEachLine(text, [&](std::string_view line) {
    constexpr std::string_view kKey = "oom_kill ";
    if (line.substr(0, kKey.size()) != kKey) return;
    std::string_view digits = trimWhitespace(line.substr(kKey.size()));
    uint64_t value = 0;
    auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (error == std::errc() && end == digits.data() + digits.size()) count = value;
  });
  return count;
}

std::optional<uint64_t> readOomKillCount(const std::string& counterFile) {
  std::string buffer;
  auto text = readFileInto(counterFile, buffer);
  if (!text) return std::nullopt;
  return parseOomKillCount(*text);
}

std::optional<int> readOomScoreAdj(const SysRoots& roots, pid_t pid) {
  std::string buffer;
  auto text = readFileInto(roots.procPath(std::to_string(pid) + "/oom_score_adj"), buffer);
  if (!text) return std::nullopt;
  std::string_view digits = trimWhitespace(*text);
  int value = 0;
  auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (error != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  return value;
}

}  // namespace wslgo
