#include "lib/gopls_mem_stats.h"

#include <array>
#include <nlohmann/json.hpp>

#include "lib/lsp_answer.h"
#include <utility>

namespace wslgo {

std::string lspMemStatsRequest(int id) {
  nlohmann::json request{
      {"jsonrpc", "2.0"},
      {"id", id},
      {"method", "workspace/executeCommand"},
      {"params",
       {{"command", std::string(kMemStatsCommand)}, {"arguments", nlohmann::json::array()}}}};
  return request.dump();
}

Result<std::optional<GoplsMemStats>> parseMemStatsAnswer(std::string_view body, int id) {
  auto answer = lspResultFor(body, id, kMemStatsCommand);
  if (!answer) return answer.error();
  if (!*answer) return std::optional<GoplsMemStats>();
  const nlohmann::json& result = **answer;
  GoplsMemStats stats;
  const std::array<std::pair<const char*, uint64_t GoplsMemStats::*>, 3> fields{{
      {"HeapAlloc", &GoplsMemStats::heapAlloc},
      {"HeapInUse", &GoplsMemStats::heapInUse},
      {"TotalAlloc", &GoplsMemStats::totalAlloc},
  }};
  for (const auto& [name, member] : fields) {
    auto value = result.find(name);
    if (value == result.end() || !value->is_number_unsigned()) {
      std::string found = result.dump();
      if (found.size() > 200) found = found.substr(0, 200) + "...";
      return parseError(std::string(kMemStatsCommand),
                        std::string("the result has no unsigned ") + name + ": " + found);
    }
    stats.*member = value->get<uint64_t>();
  }
  return std::optional<GoplsMemStats>(stats);
}

}  // namespace wslgo
