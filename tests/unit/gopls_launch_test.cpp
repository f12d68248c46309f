#include "lib/gopls_launch.h"

#include <catch2/catch.hpp>
#include <map>
#include <set>
#include <string>

#include "lib/workspace_socket.h"

using wslgo::LaunchInputs;
using wslgo::planGoplsLaunch;

namespace {

// A machine described by which files are executable and what the environment holds.
LaunchInputs machine(std::set<std::string> executables, std::map<std::string, std::string> env) {
  LaunchInputs inputs;
  inputs.workspace = "/home/dev/src/app";
  inputs.home = "/home/dev";
  inputs.runtimeDir = "/run/user/1000";
  inputs.getenv = [env](const std::string& name) -> std::optional<std::string> {
    auto it = env.find(name);
    return it == env.end() ? std::nullopt : std::optional<std::string>(it->second);
  };
  inputs.isExecutable = [executables](const std::string& path) {
    return executables.count(path) > 0;
  };
  inputs.freePort = 40123;
  return inputs;
}

}  // namespace

TEST_CASE("a unit started by hand uses the guard's default socket, a free port and gopls on PATH") {
  auto inputs = machine({"/usr/bin/gopls"}, {{"PATH", "/usr/local/bin:/usr/bin"}});
  auto launch = planGoplsLaunch(inputs);
  REQUIRE(launch.ok());
  CHECK(launch->gopls == "/usr/bin/gopls");
  CHECK(launch->socket == *wslgo::workspaceSocketPath("/run/user/1000", "/home/dev/src/app"));
  CHECK(launch->debugAddress == "127.0.0.1:40123");
  CHECK(launch->argv == std::vector<std::string>{"/usr/bin/gopls", "-listen=unix;" + launch->socket,
                                                 "-debug=127.0.0.1:40123"});
  CHECK(launch->environment.empty());
}

TEST_CASE(
    "the guard's environment file decides socket, gopls and the extra variables; the port "
    "is the one picked at this start") {
  auto inputs = machine({"/opt/gopls", "/usr/bin/gopls"}, {{"PATH", "/usr/bin"}});
  // An old file's WSLGO_DEBUG_ADDRESS is not reused: that port may be anyone's by now.
  inputs.unitEnvironment = {{"WSLGO_SOCKET", "/run/user/1000/wslgo-guard/gopls-x.sock"},
                            {"WSLGO_DEBUG_ADDRESS", "127.0.0.1:5000"},
                            {"WSLGO_GOPLS", "/opt/gopls"},
                            {"WSLGO_WORKSPACE", "/home/dev/src/app"},
                            {"GOMEMLIMIT", "1073741824"},
                            {"GOFLAGS", "-mod=mod"}};
  auto launch = planGoplsLaunch(inputs);
  REQUIRE(launch.ok());
  CHECK(launch->gopls == "/opt/gopls");
  CHECK(launch->socket == "/run/user/1000/wslgo-guard/gopls-x.sock");
  CHECK(launch->debugAddress == "127.0.0.1:40123");
  CHECK(launch->environment ==
        std::map<std::string, std::string>{{"GOMEMLIMIT", "1073741824"}, {"GOFLAGS", "-mod=mod"}});
}

TEST_CASE(
    "WSLGO_DEBUG_SERVER=0 starts gopls without -debug; a value other than 0 or 1 is refused") {
  auto inputs = machine({"/usr/bin/gopls"}, {{"PATH", "/usr/bin"}});
  inputs.unitEnvironment = {{"WSLGO_DEBUG_SERVER", "0"}};
  auto launch = planGoplsLaunch(inputs);
  REQUIRE(launch.ok());
  CHECK(launch->debugAddress.empty());
  CHECK(launch->argv ==
        std::vector<std::string>{"/usr/bin/gopls", "-listen=unix;" + launch->socket});
  inputs.unitEnvironment = {{"WSLGO_DEBUG_SERVER", "yes"}};
  auto refused = planGoplsLaunch(inputs);
  REQUIRE_FALSE(refused.ok());
  CHECK_THAT(refused.error().describe(), Catch::Contains("WSLGO_DEBUG_SERVER"));
  CHECK_THAT(refused.error().describe(), Catch::Contains("gopls.debug_server"));
}

