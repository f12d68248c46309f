#include "lib/lsp_answer.h"

#include <string>

namespace wslgo {

Result<std::optional<nlohmann::json>> lspResultFor(std::string_view body, int id,
                                                   std::string_view what) {
  auto message = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (message.is_discarded() || !message.is_object()) {
    return parseError("LSP message", "not a JSON object");
  }
  auto idField = message.find("id");
  if (idField == message.end() || !idField->is_number_integer() || idField->get<int>() != id ||
      message.contains("method")) {
    return std::optional<nlohmann::json>();
  }
  if (auto error = message.find("error"); error != message.end()) {
    std::string text =
        error->is_object() && error->contains("message") && (*error)["message"].is_string()
            ? (*error)["message"].get<std::string>()
            : error->dump();
    return parseError(std::string(what), "the server refused: " + text);
  }
  auto result = message.find("result");
  if (result == message.end() || !result->is_object()) {
    return parseError(std::string(what), "the response has no result object");
  }
  return std::optional<nlohmann::json>(std::move(*result));
}

}  // namespace wslgo
