#!/bin/sh
# `zsh -n` over completions/_wslgo-guardctl. Exit 77 (skipped) when zsh is not installed: the
# project does not depend on zsh, so neither does CI.
# Usage: zsh_syntax_test.sh COMPLETION_FILE
if ! command -v zsh >/dev/null 2>&1; then
  echo "SKIP: zsh is not installed, so _wslgo-guardctl cannot be syntax-checked here"
  exit 77
fi
zsh -n "$1" && echo "ok: zsh -n $1"