TEST_CASE("gopls is looked for in $GOPLS, then ~/go/bin, then PATH, in that order") {
  std::map<std::string, std::string> env{{"PATH", "/usr/bin"}};
  CHECK(planGoplsLaunch(machine({"/home/dev/go/bin/gopls", "/usr/bin/gopls"}, env))->gopls ==
        "/home/dev/go/bin/gopls");
  env["GOPLS"] = "/srv/gopls";
  CHECK(planGoplsLaunch(machine({"/srv/gopls", "/home/dev/go/bin/gopls"}, env))->gopls ==
        "/srv/gopls");
}

TEST_CASE("a configured gopls that is not there fails by name instead of falling through") {
  auto inputs = machine({"/usr/bin/gopls"}, {{"PATH", "/usr/bin"}, {"GOPLS", "/nope/gopls"}});
  auto launch = planGoplsLaunch(inputs);
  REQUIRE_FALSE(launch.ok());
  CHECK(launch.error().describe().find("/nope/gopls") != std::string::npos);
  CHECK(launch.error().describe().find("$GOPLS") != std::string::npos);
}

TEST_CASE("no gopls anywhere is an error that lists where it looked and how to install it") {
  auto launch = planGoplsLaunch(machine({}, {{"PATH", "/usr/bin:/bin"}}));
  REQUIRE_FALSE(launch.ok());
  const std::string message = launch.error().describe();
  CHECK(message.find("/home/dev/go/bin/gopls, /usr/bin/gopls, /bin/gopls") != std::string::npos);
  CHECK(message.find("apt install gopls") != std::string::npos);
}

TEST_CASE("without XDG_RUNTIME_DIR and no socket in the file the launch is refused, saying why") {
  auto inputs = machine({"/usr/bin/gopls"}, {{"PATH", "/usr/bin"}});
  inputs.runtimeDir.clear();
  auto launch = planGoplsLaunch(inputs);
  REQUIRE_FALSE(launch.ok());
  CHECK(launch.error().describe().find("systemctl --user") != std::string::npos);
}

TEST_CASE("the stop step finds the socket even when gopls is no longer installed") {
  auto inputs = machine({}, {{"PATH", "/usr/bin"}});
  REQUIRE_FALSE(planGoplsLaunch(inputs).ok());
  auto socket = wslgo::launchSocket(inputs);
  REQUIRE(socket.ok());
  CHECK(*socket == *wslgo::workspaceSocketPath("/run/user/1000", "/home/dev/src/app"));
  inputs.unitEnvironment = {{"WSLGO_SOCKET", "/run/user/1000/wslgo-guard/gopls-x.sock"}};
  CHECK(*wslgo::launchSocket(inputs) == "/run/user/1000/wslgo-guard/gopls-x.sock");
}

TEST_CASE("gopls.args from the environment file follow the listen and debug flags intact") {
  auto inputs = machine({"/usr/bin/gopls"}, {{"PATH", "/usr/bin"}});
  inputs.unitEnvironment["WSLGO_GOPLS_ARGS"] = R"(["-rpc.trace", "-logfile=/tmp/a b.log"])";
  auto launch = planGoplsLaunch(inputs);
  REQUIRE(launch.ok());
  REQUIRE(launch->argv.size() == 5);
  CHECK(launch->argv[3] == "-rpc.trace");
  CHECK(launch->argv[4] == "-logfile=/tmp/a b.log");
  CHECK(launch->environment.count("WSLGO_GOPLS_ARGS") == 0);

  inputs.unitEnvironment["WSLGO_GOPLS_ARGS"] = "-rpc.trace";
  auto bad = planGoplsLaunch(inputs);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().describe().find("not a JSON array of strings") != std::string::npos);
}
