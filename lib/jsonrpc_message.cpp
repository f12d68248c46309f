#include "lib/jsonrpc_message.h"

#include "lib/json_nesting.h"

namespace wslgo {

const nlohmann::json& RpcMessage::params() const {
  static const nlohmann::json kNull;
  auto found = body.find("params");
  return found == body.end() ? kNull : *found;
}

Result<RpcMessage> parseRpcMessage(std::string_view body, size_t maxDepth) {
  if (!jsonNestingWithin(body, maxDepth)) {
    return parseError("LSP message", "nested deeper than " + std::to_string(maxDepth) + " levels");
  }
  RpcMessage message;
  message.body = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (message.body.is_discarded() || !message.body.is_object()) {
    return parseError("LSP message", "not a JSON object");
  }
  auto method = message.body.find("method");
  auto id = message.body.find("id");
  bool hasId = id != message.body.end() && (id->is_number_integer() || id->is_string());
  if (id != message.body.end() && !hasId && !id->is_null()) {
    return parseError("LSP message",
                      "an id that is neither a number nor a string: " + id->dump().substr(0, 80));
  }
  if (method != message.body.end()) {
    if (!method->is_string()) return parseError("LSP message", "a method that is not a string");
    message.method = method->get<std::string>();
    message.kind = hasId ? RpcKind::Request : RpcKind::Notification;
    return message;
  }
  if (hasId && (message.body.contains("result") || message.body.contains("error"))) {
    message.kind = RpcKind::Response;
    return message;
  }
  return parseError("LSP message", "neither a request, a notification nor a response");
}

std::string rpcIdKey(const nlohmann::json& id) { return id.dump(); }

nlohmann::json rpcRequest(const nlohmann::json& id, std::string_view method,
                          nlohmann::json params) {
  return {{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", std::move(params)}};
}

nlohmann::json rpcNotification(std::string_view method, nlohmann::json params) {
  return {{"jsonrpc", "2.0"}, {"method", method}, {"params", std::move(params)}};
}

nlohmann::json rpcResult(const nlohmann::json& id, nlohmann::json result) {
  return {{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(result)}};
}

nlohmann::json rpcError(const nlohmann::json& id, int code, std::string_view message) {
  return {{"jsonrpc", "2.0"}, {"id", id}, {"error", {{"code", code}, {"message", message}}}};
}

std::string rpcText(const nlohmann::json& message) {
  return message.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace wslgo
