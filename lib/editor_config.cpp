#include "lib/editor_config.h"

#include <cstdio>

#include "lib/file_path.h"

namespace wslgo {
namespace {

// A JSON (and TOML basic) string: quotes, backslashes and control characters escaped.
std::string jsonString(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char escaped[8];
          std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned>(c));
          out += escaped;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

// A Lua single-quoted string.
std::string luaString(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out + "'";
}

// An Emacs Lisp string.
std::string elispString(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace

std::string_view toString(Editor editor) {
  switch (editor) {
    case Editor::VsCode:
      return "vscode";
    case Editor::Neovim:
      return "neovim";
    case Editor::Helix:
      return "helix";
    case Editor::Emacs:
      return "emacs";
    case Editor::Zed:
      return "zed";
  }
  return "vscode";
}

std::optional<Editor> parseEditor(std::string_view name) {
  for (Editor editor : kAllEditors) {
    if (toString(editor) == name) return editor;
  }
  return std::nullopt;
}

std::string_view editorSettingsPlace(Editor editor) {
  switch (editor) {
    case Editor::VsCode:
      return "VS Code (Go extension), user settings.json";
    case Editor::Neovim:
      return "Neovim (nvim-lspconfig), init.lua";
    case Editor::Helix:
      return "Helix, ~/.config/helix/languages.toml";
    case Editor::Emacs:
      return "Emacs (eglot), init.el";
    case Editor::Zed:
      return "Zed, user settings.json";
  }
  return "";
}

std::string keeperSocketPath(std::string_view xdgRuntimeDir) {
  return joinPath(xdgRuntimeDir, "wslgo-guard/lsp.sock");
}

std::string remoteFlag(std::string_view socket) { return "-remote=unix;" + std::string(socket); }

std::string editorSnippet(Editor editor, std::string_view socket) {
  const std::string flag = remoteFlag(socket);
  switch (editor) {
    case Editor::VsCode:
      return "\"go.languageServerFlags\": [" + jsonString(flag) + "]";
    case Editor::Neovim:
      return "require('lspconfig').gopls.setup{ cmd = { 'gopls', " + luaString(flag) + " } }";
    case Editor::Helix:
      return "[language-server.gopls]\ncommand = \"gopls\"\nargs = [" + jsonString(flag) + "]";
    case Editor::Emacs:
      return "(add-to-list 'eglot-server-programs '((go-mode go-ts-mode) . (\"gopls\" " +
             elispString(flag) + ")))";
    case Editor::Zed:
      return "\"lsp\": { \"gopls\": { \"binary\": { \"path\": \"gopls\", \"arguments\": [" +
             jsonString(flag) + "] } } }";
  }
  return flag;
}

std::string renderEditorConfig(const EditorConfigRequest& request) {
  std::vector<Editor> editors = request.editors;
  if (editors.empty()) editors.assign(std::begin(kAllEditors), std::end(kAllEditors));
  std::string out;
  if (!request.keeperListening) {
    out += "# The session keeper's socket " + request.keeperSocket +
           " does not exist: start it with `systemctl --user enable --now wslgo-lsp.socket` for "
           "one setting that serves every module. Until then, this workspace's own gopls:\n";
  }
  for (Editor editor : editors) {
    if (!out.empty()) out += "\n";
    out += "# " + std::string(editorSettingsPlace(editor)) + "\n";
    if (request.keeperListening) {
      out +=
          "# Every Go module, through the session keeper (stays connected when gopls "
          "restarts):\n";
      out += editorSnippet(editor, request.keeperSocket) + "\n";
      out += "# Or only " + request.workspace +
             ", straight to its gopls (the editor's client exits when gopls restarts):\n";
    } else {
      out += "# " + request.workspace + " only (the editor's client exits when gopls restarts):\n";
    }
    out += editorSnippet(editor, request.workspaceSocket) + "\n";
  }
  return out;
}

}  // namespace wslgo
