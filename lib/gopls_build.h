// GoplsBuild: which gopls a debug server belongs to, read from its /info page, and what that
// version is known to offer.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "lib/result.h"

namespace wslgo {

struct GoplsBuild {
  std::string version;    // "v0.23.0"; Debian's package says "master", a local build "(devel)"
  std::string goVersion;  // the Go it was built with, "go1.26.8"; empty on pages without it
};

// A release version "vMAJOR.MINOR.PATCH" (a pre-release suffix is kept out of the numbers).
struct GoplsRelease {
  unsigned major = 0;
  unsigned minor = 0;
  unsigned patch = 0;

  auto operator<=>(const GoplsRelease&) const = default;
};

// The "Build info" block of gopls' /info debug page: its first line is
// "golang.org/x/tools/gopls VERSION", a later one "go: GOVERSION". Every gopls since 2020 serves
// it; a page without the block is an error naming what was missing.
Result<GoplsBuild> parseGoplsInfoPage(std::string_view html);

// Nothing for "master", "(devel)" or anything else that is not a release: such a build's
// features must be probed, not inferred.
std::optional<GoplsRelease> parseGoplsRelease(std::string_view version);

// gopls v0.12.0 (2023) introduced the persistent file cache under GOPLSCACHE or the user cache
// directory. Unknown for builds that are not releases.
std::optional<bool> releaseHasFileCache(std::string_view version);

}  // namespace wslgo
