// Fuzzes parseRpcMessage: one JSON-RPC message body from an editor or gopls, as the session
// keeper reads it, and the text the keeper writes back for it.
#include "fuzz/fuzz_check.h"
#include "lib/jsonrpc_message.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace wslgo;
  auto message = parseRpcMessage(fuzz::asText(data, size), 64);
  if (!message) return 0;
  FUZZ_CHECK(message->body.is_object());
  if (message->kind != RpcKind::Notification) (void)rpcIdKey(message->id());
  (void)message->params();
  // What the keeper relays must parse as the same kind of message on the other side.
  auto relayed = parseRpcMessage(rpcText(message->body), 64);
  FUZZ_CHECK(relayed.ok());
  FUZZ_CHECK(relayed->kind == message->kind);
  FUZZ_CHECK(relayed->method == message->method);
  return 0;
}
