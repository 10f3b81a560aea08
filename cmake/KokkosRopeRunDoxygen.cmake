# SPDX-License-Identifier: Apache-2.0
# Runs Doxygen (cmake -P; the `docs` target of docs/CMakeLists.txt) and fails on any warning:
# Doxygen's own WARN_AS_ERROR = FAIL_ON_WARNINGS decides its exit status, and the warning log is
# counted here too, so that a warning can never pass silently. The warnings are printed with
# paths relative to the source tree; the full list stays in WARN_LOG.
#   cmake -DDOXYGEN=... -DDOXYFILE=... -DWARN_LOG=... -DSOURCE_DIR=... -P KokkosRopeRunDoxygen.cmake
foreach(var DOXYGEN DOXYFILE WARN_LOG SOURCE_DIR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "KokkosRopeRunDoxygen.cmake: -D${var}=... is required")
  endif()
endforeach()
file(REMOVE ${WARN_LOG})
string(TIMESTAMP _start "%s")
execute_process(COMMAND ${DOXYGEN} ${DOXYFILE} RESULT_VARIABLE _rc)
string(TIMESTAMP _end "%s")
math(EXPR _seconds "${_end} - ${_start}")

set(_count 0)
if(EXISTS ${WARN_LOG})
  file(STRINGS ${WARN_LOG} _lines)
  foreach(_line IN LISTS _lines)
    # Continuation lines of a multi-line warning are indented; count only the first line.
    if(_line MATCHES ": (warning|error):")
      math(EXPR _count "${_count} + 1")
    endif()
    string(REPLACE "${SOURCE_DIR}/" "" _line "${_line}")
    message("${_line}")
  endforeach()
endif()
get_filename_component(_out_dir ${DOXYFILE} DIRECTORY)
if(NOT _rc EQUAL 0 OR _count GREATER 0)
  message(FATAL_ERROR "Doxygen: ${_count} warning(s) in the public headers (exit status ${_rc}, "
                      "${_seconds} s); the list: ${WARN_LOG}")
endif()
message(STATUS "Doxygen: no warnings (${_seconds} s); API reference: ${_out_dir}/html/index.html")
