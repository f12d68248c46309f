// wslgo-guardctl as a person runs it: the built binary against the real guard on a private bus
// (fake systemd1, real gopls), its output and exit codes (docs/guardctl.md).
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/integration/support/guard_scenario.h"

namespace wslgo::test {
namespace {

std::string guardctlBinary() { return std::string(WSLGO_BINARY_DIR) + "/cli/wslgo-guardctl"; }

struct CtlRun {
  int exitCode = -1;
  std::string out;
  std::string err;
};

// Runs `wslgo-guardctl ARGS` in `cwd` on the bus at `busAddress`, without colour (NO_COLOR),
// as a shell would. `environment`: more `NAME=value` words for env(1).
CtlRun runGuardctl(const std::string& busAddress, const std::string& cwd, const std::string& args,
                   const std::string& environment = "") {
  char dirTemplate[] = "/tmp/wslgo-guardctl-XXXXXX";
  REQUIRE(::mkdtemp(dirTemplate) != nullptr);
  const std::string dir = dirTemplate;
  const std::string command = "cd " + shellQuoted(cwd) + " && env NO_COLOR=1 COLUMNS=100 " +
                              "DBUS_SESSION_BUS_ADDRESS=" + shellQuoted(busAddress) + " " +
                              environment + " " + shellQuoted(guardctlBinary()) + " " + args +
                              " >" + dir + "/out 2>" + dir + "/err";
  const int status = std::system(command.c_str());
  CtlRun run;
  run.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  run.out = readFile(dir + "/out");
  run.err = readFile(dir + "/err");
  std::filesystem::remove_all(dir);
  UNSCOPED_INFO("wslgo-guardctl " << args << " -> " << run.exitCode << "\nstdout:\n"
                                  << run.out << "stderr:\n"
                                  << run.err);
  return run;
}

#define WSLGO_REQUIRE_GUARDCTL()                  \
  if (!std::filesystem::exists(guardctlBinary())) \
  FAIL(guardctlBinary() << " is not built: cmake --build BUILD --target wslgo-guardctl")

// What `sh -c COMMAND` prints on stdout.
std::string runShell(const std::string& command) {
  std::string out;
  FILE* pipe = ::popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  char buffer[4096];
  size_t got = 0;
  while ((got = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) out.append(buffer, got);
  ::pclose(pipe);
  return out;
}

size_t lineCount(const std::string& text) {
  return static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
}

}  // namespace

TEST_CASE("guardctl adds a module, shows it, acts on it and removes it", "[guardctl]") {
  WSLGO_REQUIRE_GUARDCTL();
  WSLGO_START_SCENARIO(s);
  const std::string bus = s.bus.address();
  const std::string module = s.home.makeModule("app");
  std::filesystem::create_directories(s.home.home() + "/src/x");

  auto empty = runGuardctl(bus, s.home.home(), "");  // status is the default
  CHECK(empty.exitCode == 0);
  CHECK_THAT(empty.out, Catch::Contains(": ok, 0 workspaces") && Catch::Contains("MemAvailable") &&
                            Catch::Contains("memory PSI"));
  CHECK(empty.out.find('\x1b') == std::string::npos);

  // A path relative to the current directory, made absolute before the guard sees it.
  auto added = runGuardctl(bus, s.home.home() + "/src/x", "add ../app");
  REQUIRE(added.exitCode == 0);
  CHECK_THAT(added.out, Catch::Contains("Guarding " + module) && Catch::Contains("wslgo-gopls@") &&
                            Catch::Contains(".service"));
  CtlRun again = runGuardctl(bus, module, "add");
  CHECK(again.exitCode == 1);
  CHECK(lineCount(again.err) == 1);
  CHECK_THAT(again.err,
             Catch::StartsWith("wslgo-guardctl: ") && !Catch::Contains("org.wslgo.Guard1.Error"));

  sdbus::ObjectPath object;
  s.manager->callMethod("GetWorkspace")
      .onInterface(kManager)
      .withArguments(module)
      .storeResultsTo(object);
  auto workspace = s.workspaceProxy(object);
  REQUIRE(waitUntil([&] { return workspaceProperty<uint64_t>(*workspace, "HeapInUse") > 0; }));

  auto status = runGuardctl(bus, "/", "status");
  CHECK(status.exitCode == 0);
  CHECK_THAT(status.out, Catch::Contains(": ok, 1 workspace") && Catch::Contains(module + "\n") &&
                             Catch::Contains("running, unit active, pid ") &&
                             Catch::Contains("Memory") && Catch::Contains("warning ") &&
                             Catch::Contains("no action yet"));
  auto json = runGuardctl(bus, "/", "status --json");
  CHECK(json.exitCode == 0);
  auto parsed = nlohmann::json::parse(json.out, nullptr, false);
  REQUIRE(parsed.is_object());
  CHECK(parsed["schema_version"] == 1);
  REQUIRE(parsed["workspaces"].size() == 1);
  CHECK(parsed["workspaces"][0]["path"] == module);

  // The workspace is the one holding the current directory, or PATH anywhere inside it.
  std::filesystem::create_directories(module + "/internal/x");
  auto gc = runGuardctl(bus, module + "/internal/x", "gc");
  CHECK(gc.exitCode == 0);
  CHECK_THAT(gc.out, Catch::StartsWith("GC of " + module + ": ") && Catch::Contains(" freed)"));
  CHECK(waitUntil([&] { return s.sawEvent("ActionTaken gc done"); }));
  CHECK_THAT(runGuardctl(bus, "/", "status").out,
             Catch::Contains("  Last      gc, just now\n") || Catch::Contains(" s ago\n"));

  auto trim = runGuardctl(bus, "/", "trim " + shellQuoted(module + "/internal"));
  CHECK(trim.exitCode == 0);
  CHECK_THAT(trim.out, Catch::StartsWith("Trimmed " + module + ": "));

  auto profile = runGuardctl(bus, module, "profile");
  REQUIRE(profile.exitCode == 0);
  const std::string heading = "Heap profile of " + module + ": ";
  REQUIRE_THAT(profile.out, Catch::StartsWith(heading));
  std::string file = profile.out.substr(heading.size());
  file = file.substr(0, file.find('\n'));
  CHECK(std::filesystem::file_size(file) > 0);
  // The line a person pastes: a shell must read the same path back, systemd's `\x2d` escapes
  // in the unit's directory name included.
  const std::string marker = "Open it with: go tool pprof -http=: ";
  const auto at = profile.out.find(marker);
  REQUIRE(at != std::string::npos);
  std::string word = profile.out.substr(at + marker.size());
  word = word.substr(0, word.find('\n'));
  const std::string echoed = runShell("printf %s " + word);
  CHECK(echoed == file);

  const uint32_t pid = workspaceProperty<uint32_t>(*workspace, "MainPID");
  auto restart = runGuardctl(bus, module, "restart --reason 'asked by the test'");
  CHECK(restart.exitCode == 0);
  CHECK_THAT(restart.out, Catch::Contains("Restarted the gopls of " + module));
  CHECK(waitUntil([&] { return s.sawEvent("ActionTaken restart done"); }));
  CHECK_THAT(s.eventsStartingWith("ActionTaken restart done").front(),
             Catch::Contains("asked by the test"));
  CHECK(waitUntil([&] {
    const uint32_t now = workspaceProperty<uint32_t>(*workspace, "MainPID");
    return now > 0 && now != pid;
  }));

  // logs execs journalctl for the workspace's unit: a stand-in on PATH shows how.
  const std::string bin = s.home.home() + "/bin";
  std::filesystem::create_directories(bin);
  std::ofstream(bin + "/journalctl") << "#!/bin/sh\necho journalctl \"$@\"\n";
  std::filesystem::permissions(bin + "/journalctl", std::filesystem::perms::owner_all);
  auto logs = runGuardctl(bus, module, "logs -f", "PATH=" + shellQuoted(bin) + ":\"$PATH\"");
  CHECK(logs.exitCode == 0);
  CHECK_THAT(logs.out, Catch::Matches("journalctl --user-unit wslgo-gopls@.*\\.service -f\n"));

  auto dryRunOn = runGuardctl(bus, "/", "dry-run on");
  CHECK(dryRunOn.exitCode == 0);
  CHECK(managerProperty<bool>(s, "DryRun"));
  CHECK(runGuardctl(bus, "/", "dry-run").out == "Dry run is on\n");
  CHECK(runGuardctl(bus, "/", "dry-run off").exitCode == 0);
  CHECK_FALSE(managerProperty<bool>(s, "DryRun"));

  auto version = runGuardctl(bus, "/", "version");
  CHECK(version.exitCode == 0);
  CHECK_THAT(version.out, Catch::Matches("wslgo-guardctl [0-9.]+\nwslgo-guard [0-9.]+\n"));

  auto removed = runGuardctl(bus, module, "remove");
  CHECK(removed.exitCode == 0);
  CHECK_THAT(removed.out, Catch::StartsWith("No longer guarding " + module));
  CHECK(s.sawEvent("WorkspaceRemoved " + module));
  CHECK_THAT(runGuardctl(bus, "/", "status").out, Catch::Contains("0 workspaces"));
  auto gone = runGuardctl(bus, module, "gc");
  CHECK(gone.exitCode == 4);
}

TEST_CASE(
    "guardctl exits 4 for a path in no workspace and 1 with the guard's message for a "
    "rejected configuration",
    "[guardctl]") {
  WSLGO_REQUIRE_GUARDCTL();
  WSLGO_START_SCENARIO(s);
  const std::string bus = s.bus.address();

  for (const char* command : {"gc", "trim", "restart", "profile", "logs", "remove"}) {
    auto run = runGuardctl(bus, s.home.home(), command);
    CHECK(run.exitCode == 4);
    CHECK(run.out.empty());
    CHECK(lineCount(run.err) == 1);
    CHECK_THAT(run.err, Catch::Contains(s.home.home() + " is not inside a guarded workspace") &&
                            Catch::Contains("wslgo-guardctl add DIR"));
  }

  CHECK(runGuardctl(bus, "/", "reload").exitCode == 0);
  s.home.writeUserConfig(R"({ "guard": { "sample_interval": "soon" } })");
  auto reload = runGuardctl(bus, "/", "reload");
  CHECK(reload.exitCode == 1);
  CHECK(lineCount(reload.err) == 1);
  CHECK_THAT(reload.err, Catch::StartsWith("wslgo-guardctl: ") &&
                             Catch::Contains("/.config/wslgo-guard/config.json") &&
                             Catch::Contains("sample_interval") &&
                             !Catch::Contains("org.wslgo.Guard1.Error"));
  CHECK(s.guard->running());
}

TEST_CASE("guardctl exits 3 and says how to start the guard when nobody owns its name",
          "[guardctl]") {
  WSLGO_REQUIRE_GUARDCTL();
  WSLGO_START_PRIVATE_BUS(bus);

  for (const char* command : {"", "status --json", "gc /", "reload", "dry-run on", "add /"}) {
    auto run = runGuardctl(bus.address(), "/", command);
    CHECK(run.exitCode == 3);
    CHECK(run.out.empty());
    CHECK(lineCount(run.err) == 1);
    CHECK_THAT(run.err, Catch::Contains("the guard is not running") &&
                            Catch::Contains("systemctl --user start wslgo-guard"));
  }
  auto version = runGuardctl(bus.address(), "/", "version");
  CHECK(version.exitCode == 3);
  CHECK_THAT(version.out, Catch::Matches("wslgo-guardctl [0-9.]+\n"));

  // No bus at all: the same exit code, and what to check.
  auto noBus = runGuardctl("unix:path=/nonexistent/bus", "/", "status");
  CHECK(noBus.exitCode == 3);
  CHECK(lineCount(noBus.err) == 1);
  CHECK_THAT(noBus.err, Catch::Contains("cannot connect to the user bus") &&
                            Catch::Contains("systemctl --user start wslgo-guard"));
}

TEST_CASE("a Tab completing a workspace gives up on a guard that does not answer", "[guardctl]") {
  WSLGO_REQUIRE_GUARDCTL();
  WSLGO_START_PRIVATE_BUS(bus);
  // Owns the guard's name and never reads a message: a hung guard, as the bus sees one.
  auto hung = bus.connect();
  hung->requestName("org.wslgo.Guard1");

  const auto start = std::chrono::steady_clock::now();
  auto completion = runGuardctl(bus.address(), "/", "__workspaces");
  const auto waited = std::chrono::steady_clock::now() - start;
  CHECK(completion.exitCode == 0);
  CHECK(completion.out.empty());
  CHECK(completion.err.empty());
  // kCompletionCallTimeout is 1.5 s; D-Bus' default, what it waited before, is 25 s.
  CHECK(waited < std::chrono::seconds(5));
  CHECK(waited >= std::chrono::milliseconds(1400));
}

TEST_CASE("guardctl exits 2 for bad usage, and its --help and --version need no guard",
          "[guardctl]") {
  WSLGO_REQUIRE_GUARDCTL();
  const std::string noBus = "unix:path=/nonexistent/bus";
  auto bogus = runGuardctl(noBus, "/", "--bogus");
  CHECK(bogus.exitCode == 2);
  CHECK(lineCount(bogus.err) == 1);
  CHECK_THAT(bogus.err, Catch::StartsWith("wslgo-guardctl: ") && Catch::Contains("--bogus"));
  CHECK(runGuardctl(noBus, "/", "frobnicate").exitCode == 2);
  CHECK(runGuardctl(noBus, "/", "dry-run maybe").exitCode == 2);
  CHECK(runGuardctl(noBus, "/", "gc a b").exitCode == 2);

  auto help = runGuardctl(noBus, "/", "--help");
  CHECK(help.exitCode == 0);
  for (const char* command : {"status", "add", "remove", "gc", "trim", "restart", "profile", "logs",
                              "reload", "dry-run", "version"}) {
    CHECK_THAT(help.out, Catch::Contains(std::string("  ") + command));
  }
  CHECK_THAT(runGuardctl(noBus, "/", "restart --help").out, Catch::Contains("--reason"));
  auto version = runGuardctl(noBus, "/", "--version");
  CHECK(version.exitCode == 0);
  CHECK_THAT(version.out, Catch::Matches("wslgo-guardctl [0-9.]+\n"));
}

}  // namespace wslgo::test
