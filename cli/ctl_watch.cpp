#include "cli/ctl_watch.h"

#include <poll.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <iterator>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "lib/ctl_watch_render.h"
#include "lib/doctor_status.h"

namespace wslgo::ctl {
namespace {

struct WatchOptions {
  int intervalSeconds = 1;
  int spanMinutes = 5;
};

// Set by the signal handlers, read by the loop between its waits (the signals are blocked
// except inside ppoll, so none is missed between a check and the wait).
volatile std::sig_atomic_t gQuitSignal = 0;
volatile std::sig_atomic_t gResized = 0;

void onQuitSignal(int signal) { gQuitSignal = signal; }
void onResize(int /*signal*/) { gResized = 1; }

constexpr int kQuitSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

// Catches the signals that end the watch (and SIGWINCH) for as long as it lives, blocked but
// inside waitForInput(); then puts back the handlers and the mask it found.
class WatchSignals {
 public:
  WatchSignals() {
    gQuitSignal = 0;
    gResized = 0;
    sigset_t watched;
    sigemptyset(&watched);
    struct sigaction action {};
    action.sa_handler = onQuitSignal;  // no SA_RESTART: ppoll returns at once
    sigemptyset(&action.sa_mask);
    for (size_t i = 0; i < std::size(kQuitSignals); ++i) {
      sigaction(kQuitSignals[i], &action, &previous_[i]);
      sigaddset(&watched, kQuitSignals[i]);
    }
    action.sa_handler = onResize;
    sigaction(SIGWINCH, &action, &previousWinch_);
    sigaddset(&watched, SIGWINCH);
    sigprocmask(SIG_BLOCK, &watched, &unblocked_);
  }
  ~WatchSignals() {
    for (size_t i = 0; i < std::size(kQuitSignals); ++i) {
      sigaction(kQuitSignals[i], &previous_[i], nullptr);
    }
    sigaction(SIGWINCH, &previousWinch_, nullptr);
    sigprocmask(SIG_SETMASK, &unblocked_, nullptr);
  }
  WatchSignals(const WatchSignals&) = delete;
  WatchSignals& operator=(const WatchSignals&) = delete;

  // The mask to wait with: the one before, so the watched signals get through.
  const sigset_t& unblocked() const { return unblocked_; }

 private:
  struct sigaction previous_[std::size(kQuitSignals)]{};
  struct sigaction previousWinch_ {};
  sigset_t unblocked_{};
};

// Writes all of `text` to `fd`.
Result<void> writeAll(int fd, std::string_view text) {
  while (!text.empty()) {
    const ssize_t written = ::write(fd, text.data(), text.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      return errnoError(errno, "the terminal", "cannot draw on it");
    }
    text.remove_prefix(static_cast<size_t>(written));
  }
  return {};
}

// The terminal in the watch's mode while it lives: cbreak without echo and without signal keys
// (Ctrl-C arrives as a byte, Ctrl-Z does nothing), the alternate screen, the cursor hidden. The
// destructor puts back the attributes it found and the normal screen, whatever ended the watch.
class TerminalScreen {
 public:
  TerminalScreen(int in, int out) : in_(in), out_(out) {}
  ~TerminalScreen() {
    if (!entered_) return;
    (void)writeAll(out_, "\x1b[?25h\x1b[?1049l");
    ::tcsetattr(in_, TCSADRAIN, &saved_);
  }
  TerminalScreen(const TerminalScreen&) = delete;
  TerminalScreen& operator=(const TerminalScreen&) = delete;

  Result<void> enter() {
    if (::tcgetattr(in_, &saved_) != 0) {
      return errnoError(errno, "the terminal", "cannot read its attributes");
    }
    termios cbreak = saved_;
    cbreak.c_lflag &= ~static_cast<tcflag_t>(ICANON | ECHO | ISIG | IEXTEN);
    cbreak.c_cc[VMIN] = 1;
    cbreak.c_cc[VTIME] = 0;
    if (::tcsetattr(in_, TCSADRAIN, &cbreak) != 0) {
      return errnoError(errno, "the terminal", "cannot switch it to cbreak mode");
    }
    entered_ = true;
    return writeAll(out_, "\x1b[?1049h\x1b[?25l");
  }

