// The guard's state directory full, then read-only (issue 13's fault list), on a real filesystem: a
// tmpfs of a few KiB mounted in a mount namespace of the test's own. Saving the state and writing a
// heap profile fail with a message naming the file and the full disk; the old state file stays
// whole; the guard goes on, and works again once there is room; nothing outside its own
// directories changes.
#include <sched.h>
#include <sys/mount.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include "lib/workspace_registry.h"
#include "tests/integration/support/guard_scenario.h"

namespace wslgo::test {
namespace {

// Writes zeros to `path` until the filesystem holding it is full.
void fillUp(const std::string& path) {
  std::ofstream filler(path, std::ios::binary);
  const std::string block(4096, '\0');
  while (filler.write(block.data(), static_cast<std::streamsize>(block.size())) && filler.flush()) {
  }
}

}  // namespace

TEST_CASE("a full or read-only state directory costs an add or a profile, never the state file",
          "[guard][abuse]") {
  WSLGO_SKIP_WITHOUT_GOPLS();
  // A mount namespace of this test process alone: the tmpfs is seen by the guard it starts and
  // by nothing else on the machine.
  if (::unshare(CLONE_NEWNS) != 0 ||
      ::mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    WSLGO_SKIP_LIVE_TEST(
        "cannot make a private mount namespace (unshare -m needs root or "
        "CAP_SYS_ADMIN): "
        << std::strerror(errno));
  }
  WSLGO_START_PRIVATE_BUS(bus);
  Scenario s(std::move(bus));
  const std::string stateDir = s.home.stateDir();
  REQUIRE(::mount("tmpfs", stateDir.c_str(), "tmpfs", 0, "size=512k,mode=0700") == 0);
  s.start(kFastConfig);

  const std::string first = s.home.makeModule("first");
  const std::string second = s.home.makeModule("second");
  const std::string third = s.home.makeModule("third");
  const TreeSnapshot outside = homeOutsideGuard(s.home);
  addWorkspace(s, first);
  const std::string statePath = stateDir + "/wslgo-guard/state.json";
  const std::string before = readFile(statePath);
  REQUIRE(parseRegistry(before).ok());

  const std::string filler = stateDir + "/filler";
  fillUp(filler);

  // A new workspace cannot be recorded: refused, saying why, and not half-added.
  const std::string refused = errorOf([&] { addWorkspace(s, second); });
  CHECK_THAT(refused, Catch::Contains("state.json") && Catch::Contains("No space left"));
  CHECK(readFile(statePath) == before);
  CHECK(s.guard->running());

  // A heap profile cannot be written: the same, and no partial file is left behind.
  sdbus::ObjectPath object;
  s.manager->callMethod("GetWorkspace")
      .onInterface(kManager)
      .withArguments(first)
      .storeResultsTo(object);
  auto workspace = s.workspaceProxy(object);
  REQUIRE(waitUntil([&] { return workspaceProperty<uint64_t>(*workspace, "HeapInUse") > 0; }));
  const std::string noProfile = errorOf([&] {
    std::string path;
    workspace->callMethod("CaptureHeapProfile").onInterface(kWorkspace).storeResultsTo(path);
  });
  CHECK_THAT(noProfile, Catch::Contains("No space left"));
  const std::string profiles = stateDir + "/wslgo-guard/profiles";
  if (std::filesystem::exists(profiles)) {
    for (const auto& entry : std::filesystem::recursive_directory_iterator(profiles)) {
      CHECK_FALSE(entry.is_regular_file());  // only (empty) directories
    }
  }
  CHECK(s.guard->running());
  CHECK(managerProperty<std::vector<sdbus::ObjectPath>>(s, "Workspaces").size() == 1);

  // Room again: both work, and the state file records the new workspace.
  std::filesystem::remove(filler);
  addWorkspace(s, second);
  auto registry = parseRegistry(readFile(statePath));
  REQUIRE(registry.ok());
  CHECK(registry->workspaces.size() == 2);
  std::string profile;
  workspace->callMethod("CaptureHeapProfile").onInterface(kWorkspace).storeResultsTo(profile);
  CHECK(std::filesystem::file_size(profile) > 0);

  // Unwritable: the same filesystem read-only (root writes through any file mode, not through
  // this). The state stays as it was; a remove, already done in memory, says it could not save.
  const std::string saved = readFile(statePath);
  REQUIRE(::mount(nullptr, stateDir.c_str(), nullptr, MS_REMOUNT | MS_RDONLY, nullptr) == 0);
  CHECK_THAT(errorOf([&] { addWorkspace(s, third); }),
             Catch::Contains("state.json") && Catch::Contains("Read-only file system"));
  CHECK(readFile(statePath) == saved);
  CHECK(s.guard->running());
  REQUIRE(::mount(nullptr, stateDir.c_str(), nullptr, MS_REMOUNT, nullptr) == 0);
  addWorkspace(s, third);
  CHECK(parseRegistry(readFile(statePath))->workspaces.size() == 3);
  CHECK(treeChanges(outside, homeOutsideGuard(s.home)) == "");

  s.guard.reset();  // stops it while the tmpfs is still there
  s.systemd.reset();
  ::umount2(stateDir.c_str(), MNT_DETACH);
}

}  // namespace wslgo::test
