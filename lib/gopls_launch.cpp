#include "lib/gopls_launch.h"

#include <algorithm>
#include <cerrno>

#include <nlohmann/json.hpp>

#include "lib/workspace_socket.h"

namespace wslgo {
namespace {

std::optional<std::string> valueOf(const LaunchInputs& inputs, const std::string& key) {
  auto it = inputs.unitEnvironment.find(key);
  if (it != inputs.unitEnvironment.end() && !it->second.empty()) return it->second;
  return std::nullopt;
}

Result<std::string> findGopls(const LaunchInputs& inputs) {
  std::vector<std::string> tried;
  auto candidate = [&](const std::string& path) {
    tried.push_back(path);
    return inputs.isExecutable(path);
  };
  // Configured paths are taken as given: a wrong one must fail loudly, not fall through.
  for (const auto& [where, value] :
       {std::pair{"WSLGO_GOPLS (gopls.path in the guard's config)", valueOf(inputs, "WSLGO_GOPLS")},
        std::pair{"$GOPLS", inputs.getenv ? inputs.getenv("GOPLS") : std::nullopt}}) {
    if (!value || value->empty()) continue;
    if (inputs.isExecutable(*value)) return *value;
    return errnoError(ENOENT, *value,
                      std::string("named by ") + where + " is not an executable file");
  }
  if (!inputs.home.empty() && candidate(inputs.home + "/go/bin/gopls")) {
    return inputs.home + "/go/bin/gopls";
  }
  std::string path = inputs.getenv ? inputs.getenv("PATH").value_or("") : "";
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find(':', start);
    if (end == std::string::npos) end = path.size();
    std::string dir = path.substr(start, end - start);
    if (!dir.empty() && candidate(dir + "/gopls")) return dir + "/gopls";
    start = end + 1;
  }
  std::string list;
  for (const std::string& t : tried) list += (list.empty() ? "" : ", ") + t;
  return errnoError(ENOENT, "gopls",
                    "not found (tried " + (list.empty() ? std::string("nothing") : list) +
                        "); install it (apt install gopls, or go install "
                        "golang.org/x/tools/gopls@latest) or set gopls.path in the config");
}

}  // namespace

Result<bool> debugServerWanted(const std::map<std::string, std::string>& variables) {
  auto it = variables.find(std::string(kDebugServerVariable));
  if (it == variables.end() || it->second == "1") return true;
  if (it->second == "0") return false;
  return errnoError(EINVAL, std::string(kDebugServerVariable),
                    "is \"" + it->second +
                        "\" where 0 or 1 was expected; wslgo-guard rewrites the file from "
                        "gopls.debug_server when it starts the unit");
}

Result<std::string> launchSocket(const LaunchInputs& inputs) {
  if (auto socket = valueOf(inputs, "WSLGO_SOCKET")) return *socket;
  if (inputs.runtimeDir.empty()) {
    return errnoError(EINVAL, "XDG_RUNTIME_DIR",
                      "is not set; run the unit under the user's systemd (systemctl --user)");
  }
  return workspaceSocketPath(inputs.runtimeDir, inputs.workspace);
}

Result<GoplsLaunch> planGoplsLaunch(const LaunchInputs& inputs) {
  GoplsLaunch launch;
  auto gopls = findGopls(inputs);
  if (!gopls) return gopls.error();
  launch.gopls = *gopls;
  auto socket = launchSocket(inputs);
  if (!socket) return socket.error();
  launch.socket = *socket;
  auto debugServer = debugServerWanted(inputs.unitEnvironment);
  if (!debugServer) return debugServer.error();
  if (*debugServer) {
    // Picked now, at every start: a port recorded earlier may have been taken by anyone since.
    if (!inputs.freePort) {
      return errnoError(EADDRNOTAVAIL, "127.0.0.1",
                        "no free loopback port for gopls' debug server (set gopls.debug_server "
                        "to false in the guard's config to run without one)");
    }
    launch.debugAddress = "127.0.0.1:" + std::to_string(*inputs.freePort);
  }
  for (const auto& [key, value] : inputs.unitEnvironment) {
    if (key.rfind("WSLGO_", 0) != 0) launch.environment[key] = value;
  }
  launch.argv = {launch.gopls, "-listen=unix;" + launch.socket};
  if (!launch.debugAddress.empty()) launch.argv.push_back("-debug=" + launch.debugAddress);
  if (auto extra = valueOf(inputs, "WSLGO_GOPLS_ARGS")) {
    auto parsed = nlohmann::json::parse(*extra, nullptr, /*allow_exceptions=*/false);
    if (!parsed.is_array() ||
        !std::all_of(parsed.begin(), parsed.end(), [](const auto& a) { return a.is_string(); })) {
      return errnoError(EINVAL, "WSLGO_GOPLS_ARGS",
                        "is not a JSON array of strings (" + *extra +
                            "); fix gopls.args in the config and restart the unit");
    }
    for (const auto& arg : parsed) launch.argv.push_back(arg.get<std::string>());
  }
  return launch;
}

}  // namespace wslgo
