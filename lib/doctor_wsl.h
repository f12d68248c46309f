// Doctor's reading of WSL: which WSL a kernel release is, and the INI files that configure it
// (/etc/wsl.conf in the distro, %UserProfile%\.wslconfig on the Windows side).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace wslgo {

enum class WslKind {
  NotWsl,
  Wsl1,  // the translation layer: no real Linux kernel, no cgroups, no systemd
  Wsl2,  // a real Linux kernel in a lightweight VM
};

std::string_view toString(WslKind kind);  // "not WSL", "WSL 1", "WSL 2"

// What says whether this is WSL and which.
struct WslSigns {
  std::string osRelease = {};   // /proc/sys/kernel/osrelease, trimmed
  bool interop = false;         // /proc/sys/fs/binfmt_misc/WSLInterop exists
  std::string distroName = {};  // $WSL_DISTRO_NAME; empty when unset
};

// The rule: WSL when the release names Microsoft or WSL, or WSL's interop handler is
// registered, or $WSL_DISTRO_NAME is set. WSL 1 reports the release of its emulated kernel,
// "4.4.0-<Windows build>-Microsoft" (always 4.4), and WSL 2 ships kernels from 4.19 on
// ("5.15.153.1-microsoft-standard-WSL2", older "4.19.104-microsoft-standard"); a custom WSL 2
// kernel may name neither, but only WSL 2 can run one. So: "WSL2" or "microsoft-standard" in
// the release, or a kernel 4.19 or later, is WSL 2; a 4.4 "-Microsoft" release is WSL 1.
WslKind classifyWsl(const WslSigns& signs);

// The value of `key` in `[section]` of an INI text as WSL reads it (wsl.conf, .wslconfig):
// sections and keys case-insensitive, "#" and ";" start comments, spaces around "=" and the
// value trimmed, surrounding double quotes dropped. The last assignment wins. nullopt when the
// key is not set in that section.
std::optional<std::string> iniValue(std::string_view text, std::string_view section,
                                    std::string_view key);

// True for "true" (any case), "1", "yes" and "on": what WSL accepts as true in wsl.conf.
bool iniTrue(std::string_view value);

}  // namespace wslgo