 private:
  int in_;
  int out_;
  termios saved_{};
  bool entered_ = false;
};

struct TerminalSize {
  int columns = 80;
  int rows = 24;
};

TerminalSize terminalSize(int fd, TerminalSize fallback) {
  winsize size{};
  if (::ioctl(fd, TIOCGWINSZ, &size) == 0 && size.ws_col > 0 && size.ws_row > 0) {
    return {.columns = size.ws_col, .rows = size.ws_row};
  }
  return fallback;
}

// The memory histories a frame shows, the workspaces' objects remembered between frames.
class HistoryFetcher {
 public:
  explicit HistoryFetcher(Guard& guard) : guard_(guard) {}

  std::vector<MemoryHistory> fetch(const std::vector<std::string>& paths, uint64_t sinceUsec) {
    std::vector<MemoryHistory> histories;
    for (const std::string& path : paths) {
      auto known = objects_.find(path);
      if (known == objects_.end()) {
        auto ref = guard_.workspaceHolding(path);
        if (!ref) continue;
        known = objects_.emplace(path, *ref).first;
      }
      auto samples = guard_.history(known->second, sinceUsec);
      if (!samples) {
        objects_.erase(known);  // removed, or removed and added again: look it up anew
        continue;
      }
      MemoryHistory history{.path = path, .memory = {}};
      for (const HistorySample& sample : *samples) history.memory.push_back(sample.memoryCurrent);
      histories.push_back(std::move(history));
    }
    return histories;
  }

