#include "daemon/gopls_debug_client.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <utility>

#include "lib/gopls_process.h"
#include "lib/tcp_listener.h"

namespace wslgo {
namespace {

// Heap profiles of a multi-GiB gopls are a few MiB; the limit only stops a runaway body.
constexpr size_t kProfileLimit = size_t{256} << 20;
// The debug=1 text lists every heap sample before its MemStats trailer: the whole page is read
// (up to the limit) but only its tail kept, which holds the trailer (about 3 KiB) many times over.
constexpr size_t kHeapStatsLimit = size_t{64} << 20;
constexpr size_t kHeapStatsTail = size_t{64} << 10;

// The first two bytes of `path` are gzip's magic 1f 8b.
Result<void> checkGzipMagic(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errnoError(errno, path, "cannot reopen the heap profile");
  std::array<unsigned char, 2> magic{};
  ssize_t n = ::pread(fd, magic.data(), magic.size(), 0);
  int error = errno;
  ::close(fd);
  if (n < 0) return errnoError(error, path, "cannot read the heap profile back");
  if (n != 2 || magic[0] != 0x1f || magic[1] != 0x8b) {
    return parseError(path,
                      "the heap profile does not start with the gzip magic 1f 8b; the debug "
                      "server answered something other than a pprof profile");
  }
  return {};
}

}  // namespace

bool memoryPageOffersGc(std::string_view html) {
  return html.find("action=\"/gc\"") != std::string_view::npos;
}

GoplsDebugClient::GoplsDebugClient(HttpClient& http, GoplsEndpoints endpoints, GoplsLspAsk lsp,
                                   DebugListenerCheckFor checkFor)
    : http_(http), lsp_(std::move(lsp)), checkFor_(std::move(checkFor)) {
  retarget(endpoints);
}

void GoplsDebugClient::retarget(const GoplsEndpoints& endpoints) {
  endpoints_ = endpoints;
  checkListener_ = checkFor_ ? checkFor_(endpoints_) : DebugListenerCheck();
  features_.reset();
}

std::string GoplsDebugClient::url(std::string_view route) const {
  std::string out = "http://";
  out += endpoints_.debugAddress;
  out += route;
  return out;
}

HttpRequestOptions GoplsDebugClient::options(Usec timeout) const {
  HttpRequestOptions options;
  options.timeout = timeout;
  options.beforeConnect = checkListener_;
  return options;
}

Error GoplsDebugClient::noDebugServer(std::string_view what) const {
  const std::string why = endpoints_.noDebugServerWhy.empty()
                              ? std::string("gopls runs without a debug server")
                              : endpoints_.noDebugServerWhy;
  return errnoError(ENOTSUP, endpoints_.socket, "no " + std::string(what) + ": " + why);
}

template <typename T>
void GoplsDebugClient::failLater(std::function<void(Result<T>)> done, Error error) {
  std::weak_ptr<GoplsDebugClient*> self = self_;
  http_.failLater(
      [self, done = std::move(done)](Result<HttpResponse> failed) {
        if (!self.expired()) done(failed.error());
      },
      std::move(error));
}

void GoplsDebugClient::detect(std::function<void(Result<GoplsDebugFeatures>)> done, Usec timeout) {
  // One step after another; each re-checks that this client still exists.
  struct Detection {
    std::weak_ptr<GoplsDebugClient*> self;
    Usec timeout;
    std::function<void(Result<GoplsDebugFeatures>)> done;
    GoplsDebugFeatures features;
  };
  auto detection = std::make_shared<Detection>(
      Detection{.self = self_, .timeout = timeout, .done = std::move(done), .features = {}});
  const bool debugServer = !endpoints_.debugAddress.empty();
  detection->features.heapStatsRoute = debugServer ? kHeapStatsRoute : "";
  HttpRequestOptions pages = options(timeout);
  pages.maxBodyBytes = size_t{4} << 20;

  auto finish = [detection] {
    auto alive = detection->self.lock();
    if (!alive) return;
    (*alive)->features_ = detection->features;
    detection->done(detection->features);
  };
  auto askCommands = [detection, finish, debugServer] {
    auto alive = detection->self.lock();
    if (!alive) return;
    if (!(*alive)->lsp_.commands) return finish();
    (*alive)->lsp_.commands(detection->timeout, [detection, finish, debugServer](
                                                    Result<std::vector<std::string>> commands) {
      if (commands) {
        detection->features.memStats =
            std::find(commands->begin(), commands->end(), kMemStatsCommand) != commands->end();
      } else if (!debugServer) {
        // Nothing else to learn it from: a gopls still starting is asked again later.
        if (!detection->self.expired()) detection->done(commands.error());
        return;
      }
      if (!debugServer)
        detection->features.gcRoute = *detection->features.memStats ? kMemStatsGc : "";
      finish();
    });
  };
  if (!debugServer) {
    // The probe answers from the loop; without one there is nothing to ask.
    if (!lsp_.commands) {
      return failLater(std::move(detection->done), noDebugServer("detection of what it offers"));
    }
    return askCommands();
  }
  auto checkHeap = [detection, askCommands] {
    auto alive = detection->self.lock();
    if (!alive) return;
    (*alive)->readHeapStats(detection->timeout, [detection, askCommands](Result<HeapStats> stats) {
      if (detection->self.expired()) return;
      if (!stats) return detection->done(stats.error());
      askCommands();
    });
  };
  auto readInfo = [this, detection, pages, checkHeap] {
    http_.get(url("/info"), pages,
              [detection, checkHeap, where = url("/info")](Result<HttpResponse> info) {
                if (detection->self.expired()) return;
                if (!info) return detection->done(info.error());
                auto build = parseGoplsInfoPage(info->body);
                if (!build) return detection->done(build.error().withPath(where));
                detection->features.build = std::move(*build);
                checkHeap();
              });
  };
  http_.get(url("/memory"), pages, [detection, readInfo](Result<HttpResponse> memory) {
    if (detection->self.expired()) return;
    if (!memory) return detection->done(memory.error());
    detection->features.gcPage = memoryPageOffersGc(memory->body);
    detection->features.gcRoute = detection->features.gcPage ? kGoplsGcRoute : kPprofGcRoute;
    readInfo();
  });
}

void GoplsDebugClient::collectGarbage(Usec timeout, std::function<void(Result<void>)> done) {
  std::weak_ptr<GoplsDebugClient*> self = self_;
  if (endpoints_.debugAddress.empty()) {
    const bool offered = !features_ || features_->memStats.value_or(true);
    if (!lsp_.memStats || !offered) {
      return failLater(std::move(done),
                       noDebugServer("GC: this gopls offers no gopls.mem_stats command either"));
    }
    lsp_.memStats(timeout, [self, done = std::move(done)](Result<GoplsMemStats> stats) {
      if (self.expired()) return;
      if (!stats) return done(stats.error());
      done({});
    });
    return;
  }
  std::string route = features_ ? features_->gcRoute : kPprofGcRoute;
  // Both answer once the collection is done: /gc with a redirect to /memory, pprof's with a
  // profile nobody reads.
  HttpRequestOptions request = options(timeout);
  request.bodyUse = HttpBodyUse::None;
  request.redirectAnswers = true;
  http_.get(url(route), request, [self, done = std::move(done)](Result<HttpResponse> response) {
    if (self.expired()) return;
    if (!response.ok()) return done(response.error());
    done({});
  });
}

void GoplsDebugClient::readHeapStats(Usec timeout, std::function<void(Result<HeapStats>)> done) {
  if (endpoints_.debugAddress.empty()) {
    return failLater(std::move(done), noDebugServer("heap figures"));
  }
  std::string target = url(kHeapStatsRoute);
  HttpRequestOptions request = options(timeout);
  request.bodyUse = HttpBodyUse::KeepTail;
  request.tailBytes = kHeapStatsTail;
  request.maxBodyBytes = kHeapStatsLimit;
  std::weak_ptr<GoplsDebugClient*> self = self_;
  http_.get(target, request, [self, target, done = std::move(done)](Result<HttpResponse> response) {
    if (self.expired()) return;
    if (!response.ok()) return done(response.error());
    Result<HeapStats> stats = parsePprofHeapDebug1(response->body);
    if (!stats.ok()) return done(stats.error().withPath(target));
    done(std::move(stats));
  });
}

void GoplsDebugClient::saveHeapProfile(const std::string& path, Usec timeout,
                                       std::function<void(Result<uint64_t>)> done) {
  if (endpoints_.debugAddress.empty()) {
    return failLater(std::move(done), noDebugServer("heap profile"));
  }
  // Beside the target, so the rename stays within one file system and is atomic.
  std::string partial =
      path + ".partial-" + std::to_string(::getpid()) + "-" + std::to_string(++profileSerial_);
  HttpRequestOptions request = options(timeout);
  request.saveToFile = partial;
  request.maxBodyBytes = kProfileLimit;
  std::weak_ptr<GoplsDebugClient*> self = self_;
  http_.get(url("/debug/pprof/heap"), request,
            [self, path, partial, done = std::move(done)](Result<HttpResponse> response) {
              // The HttpClient removed the partial file on failure; on success it is ours.
              if (!response.ok()) {
                // Named by the profile it was to become: the partial file is gone.
                if (!self.expired()) done(response.error().withPath(path));
                return;
              }
              Result<void> magic = checkGzipMagic(partial);
              if (!magic.ok() || self.expired()) {
                ::unlink(partial.c_str());
                if (!self.expired()) done(magic.error());
                return;
              }
              if (std::rename(partial.c_str(), path.c_str()) != 0) {
                int error = errno;
                ::unlink(partial.c_str());
                done(errnoError(error, path, "cannot move the heap profile into place"));
                return;
              }
              done(response->bodyBytes);
            });
}

GoplsLspAsk lspAskOn(EventLoop& loop, std::string socket) {
  return GoplsLspAsk{.commands =
                         [&loop, socket](Usec timeout, LspCommandsDone done) {
                           probeLspCommands(loop, socket, timeout, std::move(done));
                         },
                     .memStats =
                         [&loop, socket](Usec timeout, LspMemStatsDone done) {
                           probeLspMemStats(loop, socket, timeout, std::move(done));
                         }};
}

DebugListenerCheck mainPidHoldsDebugPort(SysRoots roots, const GoplsEndpoints& endpoints) {
  auto port = loopbackDebugPort(endpoints.debugAddress);
  if (!port || endpoints.mainPid == 0) return {};
  // Reading /proc/net/tcp costs milliseconds (the kernel walks every socket), a scan of gopls'
  // fds microseconds. While gopls holds the listening socket it found once, no one else can
  // listen on that port (a second bind fails; SO_REUSEPORT is granted only within one uid), so
  // only that is checked again; anything else is looked at from scratch.
  auto verified = std::make_shared<std::optional<uint64_t>>();
  return [roots = std::move(roots), port = *port, pid = static_cast<pid_t>(endpoints.mainPid),
          verified]() -> Result<void> {
    if (*verified) {
      auto held = processHoldsSocket(roots, pid, **verified);
      if (held && *held) return {};
      verified->reset();
    }
    auto inode = checkDebugListenerOwner(roots, port, pid);
    if (!inode) return inode.error();
    *verified = *inode;
    return {};
  };
}

GoplsDebugFactory goplsDebugClients(HttpClient& http, EventLoop& loop, SysRoots roots) {
  return [&http, &loop,
          roots = std::move(roots)](const GoplsEndpoints& gopls) -> std::unique_ptr<GoplsDebug> {
    return std::make_unique<GoplsDebugClient>(http, gopls, lspAskOn(loop, gopls.socket),
                                              [roots](const GoplsEndpoints& endpoints) {
                                                return mainPidHoldsDebugPort(roots, endpoints);
                                              });
  };
}

}  // namespace wslgo
