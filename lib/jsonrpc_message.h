// JSON-RPC 2.0 as LSP carries it: telling requests, notifications and responses apart, and
// building the messages a relay writes itself.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "lib/result.h"

namespace wslgo {

// LSP's error codes that a relay answers with itself (LSP 3.17, "ErrorCodes").
inline constexpr int kLspInvalidRequest = -32600;
inline constexpr int kLspInternalError = -32603;
inline constexpr int kLspServerNotInitialized = -32002;
inline constexpr int kLspRequestFailed = -32803;
// Clients drop a ContentModified answer silently and ask again when they need to: the answer a
// request lost with its server gets.
inline constexpr int kLspContentModified = -32801;
inline constexpr int kLspRequestCancelled = -32800;

enum class RpcKind { Request, Notification, Response };

struct RpcMessage {
  RpcKind kind = RpcKind::Notification;
  nlohmann::json body;  // the whole message, an object
  std::string method;   // requests and notifications

  const nlohmann::json& id() const { return body["id"]; }
  // Absent params read as null.
  const nlohmann::json& params() const;
};

// Parses one message body. Anything that is not a JSON object with a string "method" or an
// "id" with "result"/"error" is an error: the stream it came from is not speaking LSP. Nesting
// deeper than `maxDepth` is refused before parsing (the parser recurses).
Result<RpcMessage> parseRpcMessage(std::string_view body, size_t maxDepth = 256);

// A string that identifies a request id (numbers and strings never collide): for maps.
std::string rpcIdKey(const nlohmann::json& id);

nlohmann::json rpcRequest(const nlohmann::json& id, std::string_view method, nlohmann::json params);
nlohmann::json rpcNotification(std::string_view method, nlohmann::json params);
nlohmann::json rpcResult(const nlohmann::json& id, nlohmann::json result);
nlohmann::json rpcError(const nlohmann::json& id, int code, std::string_view message);

// The wire text of a message. Invalid UTF-8 (a path from the filesystem, say) is replaced, not
// thrown about: nothing a relay writes may fail on the text it carries.
std::string rpcText(const nlohmann::json& message);

}  // namespace wslgo
