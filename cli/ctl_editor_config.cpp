#include "cli/ctl_editor_config.h"

#include <sys/stat.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "lib/doctor_status.h"
#include "lib/editor_config.h"
#include "lib/workspace_path.h"

namespace wslgo::ctl {
namespace {

struct EditorConfigOptions {
  std::string path = ".";
  std::string editor;
};

void fail(Run& run, ExitCode code, const std::string& message) {
  run.output.err << "wslgo-guardctl editor-config: " << message << "\n";
  run.exitCode = code;
}

bool isSocket(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0 && S_ISSOCK(info.st_mode);
}

void showEditorConfig(Run& run, const EditorConfigOptions& options,
                      const std::function<Result<std::string>()>& guardStatus) {
  char resolved[PATH_MAX];
  if (::realpath(options.path.c_str(), resolved) == nullptr) {
    const int code = errno;
    return fail(run, ExitCode::Usage,
                options.path + ": " + std::strerror(code) + "; pass a directory of the workspace");
  }
  const std::string directory = resolved;

  auto json = guardStatus ? guardStatus()
                          : Result<std::string>(Error{.code = 0, .path = {}, .message = {}});
  if (!json) {
    // The guard client's message says why and how to start the guard.
    return fail(run, ExitCode::GuardUnreachable, json.error().describe());
  }
  auto status = parseGuardStatus(*json);
  if (!status) return fail(run, ExitCode::Failure, status.error().describe());

  std::vector<std::string> roots;
  for (const StatusWorkspace& w : status->workspaces) roots.push_back(w.path);
  auto root = workspaceContaining(roots, directory);
  if (!root) {
    return fail(run, ExitCode::NoSuchWorkspace,
                directory +
                    " is not inside a guarded workspace: `wslgo-guardctl add DIR` guards a Go "
                    "module (the session keeper also adds one when an editor opens it)");
  }
  const StatusWorkspace* workspace = nullptr;
  for (const StatusWorkspace& w : status->workspaces) {
    if (w.path == *root) workspace = &w;
  }

  const std::string runtimeDir = run.host.variable("XDG_RUNTIME_DIR");
  EditorConfigRequest request;
  request.workspace = workspace->path;
  request.workspaceSocket = workspace->socket;
  if (runtimeDir.starts_with('/')) {
    request.keeperSocket = keeperSocketPath(runtimeDir);
    request.keeperListening = isSocket(request.keeperSocket);
  } else {
    request.keeperSocket = "$XDG_RUNTIME_DIR/wslgo-guard/lsp.sock";
  }
  if (!options.editor.empty()) request.editors.push_back(*parseEditor(options.editor));
  run.output.out << renderEditorConfig(request);
  run.exitCode = ExitCode::Ok;
}

}  // namespace

void addEditorConfigCommand(CLI::App& app, Run& run,
                            std::function<Result<std::string>()> guardStatus) {
  auto options = std::make_shared<EditorConfigOptions>();
  CLI::App* command = app.add_subcommand(
      "editor-config",
      "Print the editor settings that reach the workspace's gopls through wslgo-guard: the "
      "session keeper's socket (one setting for every module; editors stay connected when gopls "
      "restarts) and the workspace's own socket. Exit 3 when the guard is not reachable, 4 when "
      "PATH is in no guarded workspace.");
  command->add_option("PATH", options->path,
                      "A directory in the workspace (default: the current directory)");
  std::vector<std::string> names;
  for (Editor editor : kAllEditors) names.emplace_back(toString(editor));
  command->add_option("--editor", options->editor, "Only this editor's settings (default: all)")
      ->check(CLI::IsMember(names));
  command->callback([&run, options, guardStatus = std::move(guardStatus)] {
    showEditorConfig(run, *options, guardStatus);
  });
}

}  // namespace wslgo::ctl
