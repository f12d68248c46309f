#include "lib/gopls_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "tests/unit/fixtures.h"
#include "tests/unit/live.h"

using wslgo::classifyGoplsCommand;
using wslgo::GoplsAddress;
using wslgo::GoplsNetwork;
using wslgo::GoplsRole;
using wslgo::parseGoplsAddress;

namespace {

using Argv = std::vector<std::string>;

GoplsRole roleOf(const Argv& argv, std::string_view exe = "/usr/bin/gopls") {
  return classifyGoplsCommand(argv, exe).role;
}

// Where `name` is on PATH, or nothing.
std::optional<std::string> findOnPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::string_view dirs = path != nullptr ? path : "/usr/bin:/bin";
  while (!dirs.empty()) {
    size_t colon = dirs.find(':');
    std::string candidate = std::string(dirs.substr(0, colon)) + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    dirs = colon == std::string_view::npos ? std::string_view() : dirs.substr(colon + 1);
  }
  return std::nullopt;
}

// A child process killed and reaped when the test ends, whether it passed or not.
struct ChildGuard {
  pid_t pid = -1;
  ~ChildGuard() {
    if (pid <= 0) return;
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
  }
};

}  // namespace

TEST_CASE("gopls addresses split into network and address the way gopls reads them", "[gopls]") {
  CHECK(parseGoplsAddress("unix;/run/user/1000/gopls.sock") ==
        GoplsAddress{GoplsNetwork::Unix, "/run/user/1000/gopls.sock"});
  CHECK(parseGoplsAddress("127.0.0.1:37374") == GoplsAddress{GoplsNetwork::Tcp, "127.0.0.1:37374"});
  CHECK(parseGoplsAddress("tcp;localhost:9000") ==
        GoplsAddress{GoplsNetwork::Tcp, "localhost:9000"});
  CHECK(parseGoplsAddress(":0") == GoplsAddress{GoplsNetwork::Tcp, ":0"});
  CHECK(parseGoplsAddress("auto") == GoplsAddress{GoplsNetwork::Auto, ""});
  CHECK(parseGoplsAddress("auto;myid") == GoplsAddress{GoplsNetwork::Auto, "myid"});
  CHECK(parseGoplsAddress("vsock;3:1024") == GoplsAddress{GoplsNetwork::Other, "vsock;3:1024"});
  // A socket path may itself hold a semicolon; only the first one separates the network.
  CHECK(parseGoplsAddress("unix;/tmp/a;b") == GoplsAddress{GoplsNetwork::Unix, "/tmp/a;b"});
  CHECK_FALSE(parseGoplsAddress("").isSet());
}

TEST_CASE("a gopls listening on a socket is a daemon, with or without serve", "[gopls]") {
  auto daemon = classifyGoplsCommand({"gopls", "-listen=unix;/tmp/g.sock", "-listen.timeout=1m",
                                      "-debug=127.0.0.1:6060", "-logfile=/tmp/g.log"},
                                     "/usr/bin/gopls");
  CHECK(daemon.role == GoplsRole::Daemon);
  CHECK(daemon.subcommand.empty());
  CHECK(daemon.listen == GoplsAddress{GoplsNetwork::Unix, "/tmp/g.sock"});
  CHECK(daemon.debugAddress == "127.0.0.1:6060");
  CHECK(daemon.logfile == "/tmp/g.log");
  CHECK_FALSE(daemon.remote.isSet());

  auto serve = classifyGoplsCommand({"gopls", "serve", "-listen", "unix;/tmp/g.sock"}, "");
  CHECK(serve.role == GoplsRole::Daemon);
  CHECK(serve.subcommand == "serve");
  CHECK(serve.listen == GoplsAddress{GoplsNetwork::Unix, "/tmp/g.sock"});

  auto tcp = classifyGoplsCommand({"gopls", "--listen=127.0.0.1:0", "-rpc.trace"}, "");
  CHECK(tcp.role == GoplsRole::Daemon);
  CHECK(tcp.listen == GoplsAddress{GoplsNetwork::Tcp, "127.0.0.1:0"});

  // -port listens on TCP too.
  auto port = classifyGoplsCommand({"gopls", "-port", "9000"}, "");
  CHECK(port.role == GoplsRole::Daemon);
  CHECK(port.listen == GoplsAddress{GoplsNetwork::Tcp, ":9000"});

  // Flags before and after serve both count; a value flag takes the next argument even when
  // it is not -listen, so "1m" is not mistaken for a subcommand.
  auto split = classifyGoplsCommand({"gopls", "-listen.timeout", "1m", "-logfile", "auto", "serve",
                                     "-debug", ":0", "-listen", "unix;/tmp/x"},
                                    "");
  CHECK(split.role == GoplsRole::Daemon);
  CHECK(split.logfile == "auto");
  CHECK(split.debugAddress == ":0");
  CHECK(split.listen.address == "/tmp/x");

  // A bool flag takes no value: the argument after it is the next flag.
  CHECK(roleOf({"gopls", "-rpc.trace", "-listen=:4389"}) == GoplsRole::Daemon);
  CHECK(roleOf({"gopls", "-v", "serve", "-listen=:4389"}) == GoplsRole::Daemon);
}

