// wslgo-lsp: the session keeper. One unix socket for every Go workspace; editors reach it with
// the stock client, gopls -remote=unix;$XDG_RUNTIME_DIR/wslgo-guard/lsp.sock, and keep their
// session when gopls restarts.
#include <signal.h>
#include <sys/socket.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <fcntl.h>

#include <cerrno>
#include <cstdio>
#include <string>

#include <CLI/CLI.hpp>

#include "daemon/event_loop.h"
#include "daemon/logging.h"
#include "daemon/notify.h"
#include "daemon/unix_socket.h"
#include "keeper/guard_link.h"
#include "keeper/keeper.h"

namespace wslgo {
namespace {

int fail(const std::string& message) {
  componentLogger("main")->critical("{}", message);
  return 1;
}

// The socket systemd passed (wslgo-lsp.socket), if any.
Result<UniqueFd> passedSocket() {
  int count = sd_listen_fds(/*unset_environment=*/1);
  if (count < 0) return errnoError(-count, "LISTEN_FDS", "cannot read the passed sockets");
  if (count == 0) return UniqueFd();
  if (count > 1) {
    return errnoError(EINVAL, "LISTEN_FDS",
                      "systemd passed " + std::to_string(count) +
                          " sockets; wslgo-lsp.socket has one ListenStream=");
  }
  int fd = SD_LISTEN_FDS_START;
  if (sd_is_socket_unix(fd, SOCK_STREAM, /*listening=*/1, nullptr, 0) <= 0) {
    return errnoError(EINVAL, "LISTEN_FDS", "the passed fd is not a listening unix stream socket");
  }
  // systemd passes it blocking; the accept loop runs until EAGAIN.
  if (int flags = ::fcntl(fd, F_GETFL); flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
    return errnoError(errno, "LISTEN_FDS", "cannot make the passed socket non-blocking");
  }
  return UniqueFd(fd);
}

int runKeeper(const std::string& socketPath, KeeperLimits limits) {
  auto loop = EventLoop::create();
  if (!loop) return fail("cannot create the event loop: " + loop.error().describe());
  (*loop)->setErrorHook(
      [](std::string_view what) { componentLogger("main")->error("callback failed: {}", what); });

  auto listening = passedSocket();
  if (!listening) return fail(listening.error().describe());
  if (!listening->valid()) {
    if (socketPath.empty()) {
      return fail(
          "no socket: wslgo-lsp is started by its socket (systemctl --user start "
          "wslgo-lsp.socket), or given one with --socket PATH");
    }
    listening = listenUnixSocket(socketPath, 64);  // by hand: tests, or in a terminal
    if (!listening) return fail(listening.error().describe());
  }

  Keeper keeper(**loop, limits);
  auto guard = GuardLink::connect(
      **loop,
      [&keeper](const std::string& object, const std::string& reason) {
        keeper.restartAnnounced(object, reason);
      },
      [&keeper] { keeper.guardAppeared(); });
  if (!guard) return fail(guard.error().describe());
  keeper.setGuard(guard->get());
  if (auto listened = keeper.listen(std::move(*listening)); !listened) {
    return fail(listened.error().describe());
  }

  auto stop = [&](int signo) {
    componentLogger("main")->info("{}: stopping; {} editor connection(s) close", strsignal(signo),
                                  keeper.connections());
    notifyStopping();
    keeper.closeAll("the keeper is stopping");
    (*loop)->exit(0);
  };
  auto onTerm = (*loop)->onSignal(SIGTERM, stop);
  auto onInt = (*loop)->onSignal(SIGINT, stop);
  if (!onTerm || !onInt) return fail("cannot watch signals");
  notifyReady();
  componentLogger("main")->info("ready");
  int code = (*loop)->run();
  keeper.setGuard(nullptr);
  return code < 0 ? 1 : code;
}

}  // namespace
}  // namespace wslgo

int main(int argc, char** argv) {
  CLI::App app{
      "wslgo-lsp: the session keeper of wslgo-guard. Editors connect with the stock client,\n"
      "  gopls -remote=unix;$XDG_RUNTIME_DIR/wslgo-guard/lsp.sock\n"
      "and each is relayed to the gopls of the Go workspace it opens (wslgo-guard adds the\n"
      "workspace when needed). When that gopls restarts, the editor's connection stays open and\n"
      "its session (settings, open documents with unsaved text) is rebuilt on the new gopls.\n"
      "Started by its socket: systemctl --user start wslgo-lsp.socket."};
  std::string logLevel = "info";
  std::string socketPath;
  double requestWait = 30;
  double reconnectWindow = 120;
  app.set_version_flag("--version", std::string("wslgo-lsp ") + WSLGO_VERSION);
  app.add_option("--log-level", logLevel, "trace, debug, info, warning, error, critical or off")
      ->capture_default_str();
  app.add_option("--socket", socketPath,
                 "listen on this path when not started by wslgo-lsp.socket");
  app.add_option("--request-wait", requestWait,
                 "seconds a request waits for a restarting gopls before it is answered "
                 "ContentModified")
      ->capture_default_str()
      ->check(CLI::Range(1.0, 3600.0));
  app.add_option("--reconnect-window", reconnectWindow,
                 "seconds gopls has to come back before the editor's connection is closed")
      ->capture_default_str()
      ->check(CLI::Range(1.0, 86400.0));
  CLI11_PARSE(app, argc, argv);

  auto level = wslgo::parseLogLevel(logLevel);
  if (!level) {
    std::fprintf(stderr, "wslgo-lsp: --log-level: %s\n", level.error().describe().c_str());
    return 2;
  }
  wslgo::setupLogging(wslgo::detectLogTarget(), *level, "wslgo-lsp");
  wslgo::KeeperLimits limits;
  limits.requestWait = wslgo::Usec(static_cast<int64_t>(requestWait * 1e6));
  limits.reconnectWindow = wslgo::Usec(static_cast<int64_t>(reconnectWindow * 1e6));
  return wslgo::runKeeper(socketPath, limits);
}
