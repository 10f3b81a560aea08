# SPDX-License-Identifier: Apache-2.0
# run(COMMAND...): one step of a CLI flow script (apply_flow.cmake, cache_flow.cmake): runs it,
# prints the command line and its output, and stops the flow on a non-zero exit status.
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  string(REPLACE ";" " " shown "${ARGN}")
  message("$ ${shown}\n${out}${err}")
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "FAILED (exit status ${rc}): ${shown}")
  endif()
endfunction()
