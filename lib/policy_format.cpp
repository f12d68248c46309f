#include "lib/policy_format.h"

#include <cmath>
#include <cstdio>

namespace wslgo {
namespace {

std::string printed(const char* format, const char* sign, double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, format, sign, value);
  return buffer;
}

}  // namespace

std::string describeBytes(double bytes) {
  const char* sign = bytes < 0 ? "-" : "";
  double magnitude = std::fabs(bytes);
  constexpr double kKiB = 1024, kMiB = kKiB * 1024, kGiB = kMiB * 1024;
  if (magnitude >= kGiB) return printed("%s%.2f GiB", sign, magnitude / kGiB);
  if (magnitude >= kMiB) return printed("%s%.1f MiB", sign, magnitude / kMiB);
  if (magnitude >= kKiB) return printed("%s%.0f KiB", sign, magnitude / kKiB);
  return printed("%s%.0f B", sign, magnitude);
}

std::string describePercent(double percent) { return printed("%s%.1f%%", "", percent); }

}  // namespace wslgo
