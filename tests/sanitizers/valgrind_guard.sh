#!/usr/bin/env bash
# The guard under valgrind memcheck through the integration cases that drive it hardest over the
# bus ([guard]: workspaces, actions, reloads, restarts, a corrupt state file; [guardctl]: every
# command of wslgo-guardctl): any memory error, or a block definitely lost at exit, fails.
# Usage: valgrind_guard.sh INTEGRATION_TEST_BINARY [CATCH_SPEC]   (ctest runs it; see
# docs/testing.md)
set -euo pipefail
binary=$1
# Not [abuse]: bursts of 10,000 calls, kills timed against saves and memory-footprint checks
# measure valgrind at twenty times the guard's cost, not the guard.
spec=${2:-[guard]~[abuse],[guardctl]}
command -v valgrind >/dev/null || { echo "valgrind is not installed: scripts/install-deps" >&2; exit 1; }
logs=$(mktemp -d /tmp/wslgo-valgrind-XXXXXX)
trap 'rm -rf "$logs"' EXIT

# GuardDaemon (tests/integration/support) puts these words before the guard's binary.
export WSLGO_TEST_GUARD_WRAPPER="valgrind --leak-check=full --errors-for-leak-kinds=definite \
--show-leak-kinds=definite --num-callers=30 --log-file=$logs/guard.%p"
"$binary" "$spec"

runs=0 killed=0 failed=0
for log in "$logs"/guard.*; do
  [ -e "$log" ] || continue
  runs=$((runs + 1))
  if ! grep -q "ERROR SUMMARY:" "$log"; then
    # A case that kills the guard with SIGKILL on purpose: valgrind cannot report then.
    killed=$((killed + 1))
  elif ! grep -q "ERROR SUMMARY: 0 errors" "$log"; then
    failed=$((failed + 1))
    echo "---- valgrind found errors in a guard run ($log):" >&2
    head -n 300 "$log" >&2
  fi
done
echo "valgrind: $runs guard runs, $failed with errors or definite leaks, $killed killed on purpose"
[ "$runs" -gt 0 ] || { echo "no guard ran under valgrind: the wrapper did not reach it" >&2; exit 1; }
[ "$failed" -eq 0 ]
