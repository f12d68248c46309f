#include "lib/lsp_initialize.h"

#include <nlohmann/json.hpp>

#include "lib/lsp_answer.h"

namespace wslgo {

std::string lspInitializeRequest(int id) {
  nlohmann::json request{{"jsonrpc", "2.0"},
                         {"id", id},
                         {"method", "initialize"},
                         {"params",
                          {{"processId", nullptr},
                           {"rootUri", nullptr},
                           {"capabilities", nlohmann::json::object()},
                           {"clientInfo", {{"name", "wslgo-guard"}}}}}};
  return request.dump();
}

Result<std::optional<std::vector<std::string>>> parseInitializeCommands(std::string_view body,
                                                                        int id) {
  auto result = lspResultFor(body, id, "LSP initialize");
  if (!result) return result.error();
  if (!*result) return std::optional<std::vector<std::string>>();
  std::vector<std::string> commands;
  const nlohmann::json* provider = nullptr;
  if (auto capabilities = (*result)->find("capabilities");
      capabilities != (*result)->end() && capabilities->is_object()) {
    if (auto found = capabilities->find("executeCommandProvider");
        found != capabilities->end() && found->is_object()) {
      provider = &*found;
    }
  }
  if (provider != nullptr) {
    if (auto list = provider->find("commands"); list != provider->end() && list->is_array()) {
      for (const auto& command : *list) {
        if (command.is_string()) commands.push_back(command.get<std::string>());
      }
    }
  }
  return std::optional<std::vector<std::string>>(std::move(commands));
}

}  // namespace wslgo