TEST_CASE("a gopls with -remote forwards to a daemon", "[gopls]") {
  auto unix = classifyGoplsCommand({"gopls", "-remote=unix;/tmp/g.sock"}, "/usr/bin/gopls");
  CHECK(unix.role == GoplsRole::Forwarder);
  CHECK(unix.remote == GoplsAddress{GoplsNetwork::Unix, "/tmp/g.sock"});
  CHECK_FALSE(unix.listen.isSet());

  auto autoRemote = classifyGoplsCommand(
      {"gopls", "-remote=auto", "-remote.debug=:0", "-remote.listen.timeout", "5m", "serve"}, "");
  CHECK(autoRemote.role == GoplsRole::Forwarder);
  CHECK(autoRemote.remote.network == GoplsNetwork::Auto);
  CHECK(autoRemote.debugAddress.empty());  // -remote.debug is the daemon's, not this process's

  CHECK(roleOf({"gopls", "-remote", "localhost:4389"}) == GoplsRole::Forwarder);
  // gopls forwards whenever -remote is given, even if it also listens.
  CHECK(roleOf({"gopls", "serve", "-remote=auto", "-listen=:0"}) == GoplsRole::Forwarder);
}

TEST_CASE("a gopls with neither -listen nor -remote serves one editor on stdio", "[gopls]") {
  CHECK(roleOf({"gopls"}) == GoplsRole::Editor);
  CHECK(roleOf({"gopls", "serve"}) == GoplsRole::Editor);
  CHECK(roleOf({"gopls", "-mode=stdio"}) == GoplsRole::Editor);
  CHECK(roleOf({"gopls", "serve", "-rpc.trace", "-logfile", "/tmp/g.log"}) == GoplsRole::Editor);
  CHECK(roleOf({"/home/u/go/bin/gopls", "-vv", "serve"}, "/home/u/go/bin/gopls") ==
        GoplsRole::Editor);
  // A flag newer than this gopls's is read as a bool instead of hiding the server.
  CHECK(roleOf({"gopls", "-some.future.flag", "serve"}) == GoplsRole::Editor);
}

TEST_CASE("gopls subcommands other than serve, help and rejected command lines are tools",
          "[gopls]") {
  auto version = classifyGoplsCommand({"gopls", "version"}, "");
  CHECK(version.role == GoplsRole::Tool);
  CHECK(version.subcommand == "version");
  CHECK(roleOf({"gopls", "check", "main.go"}) == GoplsRole::Tool);
  CHECK(roleOf({"gopls", "definition", "main.go:#10"}) == GoplsRole::Tool);
  CHECK(roleOf({"gopls", "-remote=auto", "remote", "sessions"}) == GoplsRole::Tool);
  CHECK(roleOf({"gopls", "api-json"}) == GoplsRole::Tool);
  CHECK(roleOf({"gopls", "help", "serve"}) == GoplsRole::Tool);
  auto help = classifyGoplsCommand({"gopls", "-h"}, "");
  CHECK(help.role == GoplsRole::Tool);
  CHECK(help.subcommand == "help");
  CHECK(roleOf({"gopls", "serve", "--help"}) == GoplsRole::Tool);

  // Flags after a tool's name are the tool's, not the server's.
  auto flagsAfter = classifyGoplsCommand({"gopls", "version", "-listen=:0"}, "");
  CHECK(flagsAfter.role == GoplsRole::Tool);
  CHECK_FALSE(flagsAfter.listen.isSet());
  // After "--" everything is an argument: "-listen=:0" is an unknown subcommand.
  CHECK(roleOf({"gopls", "--", "-listen=:0"}) == GoplsRole::Tool);

  // Command lines gopls rejects at once.
  CHECK(roleOf({"gopls", "-listen"}) == GoplsRole::Tool);
  CHECK(roleOf({"gopls", "---listen=:0"}) == GoplsRole::Tool);
  CHECK(roleOf({"gopls", "-=x"}) == GoplsRole::Tool);
}

