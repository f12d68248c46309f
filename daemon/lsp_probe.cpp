#include "daemon/lsp_probe.h"

#include <sys/epoll.h>
#include <sys/socket.h>

#include <cerrno>
#include <memory>

#include "daemon/unique_fd.h"
#include "daemon/unix_socket.h"
#include "lib/lsp_frame.h"
#include "lib/lsp_initialize.h"

namespace wslgo {
namespace {

constexpr int kRequestId = 1;
// An initialize answer lists capabilities and commands: a few KiB. Anything far larger is not
// the answer we asked for.
constexpr size_t kMaxAnswerBytes = size_t{1} << 20;

// One probe's connection; kept alive by its own callbacks until it reports.
struct Probe : std::enable_shared_from_this<Probe> {
  std::string socketPath;
  LspCommandsDone done;
  UniqueFd fd;
  std::string outgoing;
  std::string incoming;
  IoWatch watch;
  Timer deadline;
  Timer start;
  bool finished = false;

  void finish(Result<std::vector<std::string>> result) {
    if (finished) return;
    finished = true;
    auto keep = shared_from_this();  // the watch and timers hold the only other references
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

  void onEvents(uint32_t revents) {
    if ((revents & EPOLLOUT) != 0 && !outgoing.empty()) {
      ssize_t sent = ::send(fd.get(), outgoing.data(), outgoing.size(), MSG_NOSIGNAL);
      if (sent < 0 && errno != EAGAIN) return finish(failure(errno, "cannot send initialize"));
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
      if (got < 0) return finish(failure(errno, "cannot read the initialize answer"));
      if (got == 0) return finish(failure(ECONNRESET, "closed before answering initialize"));
      incoming.append(buffer, static_cast<size_t>(got));
      // gopls may send notifications first; read messages until the answer to ours.
      for (;;) {
        auto frame = splitLspFrame(incoming, kMaxAnswerBytes);
        if (!frame) return finish(frame.error().withPath(socketPath));
        if (!*frame) break;
        auto commands = parseInitializeCommands((*frame)->body, kRequestId);
        if (!commands) return finish(commands.error().withPath(socketPath));
        if (*commands) return finish(std::move(**commands));
        incoming.erase(0, (*frame)->consumed);
      }
    }
  }
};

}  // namespace

void probeLspCommands(EventLoop& loop, const std::string& socketPath, Usec timeout,
                      LspCommandsDone done) {
  auto probe = std::make_shared<Probe>();
  probe->socketPath = socketPath;
  probe->done = std::move(done);
  // Everything, failures included, is reported from the loop, never from inside this call.
  auto started = loop.addOneShotTimer(Usec(0), [&loop, probe, timeout](Usec) {
    auto fd = connectUnixSocket(probe->socketPath);
    if (!fd) return probe->finish(fd.error());
    probe->fd = std::move(*fd);
    probe->outgoing = frameLspMessage(lspInitializeRequest(kRequestId));
    auto watch = loop.addIo(probe->fd.get(), EPOLLOUT | EPOLLIN,
                            [probe](uint32_t revents) { probe->onEvents(revents); });
    if (!watch) return probe->finish(watch.error());
    probe->watch = std::move(*watch);
    auto deadline = loop.addOneShotTimer(timeout, [probe, timeout](Usec) {
      probe->finish(probe->failure(ETIMEDOUT, "no answer to initialize within " +
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

}  // namespace wslgo