 private:
  Guard& guard_;
  std::map<std::string, WorkspaceRef> objects_;
};

enum class Wake { Timeout, Redraw, Quit };

// Waits up to `timeout` for a key or a signal. q, Q, Ctrl-C and Ctrl-D quit; other keys are
// read and ignored.
Wake waitForInput(int in, std::chrono::milliseconds timeout, const WatchSignals& signals) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    if (gQuitSignal != 0) return Wake::Quit;
    if (gResized != 0) {
      gResized = 0;
      return Wake::Redraw;
    }
    const auto left = std::chrono::duration_cast<std::chrono::nanoseconds>(deadline - Clock::now());
    if (left.count() <= 0) return Wake::Timeout;
    const timespec wait{.tv_sec = static_cast<time_t>(left.count() / 1'000'000'000),
                        .tv_nsec = static_cast<long>(left.count() % 1'000'000'000)};
    pollfd input{.fd = in, .events = POLLIN, .revents = 0};
    const int ready = ::ppoll(&input, 1, &wait, &signals.unblocked());
    if (ready < 0) {
      if (errno == EINTR) continue;
      return Wake::Quit;
    }
    if (ready == 0) continue;
    if ((input.revents & (POLLHUP | POLLERR | POLLNVAL)) != 0) return Wake::Quit;
    char keys[64];
    const ssize_t got = ::read(in, keys, sizeof keys);
    if (got <= 0) return Wake::Quit;  // end of input: nobody can press q any more
    for (ssize_t i = 0; i < got; ++i) {
      if (keys[i] == 'q' || keys[i] == 'Q' || keys[i] == '\x03' || keys[i] == '\x04') {
        return Wake::Quit;
      }
    }
  }
}

// The frame as drawn over the previous one: from the top left, each line cleared to its end
// and the rest of the screen below the last; without a final newline, which would scroll.
std::string overdrawn(const std::string& frame) {
  std::string out = "\x1b[H";
  size_t start = 0;
  while (start < frame.size()) {
    size_t end = frame.find('\n', start);
    if (end == std::string::npos) end = frame.size();
    out.append(frame, start, end - start);
    out += "\x1b[K";
    if (end + 1 < frame.size()) out += "\n";
    start = end + 1;
  }
  return out + "\x1b[J";
}

// The loop, on the alternate screen; an Error ends it. `firstStatus` is the GetStatus answer
// that showed the guard is there.
Result<void> watchLoop(Run& run, Guard& guard, const StatusView& start, const WatchOptions& options,
                       std::string firstStatus, const WatchSignals& signals) {
  TerminalScreen screen(STDIN_FILENO, STDOUT_FILENO);
  if (auto entered = screen.enter(); !entered) return entered.error();
  HistoryFetcher fetcher(guard);
  std::string status = std::move(firstStatus);
  std::string problem;  // why there is no status to show: the last GetStatus failed
  TerminalSize fallback{.columns = start.width, .rows = 24};
  for (;;) {
    const TerminalSize size = terminalSize(STDOUT_FILENO, fallback);
    const uint64_t now = run.host.realtimeUsec();
    const uint64_t span = static_cast<uint64_t>(options.spanMinutes) * 60'000'000;
    const WatchView view{
        .status = {.nowUsec = now, .colour = run.output.colour, .width = size.columns},
        .height = size.rows,
        .intervalSeconds = options.intervalSeconds,
        .spanMinutes = options.spanMinutes};
    std::string frame;
    if (status.empty()) {
      frame = "Every " + std::to_string(options.intervalSeconds) + " s; q or Ctrl-C quits\n\n" +
              problem;
    } else {
      auto rendered = renderWatchFrame(
          status, fetcher.fetch(workspaceRootsIn(status), now > span ? now - span : 0), view);
      if (!rendered) return rendered.error();
      frame = std::move(*rendered);
    }
    if (auto drawn = writeAll(STDOUT_FILENO, overdrawn(frame)); !drawn) return drawn.error();

    const Wake wake =
        waitForInput(STDIN_FILENO, std::chrono::seconds(options.intervalSeconds), signals);
    if (wake == Wake::Quit) return {};
    if (wake == Wake::Redraw) continue;  // same status, new size
    auto next = guard.status();
    // The guard restarting should not end the watch: say so on the screen and keep asking.
    status = next ? std::move(*next) : std::string();
    problem = next ? std::string() : "wslgo-guardctl: " + next.error().message + "\n";
  }
}

void watch(Run& run, Guard& guard, const StatusView& start, const WatchOptions& options) {
  if (::isatty(STDIN_FILENO) != 1 || ::isatty(STDOUT_FILENO) != 1) {
    run.output.err << "wslgo-guardctl: watch needs a terminal on stdin and stdout; use "
                      "`wslgo-guardctl status` (or `status --json`) outside one\n";
    run.exitCode = ExitCode::Usage;
    return;
  }
  // Before the screen changes: a guard that is not there is one line on the normal screen.
  auto first = guard.status();
  if (!first) {
    run.output.err << "wslgo-guardctl: " << first.error().message << "\n";
    run.exitCode = exitCodeFor(first.error());
    return;
  }
  int quitSignal = 0;
  Result<void> ended;
  {
    WatchSignals signals;
    try {
      ended = watchLoop(run, guard, start, options, std::move(*first), signals);
    } catch (const std::exception& e) {
      ended = Error{.code = 0, .path = {}, .message = describeException(e)};
    }
    quitSignal = gQuitSignal;
  }  // the terminal is restored by now, then the signals' handlers
  if (!ended) {
    run.output.err << "wslgo-guardctl: watch stopped: " << ended.error().describe() << "\n";
    run.exitCode = ExitCode::Failure;
    return;
  }
  // Killed (SIGTERM, SIGHUP, SIGQUIT) rather than asked to quit: die of it, as the caller
  // expects, now that the terminal is back.
  if (quitSignal != 0 && quitSignal != SIGINT) {
    std::signal(quitSignal, SIG_DFL);
    std::raise(quitSignal);
  }
}

}  // namespace

void addWatchCommand(CLI::App& app, Run& run, Guard& guard, const StatusView& view) {
  CLI::App* command = app.add_subcommand(
      "watch",
      "Show the status live, redrawn every interval, with a sparkline of each workspace's "
      "memory over the last minutes; q or Ctrl-C quits. Needs a terminal");
  auto options = std::make_shared<WatchOptions>();
  command->add_option("--interval", options->intervalSeconds, "Seconds between frames (1-3600)")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  command
      ->add_option("--minutes", options->spanMinutes,
                   "How far back the memory sparklines reach (1-1440)")
      ->check(CLI::Range(1, 1440))
      ->capture_default_str();
  command->callback([&run, &guard, view, options] { watch(run, guard, view, *options); });
}

}  // namespace wslgo::ctl
