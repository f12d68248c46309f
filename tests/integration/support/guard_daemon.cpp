#include "tests/integration/support/guard_daemon.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace wslgo::test {
namespace fs = std::filesystem;

GuardHome::GuardHome() {
  std::string pattern = (fs::temp_directory_path() / "wslgo-guard-home-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  home_ = pattern;
  fs::create_directories(runtimeDir());
  ::chmod(runtimeDir().c_str(), 0700);
  fs::create_directories(stateDir());
  fs::create_directories(configDir() + "/wslgo-guard");
}

GuardHome::~GuardHome() {
  std::error_code ignored;
  fs::remove_all(home_, ignored);
}

void GuardHome::writeUserConfig(const std::string& json) const {
  std::ofstream(configDir() + "/wslgo-guard/config.json") << json;
}

std::string GuardHome::makeModule(const std::string& name) const {
  std::string dir = home_ + "/src/" + name;
  fs::create_directories(dir);
  std::ofstream(dir + "/go.mod") << "module example.com/" << name << "\n\ngo 1.19\n";
  std::ofstream(dir + "/main.go") << "package main\n\nimport \"fmt\"\n\nfunc greet() string {\n"
                                  << "\treturn \"hello\"\n}\n\nfunc main() {\n"
                                  << "\tfmt.Println(greet())\n}\n";
  return dir;
}

std::vector<std::pair<std::string, std::string>> GuardHome::environment() const {
  return {{"HOME", home()},
          {"XDG_RUNTIME_DIR", runtimeDir()},
          {"XDG_STATE_HOME", stateDir()},
          {"XDG_CONFIG_HOME", configDir()}};
}

std::string GuardDaemon::binaryPath() {
  return std::string(WSLGO_BINARY_DIR) + "/daemon/wslgo-guard";
}

Result<std::unique_ptr<GuardDaemon>> GuardDaemon::start(const PrivateBus& bus,
                                                        const GuardHome& home,
                                                        const std::string& extraArgs) {
  std::string logPath = home.home() + "/guard-" + std::to_string(::time(nullptr)) + "-" +
                        std::to_string(std::rand()) + ".log";
  const auto environment = home.environment();
  pid_t pid = ::fork();
  if (pid < 0) return errnoError(errno, "fork", "cannot start wslgo-guard");
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    ::setenv("DBUS_SESSION_BUS_ADDRESS", bus.address().c_str(), 1);
    for (const auto& [name, value] : environment) ::setenv(name.c_str(), value.c_str(), 1);
    ::unsetenv("JOURNAL_STREAM");
    ::unsetenv("NOTIFY_SOCKET");
    // scripts/test runs some suites with the guard under valgrind: the wrapper's words come
    // before the binary (WSLGO_TEST_GUARD_WRAPPER="valgrind --leak-check=full ...").
    const char* wrapper = std::getenv("WSLGO_TEST_GUARD_WRAPPER");
    std::string command = std::string("exec ") + (wrapper != nullptr ? wrapper : "") + " '" +
                          binaryPath() + "' --log-level=debug " + extraArgs + " 2>>'" + logPath +
                          "'";
    ::execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  std::unique_ptr<GuardDaemon> daemon(new GuardDaemon(pid, logPath));
  if (!bus.waitForName("org.wslgo.Guard1", std::chrono::seconds(20))) {
    return errnoError(ETIMEDOUT, binaryPath(),
                      "did not own org.wslgo.Guard1 within 20 s; its log:\n" + daemon->log());
  }
  return daemon;
}

GuardDaemon::~GuardDaemon() {
  if (pid_ > 0) (void)stop();
}

bool GuardDaemon::running() {
  if (pid_ <= 0) return false;
  int status = 0;
  pid_t done = ::waitpid(pid_, &status, WNOHANG);
  if (done == pid_) {
    pid_ = -1;
    return false;
  }
  return true;
}

void GuardDaemon::signal(int signo) const {
  if (pid_ > 0) ::kill(pid_, signo);
}

Result<int> GuardDaemon::stop(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return 0;
  ::kill(pid_, SIGTERM);
  // Under valgrind the exit's leak check alone takes seconds.
  if (std::getenv("WSLGO_TEST_GUARD_WRAPPER") != nullptr) timeout *= 4;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return status;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill();
  return errnoError(ETIMEDOUT, binaryPath(), "did not exit within the timeout after SIGTERM");
}

void GuardDaemon::kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

std::string GuardDaemon::log() const {
  std::ifstream in(logPath_);
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace wslgo::test
