// Fuzzes the cgroup layout read from mountinfo: parseCgroupMounts, classifyCgroupMounts and the
// directories cgroupDirsFor derives for a unit's control group. The input is mountinfo text; its
// first line, when it starts with "/", doubles as the control group.
#include "fuzz/fuzz_check.h"
#include "lib/cgroup_hierarchy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace wslgo;
  std::string_view text = fuzz::asText(data, size);
  std::string_view controlGroup =
      "/user.slice/user-1000.slice/user@1000.service/app.slice/wslgo-gopls@x.service";
  if (!text.empty() && text.front() == '/') controlGroup = text.substr(0, text.find('\n'));
  auto mounts = parseCgroupMounts(text);
  if (!mounts) return 0;
  auto layout = classifyCgroupMounts(*mounts);
  if (layout.kind == CgroupLayoutKind::None) FUZZ_CHECK(!layout.unified && layout.v1.empty());
  SysRoots roots{"/fuzz/proc", "/fuzz/sys"};
  auto dirs = cgroupDirsFor(layout, controlGroup, roots);
  // A control group that climbs out of its hierarchy ("/a/../../etc") gives no directory.
  bool climbs = false;
  for (size_t at = 0; at != std::string_view::npos; at = controlGroup.find('/', at + 1)) {
    std::string_view part = controlGroup.substr(at + 1);
    part = part.substr(0, part.find('/'));
    if (part == "..") climbs = true;
  }
  for (const auto& dir : {dirs.unified, dirs.memoryV1, dirs.systemdV1}) {
    if (dir) FUZZ_CHECK(!climbs);
  }
  return 0;
}
