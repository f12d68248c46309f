#include "lib/cgroup_hierarchy.h"

#include <algorithm>
#include <array>
#include <charconv>

#include "lib/kept_file.h"
#include "lib/text_lines.h"

namespace wslgo {
namespace {

// v1 super options that are not controllers (kernel/cgroup/cgroup-v1.c, cgroup1_parse_param).
constexpr std::array<std::string_view, 9> kV1NonControllerOptions = {
    "rw",    "ro",          "none", "all", "noprefix", "clone_children", "cpuset_v2_mode",
    "xattr", "favordynmods"};

constexpr std::string_view kNamePrefix = "name=";
constexpr std::string_view kDeletedSuffix = " (deleted)";

template <class Fn>
void forEachPart(std::string_view text, char separator, Fn&& fn) {
  while (!text.empty()) {
    size_t end = text.find(separator);
    fn(text.substr(0, end));
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
}

bool startsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

// Matches "memory" against a controller list and "name=systemd" against a hierarchy name.
bool carries(const std::vector<std::string>& controllers, const std::string& name,
             std::string_view controller) {
  if (startsWith(controller, kNamePrefix)) return controller.substr(kNamePrefix.size()) == name;
  return std::find(controllers.begin(), controllers.end(), controller) != controllers.end();
}

CgroupMount toCgroupMount(const MountEntry& entry) {
  CgroupMount mount;
  mount.unified = entry.fsType == "cgroup2";
  mount.mountPoint = entry.mountPoint;
  mount.root = entry.root;
  if (mount.unified) return mount;
  forEachPart(entry.superOptions, ',', [&mount](std::string_view option) {
    if (option.empty() || startsWith(option, "release_agent=")) return;
    if (startsWith(option, kNamePrefix)) {
      mount.name = std::string(option.substr(kNamePrefix.size()));
      return;
    }
    if (std::find(kV1NonControllerOptions.begin(), kV1NonControllerOptions.end(), option) !=
        kV1NonControllerOptions.end()) {
      return;
    }
    mount.controllers.emplace_back(option);
  });
  return mount;
}

// A cgroup path the kernel or systemd would produce: absolute, no "." or ".." components that
// could lead a reader outside the hierarchy.
bool isCleanCgroupPath(std::string_view path) {
  if (path.empty() || path.front() != '/') return false;
  bool clean = true;
  forEachPart(path.substr(1), '/', [&clean](std::string_view part) {
    if (part == "." || part == "..") clean = false;
  });
  return clean;
}

Result<ProcCgroupEntry> parseProcCgroupLine(std::string_view line, size_t lineNumber) {
  auto fail = [lineNumber](const std::string& what) {
    return parseError({}, "line " + std::to_string(lineNumber) + ": " + what);
  };
  size_t first = line.find(':');
  size_t second = first == std::string_view::npos ? first : line.find(':', first + 1);
  if (second == std::string_view::npos) return fail("expected ID:CONTROLLERS:PATH");
  ProcCgroupEntry entry;
  std::string_view id = line.substr(0, first);
  const char* idEnd = id.data() + id.size();
  auto [ptr, ec] = std::from_chars(id.data(), idEnd, entry.hierarchyId);
  if (id.empty() || ec != std::errc() || ptr != idEnd) {
    return fail("hierarchy id must be a number, found '" + std::string(id) + "'");
  }
  forEachPart(line.substr(first + 1, second - first - 1), ',', [&entry](std::string_view part) {
    if (!part.empty()) entry.controllers.emplace_back(part);
  });
  std::string_view path = line.substr(second + 1);
  if (path.size() >= kDeletedSuffix.size() &&
      path.substr(path.size() - kDeletedSuffix.size()) == kDeletedSuffix) {
    entry.deleted = true;
    path.remove_suffix(kDeletedSuffix.size());
  }
  if (path.empty() || path.front() != '/') {
    return fail("cgroup path must be absolute, found '" + std::string(path) + "'");
  }
  entry.path = std::string(path);
  return entry;
}

}  // namespace

bool CgroupMount::has(std::string_view controller) const {
  return !unified && carries(controllers, name, controller);
}

bool ProcCgroupEntry::has(std::string_view controller) const {
  return std::find(controllers.begin(), controllers.end(), controller) != controllers.end();
}

std::string_view toString(CgroupLayoutKind kind) {
  switch (kind) {
    case CgroupLayoutKind::None:
      return "none";
    case CgroupLayoutKind::V1Only:
      return "v1";
    case CgroupLayoutKind::Hybrid:
      return "hybrid";
    case CgroupLayoutKind::PureV2:
      return "v2";
  }
  return "unknown";
}

const CgroupMount* CgroupLayout::v1Controller(std::string_view controller) const {
  for (const CgroupMount& mount : v1) {
    if (mount.has(controller)) return &mount;
  }
  return nullptr;
}

Result<std::vector<CgroupMount>> parseCgroupMounts(std::string_view mountinfo) {
  auto entries = parseMountinfo(mountinfo);
  if (!entries) return entries.error();
  std::vector<CgroupMount> mounts;
  for (const MountEntry& entry : *entries) {
    if (entry.fsType == "cgroup" || entry.fsType == "cgroup2") {
      mounts.push_back(toCgroupMount(entry));
    }
  }
  return mounts;
}

CgroupLayout classifyCgroupMounts(std::vector<CgroupMount> mounts) {
  CgroupLayout layout;
  bool v1Controllers = false;
  for (CgroupMount& mount : mounts) {
    if (mount.unified) {
      if (!layout.unified || (layout.unified->root != "/" && mount.root == "/")) {
        layout.unified = std::move(mount);
      }
      continue;
    }
    v1Controllers = v1Controllers || !mount.controllers.empty();
    layout.v1.push_back(std::move(mount));
  }
  if (layout.unified) {
    layout.kind = v1Controllers ? CgroupLayoutKind::Hybrid : CgroupLayoutKind::PureV2;
  } else if (!layout.v1.empty()) {
    layout.kind = CgroupLayoutKind::V1Only;
  }
  return layout;
}

Result<CgroupLayout> readCgroupLayout(const SysRoots& roots) {
  std::string path = roots.procPath("self/mountinfo");
  std::string buffer;
  auto text = readFileInto(path, buffer);
  if (!text) return text.error();
  auto mounts = parseCgroupMounts(*text);
  if (!mounts) return mounts.error().withPath(path);
  return classifyCgroupMounts(std::move(mounts).value());
}

std::optional<std::string> cgroupDirIn(const CgroupMount& mount, std::string_view cgroupPath,
                                       const SysRoots& roots) {
  if (!isCleanCgroupPath(cgroupPath)) return std::nullopt;
  std::string_view root = mount.root;
  while (root.size() > 1 && root.back() == '/') root.remove_suffix(1);
  std::string_view rest;
  if (root == "/") {
    rest = cgroupPath == "/" ? std::string_view() : cgroupPath;
  } else if (cgroupPath == root) {
    rest = {};
  } else if (startsWith(cgroupPath, root) && cgroupPath[root.size()] == '/') {
    rest = cgroupPath.substr(root.size());
  } else {
    return std::nullopt;
  }
  std::string dir = roots.rebase(mount.mountPoint);
  dir += rest;
  return dir;
}

CgroupDirs cgroupDirsFor(const CgroupLayout& layout, std::string_view controlGroup,
                         const SysRoots& roots) {
  CgroupDirs dirs;
  if (layout.unified) dirs.unified = cgroupDirIn(*layout.unified, controlGroup, roots);
  auto firstVisible = [&](std::string_view controller) -> std::optional<std::string> {
    for (const CgroupMount& mount : layout.v1) {
      if (!mount.has(controller)) continue;
      if (auto dir = cgroupDirIn(mount, controlGroup, roots)) return dir;
    }
    return std::nullopt;
  };
  dirs.memoryV1 = firstVisible("memory");
  dirs.systemdV1 = firstVisible("name=systemd");
  return dirs;
}

Result<std::vector<ProcCgroupEntry>> parseProcCgroup(std::string_view text) {
  std::vector<ProcCgroupEntry> entries;
  for (const TextLine& line : TextLines(text)) {
    if (line.text.empty()) continue;
    auto entry = parseProcCgroupLine(line.text, line.number);
    if (!entry) return entry.error();
    entries.push_back(std::move(entry).value());
  }
  return entries;
}

Result<std::vector<ProcCgroupEntry>> readProcCgroup(const SysRoots& roots, pid_t pid) {
  std::string path = roots.procPath(std::to_string(pid) + "/cgroup");
  std::string buffer;
  auto text = readFileInto(path, buffer);
  if (!text) return text.error();
  auto entries = parseProcCgroup(*text);
  if (!entries) return entries.error().withPath(path);
  return entries;
}

std::optional<std::string> cgroupPathOf(const std::vector<ProcCgroupEntry>& entries,
                                        std::string_view controller) {
  for (const ProcCgroupEntry& entry : entries) {
    if (entry.has(controller)) return entry.path;
  }
  return std::nullopt;
}

std::optional<std::string> controlGroupOf(const std::vector<ProcCgroupEntry>& entries) {
  std::optional<std::string> candidates[3];
  for (const ProcCgroupEntry& entry : entries) {
    if (entry.unified() && !candidates[0]) candidates[0] = entry.path;
  }
  candidates[1] = cgroupPathOf(entries, "name=systemd");
  candidates[2] = cgroupPathOf(entries, "memory");
  for (const auto& candidate : candidates) {
    if (candidate && *candidate != "/") return candidate;
  }
  for (const auto& candidate : candidates) {
    if (candidate) return candidate;
  }
  return std::nullopt;
}

}  // namespace wslgo
