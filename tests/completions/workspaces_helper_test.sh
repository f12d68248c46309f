#!/bin/sh
# `wslgo-guardctl __workspaces` with no guard to reach: nothing on stdout or stderr, exit 0, so a
# completion never prints into the command line; and the command stays out of --help.
# Usage: workspaces_helper_test.sh WSLGO_GUARDCTL
set -u
ctl=$1
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
DBUS_SESSION_BUS_ADDRESS=unix:path=$scratch/no-bus XDG_RUNTIME_DIR=$scratch \
  "$ctl" __workspaces >"$scratch/out" 2>"$scratch/err"
code=$?
[ "$code" -eq 0 ] || { echo "FAIL: exit $code, want 0" >&2; cat "$scratch/err" >&2; exit 1; }
[ ! -s "$scratch/out" ] || { echo "FAIL: printed to stdout:" >&2; cat "$scratch/out" >&2; exit 1; }
[ ! -s "$scratch/err" ] || { echo "FAIL: printed to stderr:" >&2; cat "$scratch/err" >&2; exit 1; }
if "$ctl" --help | grep -q __workspaces; then
  echo "FAIL: --help lists __workspaces" >&2
  exit 1
fi
echo "ok: __workspaces is quiet without a guard and hidden from --help"
