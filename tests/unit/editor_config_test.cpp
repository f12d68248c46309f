#include <catch2/catch.hpp>

#include "lib/editor_config.h"

namespace wslgo {
namespace {

const std::string kKeeper = "/run/user/1000/wslgo-guard/lsp.sock";
const std::string kOwn = "/run/user/1000/wslgo-guard/gopls-90c94e57ccdfa240.sock";

}  // namespace

TEST_CASE("editor-config: the keeper's socket is under XDG_RUNTIME_DIR", "[editor_config]") {
  CHECK(keeperSocketPath("/run/user/1000") == kKeeper);
  CHECK(keeperSocketPath("/run/user/1000/") == kKeeper);
}

TEST_CASE("editor-config: VS Code's snippet is go.languageServerFlags as README shows it",
          "[editor_config]") {
  CHECK(editorSnippet(Editor::VsCode, kKeeper) ==
        R"("go.languageServerFlags": ["-remote=unix;/run/user/1000/wslgo-guard/lsp.sock"])");
}

TEST_CASE("editor-config: Neovim's snippet sets lspconfig's gopls cmd", "[editor_config]") {
  CHECK(editorSnippet(Editor::Neovim, kKeeper) ==
        "require('lspconfig').gopls.setup{ cmd = { 'gopls', "
        "'-remote=unix;/run/user/1000/wslgo-guard/lsp.sock' } }");
}

TEST_CASE("editor-config: Helix's snippet is a languages.toml language-server table",
          "[editor_config]") {
  CHECK(editorSnippet(Editor::Helix, kKeeper) ==
        "[language-server.gopls]\ncommand = \"gopls\"\n"
        "args = [\"-remote=unix;/run/user/1000/wslgo-guard/lsp.sock\"]");
}

TEST_CASE("editor-config: Emacs' snippet adds gopls to eglot-server-programs for both Go modes",
          "[editor_config]") {
  CHECK(editorSnippet(Editor::Emacs, kKeeper) ==
        "(add-to-list 'eglot-server-programs '((go-mode go-ts-mode) . (\"gopls\" "
        "\"-remote=unix;/run/user/1000/wslgo-guard/lsp.sock\")))");
}

TEST_CASE("editor-config: Zed's snippet sets lsp.gopls.binary.arguments", "[editor_config]") {
  CHECK(
      editorSnippet(Editor::Zed, kKeeper) ==
      R"("lsp": { "gopls": { "binary": { "path": "gopls", "arguments": ["-remote=unix;/run/user/1000/wslgo-guard/lsp.sock"] } } })");
}

TEST_CASE("editor-config: quotes and backslashes in a socket path are escaped for each language",
          "[editor_config]") {
  const std::string odd = "/run/user/1000/a\"b\\c'd/lsp.sock";
  CHECK(editorSnippet(Editor::VsCode, odd) ==
        R"("go.languageServerFlags": ["-remote=unix;/run/user/1000/a\"b\\c'd/lsp.sock"])");
  CHECK(
      editorSnippet(Editor::Neovim, odd) ==
      R"(require('lspconfig').gopls.setup{ cmd = { 'gopls', '-remote=unix;/run/user/1000/a"b\\c\'d/lsp.sock' } })");
  CHECK(
      editorSnippet(Editor::Emacs, odd) ==
      R"((add-to-list 'eglot-server-programs '((go-mode go-ts-mode) . ("gopls" "-remote=unix;/run/user/1000/a\"b\\c'd/lsp.sock"))))");
}

TEST_CASE("editor-config: editor names parse to editors and nothing else does", "[editor_config]") {
  for (Editor editor : kAllEditors) CHECK(parseEditor(toString(editor)) == editor);
  CHECK_FALSE(parseEditor("vim"));
  CHECK_FALSE(parseEditor(""));
}

TEST_CASE(
    "editor-config: with the keeper listening, the keeper line comes first and the workspace's "
    "second",
    "[editor_config]") {
  const std::string text = renderEditorConfig({.workspace = "/home/me/src/app",
                                               .workspaceSocket = kOwn,
                                               .keeperSocket = kKeeper,
                                               .keeperListening = true,
                                               .editors = {Editor::Zed}});
  const size_t keeper = text.find("-remote=unix;" + kKeeper);
  const size_t own = text.find("-remote=unix;" + kOwn);
  REQUIRE(keeper != std::string::npos);
  REQUIRE(own != std::string::npos);
  CHECK(keeper < own);
  CHECK_THAT(text, Catch::Contains("Zed, user settings.json"));
  CHECK_THAT(text, !Catch::Contains("VS Code"));
}

TEST_CASE(
    "without the keeper's socket only the workspace's socket is given, with how to start "
    "the keeper",
    "[editor_config]") {
  const std::string text = renderEditorConfig({.workspace = "/home/me/src/app",
                                               .workspaceSocket = kOwn,
                                               .keeperSocket = kKeeper,
                                               .keeperListening = false,
                                               .editors = {}});
  CHECK_THAT(text, Catch::Contains("systemctl --user enable --now wslgo-lsp.socket"));
  CHECK(text.find("-remote=unix;" + kKeeper) == std::string::npos);
  for (Editor editor : kAllEditors) {
    CHECK_THAT(text, Catch::Contains(std::string(editorSettingsPlace(editor))));
  }
}

}  // namespace wslgo
