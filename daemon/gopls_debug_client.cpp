#include "daemon/gopls_debug_client.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <utility>

namespace wslgo {
namespace {

// Heap profiles of a multi-GiB gopls are a few MiB; the limit only stops a runaway body.
constexpr size_t kProfileLimit = size_t{256} << 20;
// The debug=1 text lists every heap sample before its MemStats trailer.
constexpr size_t kHeapStatsLimit = size_t{64} << 20;

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

GoplsDebugClient::GoplsDebugClient(HttpClient& http, std::string debugAddress,
                                   LspCommandsAsk askCommands)
    : http_(http), address_(std::move(debugAddress)), askCommands_(std::move(askCommands)) {}

std::string GoplsDebugClient::url(std::string_view route) const {
  std::string out = "http://";
  out += address_;
  out += route;
  return out;
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
  detection->features.heapStatsRoute = kHeapStatsRoute;
  HttpRequestOptions options;
  options.timeout = timeout;
  options.maxBodyBytes = size_t{4} << 20;

  auto finish = [detection] {
    auto alive = detection->self.lock();
    if (!alive) return;
    (*alive)->features_ = detection->features;
    detection->done(detection->features);
  };
  auto askCommands = [detection, finish] {
    auto alive = detection->self.lock();
    if (!alive) return;
    if (!(*alive)->askCommands_) return finish();
    (*alive)->askCommands_(
        detection->timeout, [detection, finish](Result<std::vector<std::string>> commands) {
          if (commands) {
            detection->features.memStats =
                std::find(commands->begin(), commands->end(), "gopls.mem_stats") != commands->end();
          }
          finish();
        });
  };
  auto checkHeap = [detection, askCommands] {
    auto alive = detection->self.lock();
    if (!alive) return;
    (*alive)->readHeapStats(detection->timeout, [detection, askCommands](Result<HeapStats> stats) {
      if (detection->self.expired()) return;
      if (!stats) return detection->done(stats.error());
      askCommands();
    });
  };
  auto readInfo = [this, detection, options, checkHeap] {
    http_.get(url("/info"), options,
              [detection, checkHeap, where = url("/info")](Result<HttpResponse> info) {
                if (detection->self.expired()) return;
                if (!info) return detection->done(info.error());
                auto build = parseGoplsInfoPage(info->body);
                if (!build) return detection->done(build.error().withPath(where));
                detection->features.build = std::move(*build);
                checkHeap();
              });
  };
  http_.get(url("/memory"), options, [detection, readInfo](Result<HttpResponse> memory) {
    if (detection->self.expired()) return;
    if (!memory) return detection->done(memory.error());
    detection->features.gcPage = memoryPageOffersGc(memory->body);
    detection->features.gcRoute = detection->features.gcPage ? kGoplsGcRoute : kPprofGcRoute;
    readInfo();
  });
}

void GoplsDebugClient::collectGarbage(Usec timeout, std::function<void(Result<void>)> done) {
  std::string route = features_ ? features_->gcRoute : kPprofGcRoute;
  // /gc redirects to /memory; pprof's answer is a profile nobody reads.
  HttpRequestOptions options;
  options.timeout = timeout;
  options.maxBodyBytes = kProfileLimit;
  options.followRedirects = true;
  std::weak_ptr<GoplsDebugClient*> self = self_;
  http_.get(url(route), options, [self, done = std::move(done)](Result<HttpResponse> response) {
    if (self.expired()) return;
    if (!response.ok()) {
      done(response.error());
      return;
    }
    done({});
  });
}

void GoplsDebugClient::readHeapStats(Usec timeout, std::function<void(Result<HeapStats>)> done) {
  std::string target = url(kHeapStatsRoute);
  HttpRequestOptions options;
  options.timeout = timeout;
  options.maxBodyBytes = kHeapStatsLimit;
  std::weak_ptr<GoplsDebugClient*> self = self_;
  http_.get(target, options, [self, target, done = std::move(done)](Result<HttpResponse> response) {
    if (self.expired()) return;
    if (!response.ok()) {
      done(response.error());
      return;
    }
    Result<HeapStats> stats = parsePprofHeapDebug1(response->body);
    if (!stats.ok()) return done(stats.error().withPath(target));
    done(std::move(stats));
  });
}

void GoplsDebugClient::saveHeapProfile(const std::string& path, Usec timeout,
                                       std::function<void(Result<uint64_t>)> done) {
  // Beside the target, so the rename stays within one file system and is atomic.
  std::string partial =
      path + ".partial-" + std::to_string(::getpid()) + "-" + std::to_string(++profileSerial_);
  HttpRequestOptions options;
  options.timeout = timeout;
  options.saveToFile = partial;
  options.maxBodyBytes = kProfileLimit;
  std::weak_ptr<GoplsDebugClient*> self = self_;
  http_.get(url("/debug/pprof/heap"), options,
            [self, path, partial, done = std::move(done)](Result<HttpResponse> response) {
              // The HttpClient removed the partial file on failure; on success it is ours.
              if (!response.ok()) {
                if (!self.expired()) done(response.error());
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

LspCommandsAsk lspCommandsOn(EventLoop& loop, std::string socket) {
  return [&loop, socket = std::move(socket)](Usec timeout, LspCommandsDone done) {
    probeLspCommands(loop, socket, timeout, std::move(done));
  };
}

GoplsDebugFactory goplsDebugClients(HttpClient& http, EventLoop& loop) {
  return [&http, &loop](const GoplsEndpoints& gopls) -> std::unique_ptr<GoplsDebug> {
    return std::make_unique<GoplsDebugClient>(http, gopls.debugAddress,
                                              lspCommandsOn(loop, gopls.socket));
  };
}

}  // namespace wslgo
