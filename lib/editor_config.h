// The editor settings that point an editor's gopls at wslgo-guard: the session keeper's socket
// (one line for every module) or one workspace's own gopls socket, per editor.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wslgo {

enum class Editor { VsCode, Neovim, Helix, Emacs, Zed };

inline constexpr Editor kAllEditors[] = {Editor::VsCode, Editor::Neovim, Editor::Helix,
                                         Editor::Emacs, Editor::Zed};

std::string_view toString(Editor editor);  // "vscode", "neovim", "helix", "emacs", "zed"
std::optional<Editor> parseEditor(std::string_view name);
// "VS Code (Go extension), user settings.json" and the like: where the snippet goes.
std::string_view editorSettingsPlace(Editor editor);

// The session keeper's socket: $XDG_RUNTIME_DIR/wslgo-guard/lsp.sock.
std::string keeperSocketPath(std::string_view xdgRuntimeDir);

// The gopls flag that reaches a socket: "-remote=unix;SOCKET".
std::string remoteFlag(std::string_view socket);

// The exact text for `editor` that makes it run `gopls -remote=unix;SOCKET`, quoted for the
// file's language (JSON, Lua, TOML, Emacs Lisp), as README "Editors" shows it.
std::string editorSnippet(Editor editor, std::string_view socket);

// What `wslgo-guardctl editor-config` prints for one workspace.
struct EditorConfigRequest {
  std::string workspace;         // the workspace root
  std::string workspaceSocket;   // its gopls' socket (GetStatus "socket")
  std::string keeperSocket;      // keeperSocketPath(...)
  bool keeperListening = false;  // the keeper's socket exists
  std::vector<Editor> editors;   // which snippets; all when empty
};

// Per editor: the keeper line (preferred: every module, editors stay connected when gopls
// restarts), then the workspace's own socket as the alternative. Without the keeper's socket
// only the workspace's, with a line saying how to start the keeper.
std::string renderEditorConfig(const EditorConfigRequest& request);

}  // namespace wslgo
