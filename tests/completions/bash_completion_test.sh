#!/usr/bin/env bash
# Checks completions/wslgo-guardctl.bash in a plain bash (no bash-completion package), the way
# bash calls it: COMP_WORDS and COMP_CWORD set, the function run, COMPREPLY read.
# Usage: bash_completion_test.sh CASE COMPLETION_SCRIPT [WSLGO_GUARDCTL]
#   CASE: loads | commands | editor-values | workspaces | matches-help (needs WSLGO_GUARDCTL)
set -euo pipefail
case_name=$1
script=$2

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# Completes the words given (the last one is the word under the cursor) into $reply, sorted.
complete_words() {
  COMP_WORDS=("$@")
  COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
  COMP_LINE="$*"
  COMP_POINT=${#COMP_LINE}
  COMPREPLY=()
  _wslgo_guardctl
  reply=$(printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ')
  reply=${reply% }
}

expect() {
  local want=$1
  shift
  complete_words "$@"
  [[ $reply == "$want" ]] || fail "completing [$*]: got [$reply], want [$want]"
  echo "ok: [$*] -> [$reply]"
}

# shellcheck source=/dev/null
source "$script" || fail "sourcing $script failed"

case $case_name in
  loads)
    spec=$(complete -p wslgo-guardctl) || fail "complete -p wslgo-guardctl: no completion"
    [[ $spec == "complete -F _wslgo_guardctl wslgo-guardctl" ]] || fail "unexpected: $spec"
    echo "ok: $spec"
    ;;
  commands)
    all="add config doctor dry-run editor-config gc inspect logs profile reload remove restart"
    all+=" simulate status trim version watch"
    expect "$all" wslgo-guardctl ""
    expect "editor-config" wslgo-guardctl ed
    expect "$all" wslgo-guardctl --no-color ""
    expect "--help --no-color --no-colour --version" wslgo-guardctl --
    expect "check" wslgo-guardctl config ""
    expect "off on" wslgo-guardctl dry-run ""
    expect "--follow --help --lines --no-color --no-colour -f -n" wslgo-guardctl logs -
    ;;
  editor-values)
    expect "emacs helix neovim vscode zed" wslgo-guardctl editor-config --editor ""
    expect "neovim" wslgo-guardctl editor-config --editor ne
    expect "emacs helix neovim vscode zed" wslgo-guardctl editor-config /tmp --editor ""
    # --editor=VALUE: bash splits the '=' into a word of its own.
    expect "emacs helix neovim vscode zed" wslgo-guardctl editor-config --editor = ""
    ;;
  workspaces)
    # A stand-in wslgo-guardctl on PATH answering __workspaces as a guard with two workspaces.
    standin=$(mktemp -d)
    trap 'rm -rf "$standin"' EXIT
    cat >"$standin/wslgo-guardctl" <<'STANDIN'
#!/bin/sh
[ "$1" = __workspaces ] || exit 2
printf '%s\n' /home/me/src/app /home/me/src/monorepo
STANDIN
    chmod +x "$standin/wslgo-guardctl"
    PATH=$standin:$PATH
    for command in remove gc trim restart profile logs editor-config; do
      expect "/home/me/src/app /home/me/src/monorepo" wslgo-guardctl "$command" ""
    done
    expect "/home/me/src/monorepo" wslgo-guardctl gc /home/me/src/m
    # Typed from ~/: the roots under $HOME, given back as typed.
    HOME=/home/me expect "~/src/app ~/src/monorepo" wslgo-guardctl trim "~/src/"
    expect "/home/me/src/app /home/me/src/monorepo" wslgo-guardctl logs -f -n 20 ""
    expect "/home/me/src/app /home/me/src/monorepo" wslgo-guardctl restart --reason leak ""
    # add takes a module directory, not a guarded workspace.
    mkdir "$standin/module"
    expect "$standin/module" wslgo-guardctl add "$standin/mod"
    # ~/ with no guarded root under it: the directories there, still in the ~/ form.
    HOME=$standin expect "~/module" wslgo-guardctl gc "~/mod"
    # No guard (the stand-in prints nothing): directories instead, and no error text.
    printf '#!/bin/sh\nexit 0\n' >"$standin/wslgo-guardctl"
    expect "$standin/module" wslgo-guardctl gc "$standin/mod"
    ;;
  matches-help)
    # The commands the binary's --help lists (a new command needs its completion too).
    ctl=$3
    listed=$("$ctl" --help | sed -n '/^Subcommands:/,$p' | sed -n 's/^  \([a-z][a-z-]*\) .*/\1/p' |
      sort | tr '\n' ' ')
    expect "${listed% }" wslgo-guardctl ""
    ;;
  *)
    fail "unknown case $case_name"
    ;;
esac