TEST_CASE("gopls is recognised by its first argument or by its executable, and nothing else is",
          "[gopls]") {
  CHECK(roleOf({"sleep", "1000"}, "/usr/bin/sleep") == GoplsRole::NotGopls);
  CHECK(roleOf({"go", "run", "golang.org/x/tools/gopls", "-listen=:0"}, "/usr/lib/go/bin/go") ==
        GoplsRole::NotGopls);
  CHECK(roleOf({"vim", "gopls"}, "/usr/bin/vim.basic") == GoplsRole::NotGopls);
  CHECK(roleOf({"goplsx"}, "/usr/local/bin/goplsx") == GoplsRole::NotGopls);
  CHECK(roleOf({"/home/u/bin/gopls-wrapper"}, "") == GoplsRole::NotGopls);

  // argv[0] alone (exe unreadable for another user's process).
  CHECK(roleOf({"/home/u/go/bin/gopls", "-listen=:0"}, "") == GoplsRole::Daemon);
  // exe alone (argv[0] rewritten).
  CHECK(roleOf({"lsp-server", "-listen=:0"}, "/usr/bin/gopls") == GoplsRole::Daemon);
  // A binary replaced since it started still names gopls.
  CHECK(roleOf({"go-lsp", "-remote=auto"}, "/home/u/go/bin/gopls (deleted)") ==
        GoplsRole::Forwarder);
  // A zombie gopls has no arguments left: nothing is running.
  CHECK(roleOf({}, "/usr/bin/gopls") == GoplsRole::NotGopls);
}

TEST_CASE("the captured processes classify as what was started", "[gopls]") {
  const wslgo::SysRoots roots = wslgo::test::fixtureRoots("processes");

  auto daemon = wslgo::inspectGoplsProcess(roots, 5298);
  REQUIRE(daemon.ok());
  CHECK(daemon->pid == 5298);
  CHECK(daemon->invocation.role == GoplsRole::Daemon);
  CHECK(daemon->invocation.listen ==
        GoplsAddress{GoplsNetwork::Unix, "/tmp/wslgo-fixture-gopls.sock"});
  CHECK(daemon->invocation.debugAddress == "127.0.0.1:0");
  CHECK(daemon->invocation.logfile == "/tmp/wslgo-fixture-gopls.log");
  CHECK(daemon->exe == "/usr/bin/gopls");
  CHECK(daemon->workingDirectory == "/tmp/wslgo-fixture-ws");

  auto tcp = wslgo::inspectGoplsProcess(roots, 5311);
  REQUIRE(tcp.ok());
  CHECK(tcp->invocation.role == GoplsRole::Daemon);
  CHECK(tcp->invocation.listen == GoplsAddress{GoplsNetwork::Tcp, "127.0.0.1:0"});

  auto forwarder = wslgo::inspectGoplsProcess(roots, 5320);
  REQUIRE(forwarder.ok());
  CHECK(forwarder->invocation.role == GoplsRole::Forwarder);
  CHECK(forwarder->invocation.remote ==
        GoplsAddress{GoplsNetwork::Unix, "/tmp/wslgo-fixture-gopls.sock"});

  auto editor = wslgo::inspectGoplsProcess(roots, 5336);
  REQUIRE(editor.ok());
  CHECK(editor->invocation.role == GoplsRole::Editor);

  auto deleted = wslgo::inspectGoplsProcess(roots, 5350);
  REQUIRE(deleted.ok());
  CHECK(deleted->invocation.role == GoplsRole::Daemon);
  CHECK(deleted->exe == "/tmp/wslgo-fixture-bin/gopls");
  CHECK(deleted->invocation.listen.address == "/tmp/wslgo-fixture-gopls2.sock");

  auto tool = wslgo::inspectGoplsProcess(roots, 5458);
  REQUIRE(tool.ok());
  CHECK(tool->invocation.role == GoplsRole::Tool);
  CHECK(tool->invocation.subcommand == "check");

  for (pid_t other : {2, 5335, 5363}) {
    auto process = wslgo::inspectGoplsProcess(roots, other);
    REQUIRE(process.ok());
    CHECK(process->invocation.role == GoplsRole::NotGopls);
  }

  auto vanished = wslgo::inspectGoplsProcess(roots, 31337);
  REQUIRE_FALSE(vanished.ok());
  CHECK(vanished.error().code == ENOENT);
}

