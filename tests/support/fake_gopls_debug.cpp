#include "tests/support/fake_gopls_debug.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace wslgo::test {
namespace {

class FakeGoplsDebug final : public GoplsDebug {
 public:
  FakeGoplsDebug(FakeScheduler& scheduler, FakeGoplsFleet& fleet, const GoplsEndpoints& endpoints)
      : scheduler_(scheduler), fleet_(fleet) {
    retarget(endpoints);
  }

  const std::string& debugAddress() const override { return address_; }
  void retarget(const GoplsEndpoints& endpoints) override {
    address_ = endpoints.debugAddress;
    // Gopls without a debug server share one FakeGopls: it offers what its LSP would.
    server_ = fleet_.shared(address_.empty() ? std::string(kNoDebugServer) : address_);
    features_.reset();
  }
  const std::optional<GoplsDebugFeatures>& features() const override { return features_; }

  void detect(std::function<void(Result<GoplsDebugFeatures>)> done, Usec) override {
    ++server_->detections;
    later(Usec(0), [this, done = std::move(done)] {
      if (!server_->answers) return done(refused());
      features_ = server_->features;
      if (address_.empty()) {
        features_->gcRoute = features_->memStats.value_or(false) ? kMemStatsGc : "";
        features_->heapStatsRoute.clear();
      }
      done(*features_);
    });
  }

  void collectGarbage(Usec timeout, std::function<void(Result<void>)> done) override {
    ++server_->gcCalls;
    server_->lastGcAt = scheduler_.now();
    const bool late = server_->gcTakes > timeout;
    later(late ? timeout : server_->gcTakes, [this, late, done = std::move(done)] {
      if (!server_->answers) return done(refused());
      if (late) return done(errnoError(ETIMEDOUT, url(kPprofGcRoute), "no answer in time"));
      if (server_->onGc) server_->onGc();
      done(Result<void>());
    });
  }

  void readHeapStats(Usec, std::function<void(Result<HeapStats>)> done) override {
    ++server_->heapReads;
    later(Usec(0), [this, done = std::move(done)] {
      if (address_.empty()) return done(errnoError(ENOTSUP, "gopls", "no debug server"));
      if (!server_->answers) return done(refused());
      if (server_->squatted) {
        return done(errnoError(EPERM, url(kHeapStatsRoute),
                               "is listened on by PID 4242, not by gopls; the guard does not "
                               "talk to it"));
      }
      if (server_->heapFails) {
        return done(parseError(url(kHeapStatsRoute), "no # runtime.MemStats trailer"));
      }
      HeapStats stats;
      stats.heapInuse = server_->heapInUse;
      stats.heapAlloc = server_->heapInUse;
      done(stats);
    });
  }

  void saveHeapProfile(const std::string& path, Usec,
                       std::function<void(Result<uint64_t>)> done) override {
    ++server_->profileCalls;
    later(Usec(0), [this, path, done = std::move(done)] {
      if (address_.empty()) return done(errnoError(ENOTSUP, "gopls", "no debug server"));
      if (!server_->answers || server_->profileFails) return done(refused());
      // The gzip magic, as every real profile starts.
      const unsigned char magic[] = {0x1f, 0x8b, 0x08, 0x00};
      int fd = ::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
      if (fd < 0) return done(errnoError(errno, path, "cannot open"));
      const bool written = ::write(fd, magic, sizeof magic) == static_cast<ssize_t>(sizeof magic);
      ::close(fd);
      if (!written) return done(errnoError(EIO, path, "cannot write"));
      done(uint64_t{sizeof magic});
    });
  }

 private:
  std::string url(const char* route) const { return "http://" + server_->address + route; }
  Error refused() const { return errnoError(ECONNREFUSED, url(""), "cannot connect"); }

  // Destroying the client cancels the timers, so its callbacks are dropped as the real one's.
  void later(Usec delay, std::function<void()> then) {
    std::erase_if(pending_, [](const Timer& timer) { return !timer.pending(); });
    auto timer = scheduler_.addOneShotTimer(delay, [then = std::move(then)](Usec) { then(); });
    if (timer) pending_.push_back(std::move(*timer));
  }

  FakeScheduler& scheduler_;
  FakeGoplsFleet& fleet_;
  std::string address_;
  std::shared_ptr<FakeGopls> server_;
  std::optional<GoplsDebugFeatures> features_;
  std::vector<Timer> pending_;
};

}  // namespace

std::shared_ptr<FakeGopls> FakeGoplsFleet::shared(const std::string& address) {
  auto& server = servers_[address];
  if (!server) {
    server = std::make_shared<FakeGopls>();
    server->address = address;
  }
  return server;
}

FakeGopls& FakeGoplsFleet::at(const std::string& address) { return *shared(address); }

GoplsDebugFactory FakeGoplsFleet::factory() {
  return [this](const GoplsEndpoints& gopls) -> std::unique_ptr<GoplsDebug> {
    return std::make_unique<FakeGoplsDebug>(scheduler_, *this, gopls);
  };
}

}  // namespace wslgo::test
