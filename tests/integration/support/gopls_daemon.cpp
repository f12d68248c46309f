#include "tests/integration/support/gopls_daemon.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

namespace wslgo::test {
namespace {

using Clock = std::chrono::steady_clock;

Result<uint16_t> freeLoopbackPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return errnoError(errno, {}, "socket() for a free port");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    int error = errno;
    ::close(fd);
    return errnoError(error, {}, "binding 127.0.0.1:0 for a free port");
  }
  ::close(fd);
  return ntohs(address.sin_port);
}

bool isSocket(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode);
}

// True when an HTTP request to 127.0.0.1:port gets an HTTP status line back within a second.
bool debugServerAnswers(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  timeval second{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &second, sizeof(second));
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &second, sizeof(second));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(port);
  bool answered = false;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0) {
    std::string request = "GET /info HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
        static_cast<ssize_t>(request.size())) {
      char head[16] = {};
      ssize_t n = ::recv(fd, head, sizeof(head) - 1, MSG_WAITALL);
      answered = n > 5 && std::string_view(head, static_cast<size_t>(n)).starts_with("HTTP/");
    }
  }
  ::close(fd);
  return answered;
}

Result<void> writeFile(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  out.close();
  if (!out) return errnoError(EIO, path, "cannot write the test workspace");
  return {};
}

}  // namespace

std::string GoplsDaemon::binary() {
  const char* chosen = std::getenv("WSLGO_TEST_GOPLS");
  return chosen != nullptr && *chosen != '\0' ? chosen : "gopls";
}

bool GoplsDaemon::toolFound() {
  const std::string gopls = binary();
  if (gopls.find('/') != std::string::npos) return ::access(gopls.c_str(), X_OK) == 0;
  const char* path = std::getenv("PATH");
  if (path == nullptr) return false;
  std::stringstream dirs(path);
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (!dir.empty() && ::access((dir + "/" + gopls).c_str(), X_OK) == 0) return true;
  }
  return false;
}

Result<std::unique_ptr<GoplsDaemon>> GoplsDaemon::start(Options options) {
  std::unique_ptr<GoplsDaemon> daemon(new GoplsDaemon());
  std::string pattern = (std::filesystem::temp_directory_path() / "wslgo-gopls-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    return errnoError(errno, pattern, "cannot create gopls' temporary directory");
  }
  daemon->tempDir_ = pattern;
  daemon->socketPath_ = pattern + "/gopls.sock";
  daemon->logPath_ = pattern + "/gopls.log";
  daemon->workspace_ = options.workspace;
  if (daemon->workspace_.empty()) {
    daemon->workspace_ = pattern + "/ws";
    std::error_code ignored;
    std::filesystem::create_directory(daemon->workspace_, ignored);
    auto mod = writeFile(daemon->workspace_ + "/go.mod", "module example.com/ws\n\ngo 1.19\n");
    if (!mod.ok()) return mod.error();
    auto main =
        writeFile(daemon->workspace_ + "/main.go",
                  "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"hi\") }\n");
    if (!main.ok()) return main.error();
  }
  auto port = freeLoopbackPort();
  if (!port.ok()) return port.error();
  daemon->port_ = *port;

  std::string listen = "-listen=unix;" + daemon->socketPath_;
  std::string debug = "-debug=" + daemon->debugAddress();
  std::string gopls = binary();
  std::vector<char*> argv = {gopls.data(), listen.data(), debug.data(), nullptr};
  int log = ::open(daemon->logPath_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (log < 0) return errnoError(errno, daemon->logPath_, "cannot create gopls' log");
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) {
    int error = errno;
    ::close(log);
    return errnoError(error, {}, "fork() for gopls");
  }
  if (pid == 0) {
    // Only async-signal-safe calls until exec.
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    ::dup2(log, STDOUT_FILENO);
    ::dup2(log, STDERR_FILENO);
    int null = ::open("/dev/null", O_RDONLY);
    if (null >= 0) ::dup2(null, STDIN_FILENO);
    if (::chdir(daemon->workspace_.c_str()) != 0) ::_exit(126);
    ::execvp(gopls.c_str(), argv.data());
    ::_exit(127);
  }
  ::close(log);
  daemon->pid_ = pid;

  auto deadline = Clock::now() + options.startTimeout;
  while (true) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      daemon->pid_ = -1;
      return errnoError(
          ECHILD, daemon->workspace_,
          "gopls exited before its debug server answered; its output:\n" + daemon->output());
    }
    if (isSocket(daemon->socketPath_) && debugServerAnswers(daemon->port_)) return daemon;
    if (Clock::now() > deadline) {
      return errnoError(ETIMEDOUT, daemon->workspace_,
                        "gopls' socket or debug server did not come up in time; its output:\n" +
                            daemon->output());
    }
    // Nothing to wait on: gopls signals readiness only by listening.
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

GoplsDaemon::~GoplsDaemon() {
  if (pid_ > 0) {
    ::kill(-pid_, SIGTERM);
    auto deadline = Clock::now() + std::chrono::seconds(5);
    bool reaped = false;
    while (!reaped && Clock::now() < deadline) {
      reaped = ::waitpid(pid_, nullptr, WNOHANG) == pid_;
      if (!reaped) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (!reaped) {
      ::kill(-pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    ::kill(-pid_, SIGKILL);  // anything gopls started that outlived it
  }
  if (!tempDir_.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(tempDir_, ignored);
  }
}

std::string GoplsDaemon::output() const {
  std::ifstream in(logPath_);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace wslgo::test
