#!/bin/sh
# A generated man page renders with man(1) at 80 columns, with its NAME section and the name it
# documents; given WSLGO_GUARDCTL, every command its --help lists has an entry in the page.
# Usage: man_page_test.sh PAGE_FILE NAME [WSLGO_GUARDCTL]
set -eu
page=$1
name=$2
[ -s "$page" ] || { echo "FAIL: $page is missing or empty (is scdoc installed?)" >&2; exit 1; }
out=$(MANWIDTH=80 man -l "$page" 2>&1) || {
  echo "FAIL: man -l $page failed: $out" >&2
  exit 1
}
printf '%s\n' "$out" | grep -q '^NAME' || { echo "FAIL: no NAME section in $page" >&2; exit 1; }
printf '%s\n' "$out" | grep -q "$name" || { echo "FAIL: $name not in $page" >&2; exit 1; }
# scdoc passes a stray formatting character through as text; rendered, none may remain.
if printf '%s\n' "$out" | grep -n '\\f[BIRP]'; then
  echo "FAIL: unrendered roff escapes in $page" >&2
  exit 1
fi
if [ $# -ge 3 ]; then
  for command in $("$3" --help | sed -n '/^Subcommands:/,$p' | sed -n 's/^  \([a-z][a-z-]*\) .*/\1/p'); do
    printf '%s\n' "$out" | grep -q "^       $command\( \|\$\)" ||
      { echo "FAIL: no entry for the command $command in $page" >&2; exit 1; }
  done
fi
echo "ok: $page renders ($(printf '%s\n' "$out" | wc -l) lines)"
