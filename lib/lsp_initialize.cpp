#include "lib/lsp_initialize.h"

#include <nlohmann/json.hpp>

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
  auto message = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (message.is_discarded() || !message.is_object()) {
    return parseError("LSP message", "not a JSON object");
  }
  auto idField = message.find("id");
  if (idField == message.end() || !idField->is_number_integer() || idField->get<int>() != id ||
      message.contains("method")) {
    return std::optional<std::vector<std::string>>();
  }
  if (auto error = message.find("error"); error != message.end()) {
    std::string text =
        error->is_object() && error->contains("message") && (*error)["message"].is_string()
            ? (*error)["message"].get<std::string>()
            : error->dump();
    return parseError("LSP initialize", "the server refused: " + text);
  }
  auto result = message.find("result");
  if (result == message.end() || !result->is_object()) {
    return parseError("LSP initialize", "the response has no result object");
  }
  std::vector<std::string> commands;
  const nlohmann::json* provider = nullptr;
  if (auto capabilities = result->find("capabilities");
      capabilities != result->end() && capabilities->is_object()) {
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
