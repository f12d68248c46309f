#include <catch2/catch.hpp>

#include "lib/doctor_wsl.h"

namespace wslgo {

TEST_CASE("doctor: a WSL 2 kernel release is WSL 2, old and new naming alike", "[doctor]") {
  CHECK(classifyWsl({.osRelease = "5.15.153.1-microsoft-standard-WSL2"}) == WslKind::Wsl2);
  CHECK(classifyWsl({.osRelease = "6.6.87.2-microsoft-standard-WSL2"}) == WslKind::Wsl2);
  CHECK(classifyWsl({.osRelease = "4.19.104-microsoft-standard"}) == WslKind::Wsl2);
}

TEST_CASE("doctor: WSL 1's emulated 4.4 release with Microsoft is WSL 1", "[doctor]") {
  CHECK(classifyWsl({.osRelease = "4.4.0-19041-Microsoft"}) == WslKind::Wsl1);
  CHECK(classifyWsl(
            {.osRelease = "4.4.0-22621-Microsoft", .interop = true, .distroName = "Ubuntu"}) ==
        WslKind::Wsl1);
}

TEST_CASE("doctor: a custom WSL 2 kernel is told by the interop handler or the distro name",
          "[doctor]") {
  CHECK(classifyWsl({.osRelease = "6.18.0-custom", .interop = true}) == WslKind::Wsl2);
  CHECK(classifyWsl({.osRelease = "6.18.0-custom", .interop = false, .distroName = "Debian"}) ==
        WslKind::Wsl2);
}

TEST_CASE("doctor: a plain Linux release without WSL's signs is not WSL", "[doctor]") {
  CHECK(classifyWsl({.osRelease = "6.1.0-28-amd64"}) == WslKind::NotWsl);
  CHECK(classifyWsl({.osRelease = ""}) == WslKind::NotWsl);
}

TEST_CASE("doctor: wsl.conf values are found by section and key, ignoring case and comments",
          "[doctor]") {
  const std::string text =
      "# comment\n[automount]\nenabled=true\n\n[Boot]\n  Systemd = \"true\"  ; mine\n"
      "[wsl2]\nmemory=4GB\n";
  CHECK(iniValue(text, "boot", "systemd") == "true");
  CHECK(iniValue(text, "wsl2", "memory") == "4GB");
  CHECK_FALSE(iniValue(text, "boot", "command"));
  CHECK_FALSE(iniValue(text, "automount", "systemd"));
  CHECK(iniValue("[boot]\nsystemd=false\nsystemd=true\n", "boot", "systemd") == "true");
  CHECK_FALSE(iniValue("systemd=true\n", "boot", "systemd"));
}

TEST_CASE("doctor: WSL's true values are true, anything else false", "[doctor]") {
  CHECK(iniTrue("true"));
  CHECK(iniTrue("True"));
  CHECK(iniTrue("1"));
  CHECK_FALSE(iniTrue("false"));
  CHECK_FALSE(iniTrue(""));
}

}  // namespace wslgo
