// GoplsDebugClient: GoplsDebug over HTTP — GC, heap figures and heap profiles from gopls' debug
// server.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "daemon/gopls_debug.h"
#include "daemon/http_client.h"
#include "daemon/lsp_probe.h"
#include "lib/heap_stats.h"
#include "lib/result.h"

namespace wslgo {

// True when gopls' /memory page offers the "Run garbage collector" form that posts to /gc.
// Asking /gc itself cannot tell: older gopls answer every unknown path with their main page
// (status 200), and a gopls that has /gc would collect garbage just to be asked.
bool memoryPageOffersGc(std::string_view html);

// One gopls debug server ("127.0.0.1:PORT"). Callbacks run on the HttpClient's loop. Destroying
// this client while requests are in flight is safe: their callbacks are dropped (the HttpClient
// still finishes the requests, and a profile being saved is removed, not kept half-written).
// Asks the gopls behind the client which LSP commands it offers (probeLspCommands on its socket).
using LspCommandsAsk = std::function<void(Usec timeout, LspCommandsDone done)>;

// probeLspCommands on `socket`, run on `loop`.
LspCommandsAsk lspCommandsOn(EventLoop& loop, std::string socket);

class GoplsDebugClient final : public GoplsDebug {
 public:
  // Without `askCommands`, detect() leaves memStats unset.
  GoplsDebugClient(HttpClient& http, std::string debugAddress, LspCommandsAsk askCommands = {});
  GoplsDebugClient(const GoplsDebugClient&) = delete;
  GoplsDebugClient& operator=(const GoplsDebugClient&) = delete;

  const std::string& debugAddress() const override { return address_; }
  const std::optional<GoplsDebugFeatures>& features() const override { return features_; }

  // Reads /memory (is there a /gc form?), /info (which gopls?), checks that the heap figures
  // parse, then asks the socket for its LSP commands (is gopls.mem_stats there?).
  void detect(std::function<void(Result<GoplsDebugFeatures>)> done, Usec timeout) override;
  void collectGarbage(Usec timeout, std::function<void(Result<void>)> done) override;
  void readHeapStats(Usec timeout, std::function<void(Result<HeapStats>)> done) override;
  // GET /debug/pprof/heap (gzip-compressed pprof protobuf) into `path`: written to a temporary
  // file beside it and renamed into place only once complete and starting with the gzip magic
  // 1f 8b, so `path` is never partial. Reports the profile's size in bytes.
  void saveHeapProfile(const std::string& path, Usec timeout,
                       std::function<void(Result<uint64_t>)> done) override;

 private:
  std::string url(std::string_view route) const;

  HttpClient& http_;
  std::string address_;
  LspCommandsAsk askCommands_;
  std::optional<GoplsDebugFeatures> features_;
  uint64_t profileSerial_ = 0;
  // Callbacks hold a weak copy: a request outliving this client finds it expired.
  std::shared_ptr<GoplsDebugClient*> self_ = std::make_shared<GoplsDebugClient*>(this);
};

// The daemon's debug clients: HTTP to the debug server over `http`, the LSP probe of the
// workspace's socket on `loop`.
GoplsDebugFactory goplsDebugClients(HttpClient& http, EventLoop& loop);

}  // namespace wslgo
