#include "daemon/lsp_probe.h"

#include <sys/epoll.h>
#include <sys/socket.h>

#include <cerrno>
#include <memory>
#include <optional>

#include "daemon/unique_fd.h"
#include "daemon/unix_socket.h"
#include "lib/lsp_frame.h"
#include "lib/lsp_initialize.h"

namespace wslgo {
namespace {

constexpr int kInitializeId = 1;
constexpr int kCommandId = 2;
// An initialize answer lists capabilities and commands: a few KiB. Anything far larger is not
// the answer we asked for.
constexpr size_t kMaxAnswerBytes = size_t{1} << 20;

// One connection's exchange; kept alive by its own callbacks until it reports. `onMessage` sees
// every complete message body and returns the outcome once there is one.
template <typename T>
struct Probe : std::enable_shared_from_this<Probe<T>> {
  std::string socketPath;
  std::function<void(Result<T>)> done;
  std::function<std::optional<Result<T>>(Probe&, std::string_view body)> onMessage;
  UniqueFd fd;
  std::string outgoing;
  std::string incoming;
  IoWatch watch;
  Timer deadline;
  Timer start;
  bool finished = false;

  void finish(Result<T> result) {
    if (finished) return;
    finished = true;
    auto keep = this->shared_from_this();  // the watch and timers hold the only other references
    // The sources' callbacks hold this probe: dropping them ends the cycle.
    watch.reset();
    deadline.reset();
    start.reset();
    fd.reset();
    auto callback = std::move(done);
    if (callback) callback(std::move(result));
  }

  Error failure(int code, const std::string& what) const {
    return errnoError(code, socketPath, what);
  }

  void send(const std::string& body) {
    outgoing += frameLspMessage(body);
    (void)watch.setEvents(EPOLLOUT | EPOLLIN);
  }

  void onEvents(uint32_t revents) {
    if ((revents & EPOLLOUT) != 0 && !outgoing.empty()) {
      ssize_t sent = ::send(fd.get(), outgoing.data(), outgoing.size(), MSG_NOSIGNAL);
      if (sent < 0 && errno != EAGAIN) return finish(failure(errno, "cannot send to gopls"));
      if (sent > 0) outgoing.erase(0, static_cast<size_t>(sent));
      if (outgoing.empty()) (void)watch.setEvents(EPOLLIN);
    }
    if ((revents & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0) readAnswer();
  }

  void readAnswer() {
    char buffer[16384];
    for (;;) {
      ssize_t got = ::recv(fd.get(), buffer, sizeof buffer, 0);
      if (got < 0 && errno == EAGAIN) return;
      if (got < 0) return finish(failure(errno, "cannot read gopls' answer"));
      if (got == 0) return finish(failure(ECONNRESET, "closed before answering"));
      incoming.append(buffer, static_cast<size_t>(got));
      // gopls may send notifications and requests first; read messages until the answer.
      for (;;) {
        auto frame = splitLspFrame(incoming, kMaxAnswerBytes);
        if (!frame) return finish(frame.error().withPath(socketPath));
        if (!*frame) break;
        std::optional<Result<T>> outcome = onMessage(*this, (*frame)->body);
        if (outcome) return finish(std::move(*outcome));
        if (finished) return;
        incoming.erase(0, (*frame)->consumed);
      }
    }
  }
};

// Connects from the loop, sends initialize, and leaves the rest to the probe's onMessage.
template <typename T>
void runProbe(EventLoop& loop, const std::shared_ptr<Probe<T>>& probe, Usec timeout) {
  // Everything, failures included, is reported from the loop, never from inside this call.
  auto started = loop.addOneShotTimer(Usec(0), [&loop, probe, timeout](Usec) {
    auto fd = connectUnixSocket(probe->socketPath);
    if (!fd) return probe->finish(fd.error());
    probe->fd = std::move(*fd);
    probe->outgoing = frameLspMessage(lspInitializeRequest(kInitializeId));
    auto watch = loop.addIo(probe->fd.get(), EPOLLOUT | EPOLLIN,
                            [probe](uint32_t revents) { probe->onEvents(revents); });
    if (!watch) return probe->finish(watch.error());
    probe->watch = std::move(*watch);
    auto deadline = loop.addOneShotTimer(timeout, [probe, timeout](Usec) {
      probe->finish(probe->failure(ETIMEDOUT, "no answer from gopls within " +
                                                  std::to_string(timeout.count() / 1000) + " ms"));
    });
    if (!deadline) return probe->finish(deadline.error());
    probe->deadline = std::move(*deadline);
  });
  if (!started) {
    // Without a loop timer nothing can run later; say so through the same path.
    auto callback = std::move(probe->done);
    if (callback) callback(started.error());
    return;
  }
  probe->start = std::move(*started);
}

}  // namespace

void probeLspCommands(EventLoop& loop, const std::string& socketPath, Usec timeout,
                      LspCommandsDone done) {
  using Commands = std::vector<std::string>;
  auto probe = std::make_shared<Probe<Commands>>();
  probe->socketPath = socketPath;
  probe->done = std::move(done);
  probe->onMessage = [](Probe<Commands>& self,
                        std::string_view body) -> std::optional<Result<Commands>> {
    auto commands = parseInitializeCommands(body, kInitializeId);
    if (!commands) return Result<Commands>(commands.error().withPath(self.socketPath));
    if (*commands) return Result<Commands>(std::move(**commands));
    return std::nullopt;
  };
  runProbe(loop, probe, timeout);
}

void probeLspMemStats(EventLoop& loop, const std::string& socketPath, Usec timeout,
                      LspMemStatsDone done) {
  auto probe = std::make_shared<Probe<GoplsMemStats>>();
  probe->socketPath = socketPath;
  probe->done = std::move(done);
  probe->onMessage = [](Probe<GoplsMemStats>& self,
                        std::string_view body) -> std::optional<Result<GoplsMemStats>> {
    // The initialize answer first: the command may only follow it.
    auto initialized = parseInitializeCommands(body, kInitializeId);
    if (!initialized) return Result<GoplsMemStats>(initialized.error().withPath(self.socketPath));
    if (*initialized) {
      self.send(lspMemStatsRequest(kCommandId));
      return std::nullopt;
    }
    auto stats = parseMemStatsAnswer(body, kCommandId);
    if (!stats) return Result<GoplsMemStats>(stats.error().withPath(self.socketPath));
    if (*stats) return Result<GoplsMemStats>(**stats);
    return std::nullopt;
  };
  runProbe(loop, probe, timeout);
}

}  // namespace wslgo
