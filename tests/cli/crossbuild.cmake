# SPDX-License-Identifier: Apache-2.0
# Cross-build check: PEER (another build's kokkos-rope) dumps its crosscheck outputs, SELF
# compares with them.
#   cmake -DPEER=path -DSELF=path -DDIR=dir [-DPERTURB=ulps] [-DEXPECT=pass|fail] -P crossbuild.cmake
# With PERTURB the peer's dump is perturbed on purpose and SELF must report a failure (exit 3).
# A missing PEER is a failure, never a skip: the two builds are meant to check each other.
if(NOT EXISTS "${PEER}")
  message(FATAL_ERROR "FAILED: the peer build's kokkos-rope is missing: ${PEER}\n"
          "Build it first (scripts/dev test builds the openmp preset before serial-kk), or point "
          "-DKokkosRope_CROSSCHECK_PEER=<other build>/bin/kokkos-rope at another build.")
endif()
if(NOT DEFINED EXPECT)
  set(EXPECT pass)
endif()
file(REMOVE_RECURSE "${DIR}")
set(dump_args crosscheck --dump "${DIR}")
if(DEFINED PERTURB)
  list(APPEND dump_args --perturb ${PERTURB})
endif()
execute_process(COMMAND "${PEER}" ${dump_args} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("$ ${PEER} ${dump_args}\n${out}${err}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "FAILED: the peer's crosscheck --dump exited with ${rc}")
endif()
execute_process(COMMAND "${SELF}" crosscheck --against "${DIR}" RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("$ ${SELF} crosscheck --against ${DIR}\n${out}${err}")
if(EXPECT STREQUAL "pass")
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "FAILED: the builds disagree beyond tolerance (exit status ${rc})")
  endif()
else()
  if(NOT rc EQUAL 3 OR NOT err MATCHES "crosscheck failed: .*vs dump")
    message(FATAL_ERROR "FAILED: a perturbed dump was not detected (exit status ${rc})")
  endif()
  message("the perturbed dump was detected, as it must be")
endif()
