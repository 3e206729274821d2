# Runs `dine-chaos --parse-only FILE` and checks the outcome (ctest helper).
#   cmake -DCHAOS=path/to/dine-chaos -DFILE=scenario.chaos -P check_parse.cmake
# A good scenario must parse (exit 0). A file with a line
#   # expect-error: TEXT
# must be rejected with exit status 2 and TEXT in the message (TEXT
# usually starts with `:LINE:` to pin the reported line number).
execute_process(COMMAND ${CHAOS} --parse-only ${FILE}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
file(STRINGS ${FILE} want REGEX "^# expect-error: ")
if(NOT want)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${FILE} does not parse (exit ${rc}): ${err}")
  endif()
  return()
endif()
string(REPLACE "# expect-error: " "" want "${want}")
if(NOT rc EQUAL 2)
  message(FATAL_ERROR "expected exit status 2, got ${rc}: ${out}${err}")
endif()
string(FIND "${err}" "${want}" pos)
if(pos EQUAL -1)
  message(FATAL_ERROR "expected the error `${want}`, got: ${err}")
endif()
