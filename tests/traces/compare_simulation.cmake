# Runs wslgo-simulate on TRACE (with CONFIG when given) and compares its stdout with EXPECTED.
# Usage: cmake -DSIMULATE=... -DDEFAULTS=... -DTRACE=... -DEXPECTED=... [-DCONFIG=...] -P this
set(args --defaults ${DEFAULTS})
if(CONFIG)
  list(APPEND args --config ${CONFIG})
endif()
execute_process(COMMAND ${SIMULATE} ${args} ${TRACE}
  OUTPUT_VARIABLE actual ERROR_VARIABLE errors RESULT_VARIABLE status)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "wslgo-simulate failed (${status}): ${errors}")
endif()
file(READ ${EXPECTED} expected)
if(NOT actual STREQUAL expected)
  message(FATAL_ERROR "wslgo-simulate's timeline differs from ${EXPECTED}.\n"
    "--- actual ---\n${actual}\n"
    "If the change is intended, regenerate with WSLGO_UPDATE_GOLDEN=1 (tests/traces/README.md).")
endif()
