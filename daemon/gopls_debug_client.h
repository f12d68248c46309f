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
#include "lib/sys_roots.h"

namespace wslgo {

// True when gopls' /memory page offers the "Run garbage collector" form that posts to /gc.
// Asking /gc itself cannot tell: older gopls answer every unknown path with their main page
// (status 200), and a gopls that has /gc would collect garbage just to be asked.
bool memoryPageOffersGc(std::string_view html);

// Asks the gopls behind the client over its socket: which LSP commands it offers
// (probeLspCommands), and gopls.mem_stats (probeLspMemStats).
struct GoplsLspAsk {
  std::function<void(Usec timeout, LspCommandsDone done)> commands;
  std::function<void(Usec timeout, LspMemStatsDone done)> memStats;
};

// The probes of `socket`, run on `loop`.
GoplsLspAsk lspAskOn(EventLoop& loop, std::string socket);

// Runs before every request to the debug server: is the port still held by the unit's gopls?
// An error stops the request before any connection is made.
using DebugListenerCheck = std::function<Result<void>()>;
// Makes that check for one gopls; an empty check trusts the port.
using DebugListenerCheckFor = std::function<DebugListenerCheck(const GoplsEndpoints&)>;

// One gopls: its debug server ("127.0.0.1:PORT") over HTTP, its socket over LSP. Callbacks run
// on the HttpClient's loop. Destroying this client while requests are in flight is safe: their
// callbacks are dropped (the HttpClient still finishes the requests, and a profile being saved
// is removed, not kept half-written).
//
// Without a debug address (gopls.debug_server false) GC goes through gopls.mem_stats where gopls
// offers it, and heap figures and profiles are errors saying why.
class GoplsDebugClient final : public GoplsDebug {
 public:
  // Without `lsp.commands`, detect() leaves memStats unset; without `checkFor`, the port is
  // trusted.
  GoplsDebugClient(HttpClient& http, GoplsEndpoints endpoints, GoplsLspAsk lsp = {},
                   DebugListenerCheckFor checkFor = {});
  GoplsDebugClient(const GoplsDebugClient&) = delete;
  GoplsDebugClient& operator=(const GoplsDebugClient&) = delete;

  const std::string& debugAddress() const override { return endpoints_.debugAddress; }
  const std::optional<GoplsDebugFeatures>& features() const override { return features_; }
  void retarget(const GoplsEndpoints& endpoints) override;

  // Reads /memory (is there a /gc form?), /info (which gopls?), checks that the heap figures
  // parse, then asks the socket for its LSP commands (is gopls.mem_stats there?). Without a
  // debug server, only the last.
  void detect(std::function<void(Result<GoplsDebugFeatures>)> done, Usec timeout) override;
  // The GC page or pprof's ?gc=1: answered once its status line is in (the collection is done
  // before gopls writes it); the body is never read and a redirect never followed.
  void collectGarbage(Usec timeout, std::function<void(Result<void>)> done) override;
  // Keeps only the tail of the debug=1 page, where runtime.MemStats sits.
  void readHeapStats(Usec timeout, std::function<void(Result<HeapStats>)> done) override;
  // GET /debug/pprof/heap (gzip-compressed pprof protobuf) into `path`: written to a temporary
  // file beside it and renamed into place only once complete and starting with the gzip magic
  // 1f 8b, so `path` is never partial. Reports the profile's size in bytes.
  void saveHeapProfile(const std::string& path, Usec timeout,
                       std::function<void(Result<uint64_t>)> done) override;

 private:
  std::string url(std::string_view route) const;
  HttpRequestOptions options(Usec timeout) const;
  // The error of a request that needs the debug server, when there is none.
  Error noDebugServer(std::string_view what) const;
  // Reports `error` from the loop, as every answer is.
  template <typename T>
  void failLater(std::function<void(Result<T>)> done, Error error);

  HttpClient& http_;
  GoplsEndpoints endpoints_;
  GoplsLspAsk lsp_;
  DebugListenerCheckFor checkFor_;
  DebugListenerCheck checkListener_;
  std::optional<GoplsDebugFeatures> features_;
  uint64_t profileSerial_ = 0;
  // Callbacks hold a weak copy: a request outliving this client finds it expired.
  std::shared_ptr<GoplsDebugClient*> self_ = std::make_shared<GoplsDebugClient*>(this);
};

// The check the daemon runs: under `roots`, the socket listening on the debug port is among
// the fds of the unit's MainPID. None without a debug address or a MainPID.
DebugListenerCheck mainPidHoldsDebugPort(SysRoots roots, const GoplsEndpoints& endpoints);

// The daemon's debug clients: HTTP to the debug server over `http`, after
// mainPidHoldsDebugPort; the LSP probes of the workspace's socket on `loop`.
GoplsDebugFactory goplsDebugClients(HttpClient& http, EventLoop& loop, SysRoots roots);

}  // namespace wslgo