TEST_CASE("the scan finds every captured gopls and skips the rest and the vanished", "[gopls]") {
  auto found = wslgo::findGoplsProcesses(wslgo::test::fixtureRoots("processes"));
  REQUIRE(found.ok());
  std::vector<std::pair<pid_t, GoplsRole>> roles;
  for (const auto& process : *found) roles.emplace_back(process.pid, process.invocation.role);
  std::sort(roles.begin(), roles.end());
  CHECK(roles == std::vector<std::pair<pid_t, GoplsRole>>{{5298, GoplsRole::Daemon},
                                                          {5311, GoplsRole::Daemon},
                                                          {5320, GoplsRole::Forwarder},
                                                          {5336, GoplsRole::Editor},
                                                          {5350, GoplsRole::Daemon},
                                                          {5458, GoplsRole::Tool}});

  auto noProc = wslgo::findGoplsProcesses(wslgo::SysRoots{"/nonexistent-wslgo-proc", "/sys"});
  REQUIRE_FALSE(noProc.ok());
  CHECK(noProc.error().code == ENOENT);
}

TEST_CASE("roles have names for logs and the bus", "[gopls]") {
  CHECK(wslgo::toString(GoplsRole::Daemon) == "daemon");
  CHECK(wslgo::toString(GoplsRole::Forwarder) == "forwarder");
  CHECK(wslgo::toString(GoplsRole::Editor) == "editor");
  CHECK(wslgo::toString(GoplsRole::Tool) == "tool");
  CHECK(wslgo::toString(GoplsRole::NotGopls) == "not-gopls");
}

TEST_CASE("the scan finds a gopls daemon this test starts", "[gopls][live]") {
  auto gopls = findOnPath("gopls");
  if (!gopls) WSLGO_SKIP_LIVE_TEST("gopls is not on PATH (scripts/install-deps installs it)");
  namespace fs = std::filesystem;
  std::string dirTemplate = (fs::temp_directory_path() / "wslgo-gopls-XXXXXX").string();
  REQUIRE(::mkdtemp(dirTemplate.data()) != nullptr);
  const fs::path dir = dirTemplate;
  const std::string socket = (dir / "daemon.sock").string();
  const std::string listen = "-listen=unix;" + socket;
  // Built before fork: the child only calls what is safe between fork and exec.
  std::vector<char*> argv = {const_cast<char*>("gopls"), const_cast<char*>(listen.c_str()),
                             const_cast<char*>("-listen.timeout=1m"), nullptr};

  ChildGuard child;
  child.pid = ::fork();
  REQUIRE(child.pid >= 0);
  if (child.pid == 0) {
    int null = ::open("/dev/null", O_RDWR);
    if (null < 0 || ::chdir(dir.c_str()) != 0) ::_exit(127);
    ::dup2(null, 0);
    ::dup2(null, 1);
    ::dup2(null, 2);
    ::execv(gopls->c_str(), argv.data());
    ::_exit(127);
  }

  std::optional<wslgo::GoplsProcess> mine;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!mine && std::chrono::steady_clock::now() < deadline) {
    auto found = wslgo::findGoplsProcesses(wslgo::SysRoots{});
    REQUIRE(found.ok());
    for (const auto& process : *found) {
      if (process.pid == child.pid) mine = process;
    }
    if (!mine) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  REQUIRE(mine.has_value());
  CHECK(mine->invocation.role == GoplsRole::Daemon);
  CHECK(mine->invocation.listen == GoplsAddress{GoplsNetwork::Unix, socket});
  CHECK(mine->exe == fs::canonical(*gopls).string());
  CHECK(mine->workingDirectory == fs::canonical(dir).string());

  ::kill(child.pid, SIGKILL);
  int status = 0;
  REQUIRE(::waitpid(child.pid, &status, 0) == child.pid);
  child.pid = -1;
  fs::remove_all(dir);
  auto gone = wslgo::inspectGoplsProcess(wslgo::SysRoots{}, mine->pid);
  CHECK_FALSE(gone.ok());
}

TEST_CASE("a debug address gives its port only when the guard can reach it on loopback") {
  using wslgo::loopbackDebugPort;
  CHECK(loopbackDebugPort("127.0.0.1:6060") == std::optional<uint16_t>(6060));
  CHECK(loopbackDebugPort("localhost:1") == std::optional<uint16_t>(1));
  CHECK(loopbackDebugPort(":54867") == std::optional<uint16_t>(54867));
  CHECK_FALSE(loopbackDebugPort("10.0.0.2:6060"));
  CHECK_FALSE(loopbackDebugPort("127.0.0.1:"));
  CHECK_FALSE(loopbackDebugPort("127.0.0.1:65536"));
  CHECK_FALSE(loopbackDebugPort("127.0.0.1:0"));
  CHECK_FALSE(loopbackDebugPort("127.0.0.1:12ab"));
  CHECK_FALSE(loopbackDebugPort(""));
}
