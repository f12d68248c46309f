// The workspace registry: the daemon's persistent list of workspaces, as JSON in its state file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "lib/result.h"

namespace wslgo {

// What the daemon needs to bring a workspace back after a restart.
struct WorkspaceRecord {
  std::string path;                            // canonical workspace root
  std::string unit;                            // its systemd unit, "wslgo-gopls@….service"
  std::string socket;                          // gopls' unix socket
  uint64_t addedUsec = 0;                      // when AddWorkspace added it, CLOCK_REALTIME µs
  std::map<std::string, std::string> options;  // as AddWorkspace was given them

  bool operator==(const WorkspaceRecord&) const = default;
};

inline constexpr int kRegistrySchemaVersion = 1;

// The most workspaces the guard guards at once: each costs a unit, a gopls, a sample history
// and a bus object. AddWorkspace beyond it is refused; a state file with more is loaded up to it.
inline constexpr size_t kMaxWorkspaces = 256;

struct Registry {
  int schemaVersion = kRegistrySchemaVersion;
  std::vector<WorkspaceRecord> workspaces;

  bool operator==(const Registry&) const = default;
};

// Parses the state file. Strict, like the configuration: an unknown key, a wrong type, a port
// outside 1..65535, a relative path or the same path twice is an error naming its JSON pointer
// ("/workspaces/2/debug_port"), so a hand edit gone wrong is caught rather than half-applied. A
// schema_version other than 1 is an error saying what to do, and so is a file over
// kMaxSettingsBytes or nested deeper than kMaxSettingsNesting (the bounds readSettingsFile holds
// every settings file to; checked here too, since the text may come from elsewhere). Each
// record's unit is derived from its path, whatever the file says. Never throws.
Result<Registry> parseRegistry(std::string_view json);

// Pretty JSON ending in a newline, workspaces sorted by path and keys in a fixed order, so the
// same registry always gives the same bytes. Never throws: bytes that are not UTF-8 (which D-Bus
// strings cannot carry in the first place) are written as U+FFFD.
std::string serializeRegistry(const Registry& registry);

}  // namespace wslgo
