#include "lib/policy_snapshot.h"

#include <array>
#include <utility>

namespace wslgo {
namespace {

constexpr std::array<std::pair<UnitState, std::string_view>, 7> kUnitStateNames{{
    {UnitState::Active, "active"},
    {UnitState::Activating, "activating"},
    {UnitState::Deactivating, "deactivating"},
    {UnitState::Reloading, "reloading"},
    {UnitState::Inactive, "inactive"},
    {UnitState::Failed, "failed"},
    {UnitState::Unknown, "unknown"},
}};

}  // namespace

std::string_view toString(UnitState state) {
  for (const auto& [value, name] : kUnitStateNames) {
    if (value == state) return name;
  }
  return "unknown";
}

std::optional<UnitState> parseUnitState(std::string_view text) {
  for (const auto& [value, name] : kUnitStateNames) {
    if (name == text) return value;
  }
  return std::nullopt;
}

SystemSnapshot systemSnapshotFrom(const Meminfo& meminfo, const std::optional<Pressure>& memory) {
  SystemSnapshot system;
  system.memTotal = meminfo.memTotal;
  system.memAvailable = meminfo.memAvailable;
  if (memory) {
    system.pressureSomeAvg10 = memory->some.avg10;
    if (memory->full) system.pressureFullAvg10 = memory->full->avg10;
  }
  return system;
}

}  // namespace wslgo
