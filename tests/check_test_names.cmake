# Fails the build if a doctest test case name contains `;` (build helper).
#   cmake -DBIN=path/to/test-binary -P check_test_names.cmake
# doctest_discover_tests splits such a name into two ctest entries that each
# match no test case, so the case would silently never run.
execute_process(COMMAND ${BIN} --list-test-cases --no-version
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${BIN} --list-test-cases failed (${rc}): ${err}")
endif()
string(FIND "${out}" ";" pos)
if(NOT pos EQUAL -1)
  # Show the offending names: replace the list separator before splitting.
  string(REPLACE ";" "<SEMICOLON>" out "${out}")
  string(REPLACE "\n" ";" lines "${out}")
  foreach(line ${lines})
    if(line MATCHES "<SEMICOLON>")
      string(REPLACE "<SEMICOLON>" ";" line "${line}")
      message(SEND_ERROR "test case name contains ';': ${line}")
    endif()
  endforeach()
  message(FATAL_ERROR "rename the test cases above (docs/testing.md)")
endif()
