// GoplsDebug: what the guard asks of one gopls' debug server — the seam the action runner and
// the manager reach gopls through (GoplsDebugClient over HTTP; an in-process fake in the tests).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "lib/gopls_build.h"
#include "lib/heap_stats.h"
#include "lib/result.h"
#include "lib/usec.h"

namespace wslgo {

// Routes every gopls has: net/http/pprof forces a GC before it answers a ?gc=1 request, and
// the heap profile's debug=1 text ends in runtime.MemStats.
inline constexpr const char* kPprofGcRoute = "/debug/pprof/heap?gc=1";
inline constexpr const char* kHeapStatsRoute = "/debug/pprof/heap?debug=1";
// Newer gopls (2023 on) add /gc: three GCs, then a redirect to /memory.
inline constexpr const char* kGoplsGcRoute = "/gc";
// Without a debug server: the LSP command, which collects three times before it answers.
inline constexpr const char* kMemStatsGc = "gopls.mem_stats";

// What one gopls offers, found by probing it (its pages and its LSP answer), never by guessing
// from a version.
struct GoplsDebugFeatures {
  // kGoplsGcRoute when the server has it, else kPprofGcRoute; without a debug server,
  // kMemStatsGc when gopls offers that command, else empty (nothing can ask it to collect).
  std::string gcRoute;
  std::string heapStatsRoute;  // kHeapStatsRoute
  GoplsBuild build;            // from /info: "v0.23.0", Debian's "master"
  bool gcPage = false;         // /memory offers the /gc form (gopls 2023 on)
  // gopls.mem_stats is among the commands its initialize answer lists; unset when the socket
  // could not be asked.
  std::optional<bool> memStats;
};

// Where a workspace's gopls is reached, as found on the running process.
struct GoplsEndpoints {
  std::string socket;  // the unix socket editors connect to
  // "127.0.0.1:PORT" from the -debug flag of the unit's MainPID; empty when gopls runs without
  // a debug server, or while its process is not known yet.
  std::string debugAddress;
  uint32_t mainPid = 0;  // the process that must hold the debug port; 0 while unknown
  // Why there is no debugAddress, for the errors of requests that need one.
  std::string noDebugServerWhy;
};

// Callbacks run on the guard's loop, never from inside the call that started them. Destroying
// the object while requests are in flight drops their callbacks.
class GoplsDebug {
 public:
  virtual ~GoplsDebug() = default;

  // "127.0.0.1:PORT", or empty when there is no debug server to talk to.
  virtual const std::string& debugAddress() const = 0;
  // What detect() found; until then collectGarbage() uses kPprofGcRoute, which every gopls has.
  virtual const std::optional<GoplsDebugFeatures>& features() const = 0;

  // Points the client at another gopls (a new MainPID): requests in flight finish against the
  // old one, and what detect() found is forgotten.
  virtual void retarget(const GoplsEndpoints& endpoints) = 0;

  virtual void detect(std::function<void(Result<GoplsDebugFeatures>)> done, Usec timeout) = 0;
  virtual void collectGarbage(Usec timeout, std::function<void(Result<void>)> done) = 0;
  virtual void readHeapStats(Usec timeout, std::function<void(Result<HeapStats>)> done) = 0;
  // The gzip-compressed pprof heap profile into `path`, never left partial; reports its size.
  virtual void saveHeapProfile(const std::string& path, Usec timeout,
                               std::function<void(Result<uint64_t>)> done) = 0;
};

// Makes the debug client for a workspace's gopls.
using GoplsDebugFactory = std::function<std::unique_ptr<GoplsDebug>(const GoplsEndpoints&)>;

}  // namespace wslgo
