// ProfileStore: the heap profiles saved before a restart, kept per workspace within limits.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/cache_trim.h"
#include "lib/result.h"

namespace wslgo {

using SystemTime = std::chrono::system_clock::time_point;

// A saved profile: <root>/<workspace key>/<UTC time>[-N].pb.gz.
struct ProfileFile {
  std::string path;
  std::string workspaceKey;
  SystemTime time;        // from the name, to the second
  unsigned sequence = 0;  // N for the Nth further profile within the same second
  uint64_t bytes = 0;
};

// "20261123T193012Z.pb.gz"; with a sequence of N > 0, "20261123T193012Z-N.pb.gz".
std::string profileFileName(SystemTime time, unsigned sequence);

// The time and sequence of a name profileFileName would produce exactly; nothing for any other
// name, so the store never touches files it did not write.
struct ProfileName {
  SystemTime time;
  unsigned sequence = 0;
};
std::optional<ProfileName> parseProfileFileName(std::string_view name);

// $XDG_STATE_HOME/wslgo-guard/profiles, else $HOME/.local/state/wslgo-guard/profiles; relative
// values are ignored as the XDG spec asks. Empty when neither resolves.
std::string defaultProfileRoot(std::string_view xdgStateHome, std::string_view home);

class ProfileStore {
 public:
  // `keepPerWorkspace` newest profiles are kept per workspace, and then at most `maxTotalBytes`
  // of profiles in all (profiles.keep and profiles.max_total in the configuration).
  ProfileStore(std::string root, unsigned keepPerWorkspace, uint64_t maxTotalBytes);

  const std::string& root() const { return root_; }

  // Reserves the path for a new profile of the workspace whose systemd-escaped root
  // (escapeUnitPath in lib/unit_name.h) is `workspaceKey`, named after `now` in UTC. The file
  // is created empty (mode 0600, directories 0700: a heap profile shows source paths and
  // strings), so two profiles within one second get distinct names; the caller writes into it
  // and removes it if the capture fails. A key with '/' or that is "." or ".." is rejected.
  Result<std::string> newProfilePath(std::string_view workspaceKey, SystemTime now);

  // Keeps the newest `keepPerWorkspace` profiles of each workspace, then deletes the oldest
  // across all workspaces until the total is within `maxTotalBytes`; removes workspace
  // directories that leaves empty. Only names parseProfileFileName accepts are touched, never
  // a symlink. A store that does not exist yet holds nothing.
  Result<PruneStats> enforceLimits();

  // The profiles of a workspace, oldest first; none if it has no directory yet.
  Result<std::vector<ProfileFile>> list(std::string_view workspaceKey) const;

 private:
  std::string root_;
  unsigned keepPerWorkspace_;
  uint64_t maxTotalBytes_;
};

}  // namespace wslgo
