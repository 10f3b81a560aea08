# SPDX-License-Identifier: Apache-2.0
# `kokkos-rope apply` end to end: seven variants (every layout, dtype and position source, three
# position streams with a multimodal config's mrope_section), their
# outputs compared bit for bit with the library called from C++ (cli_fixture verify), then round
# trips (apply, then --backward, returns the input).
#   cmake -DTOOL=kokkos-rope -DFIXTURE=cli_fixture -DDIR=work -DCONFIG=llama3.1-8b.json
#         -DMROPE_CONFIG=qwen2-vl-7b.json -P apply_flow.cmake
include(${CMAKE_CURRENT_LIST_DIR}/run_step.cmake)

set(in ${DIR})
set(out ${DIR}/out)
file(REMOVE_RECURSE ${out})
file(MAKE_DIRECTORY ${out})
set(apply ${TOOL} apply --config ${CONFIG})

run(${apply} --layout bshd --q ${in}/q_bshd_f32.npy --k ${in}/k_bshd_f32.npy
    --out-q ${out}/v1.q.npy --out-k ${out}/v1.k.npy)
run(${apply} --layout bhsd --offset 1000 --precision hf_compatible --q ${in}/q_bhsd_f64.npy
    --k ${in}/k_bhsd_f64.npy --out-q ${out}/v2.q.npy --out-k ${out}/v2.k.npy)
run(${apply} --layout thd --cu-seqlens ${in}/cu.npy --q ${in}/q_thd_f16.npy --k ${in}/k_thd_f16.npy
    --out-q ${out}/v3.q.npy --out-k ${out}/v3.k.npy)
run(${apply} --layout bshd --bf16 --positions ${in}/pos_bs.npy --interleaved --backward
    --q ${in}/q_bshd_bf16.npy --k ${in}/k_bshd_bf16.npy --out-q ${out}/v4.q.npy --out-k ${out}/v4.k.npy)
run(${apply} --layout thd --positions ${in}/pos_t.npy --q ${in}/q_thd_f32.npy --out-q ${out}/v5.q.npy)

set(apply_mm ${TOOL} apply --config ${MROPE_CONFIG})
run(${apply_mm} --layout bshd --positions ${in}/pos_mrope_bs.npy --q ${in}/q_bshd_f32.npy --k ${in}/k_bshd_f32.npy
    --out-q ${out}/v6.q.npy --out-k ${out}/v6.k.npy)
run(${apply_mm} --layout thd --cu-seqlens ${in}/cu.npy --positions ${in}/pos_mrope_t.npy --mrope-interleaved
    --precision hf_compatible --q ${in}/q_thd_f16.npy --k ${in}/k_thd_f16.npy --out-q ${out}/v7.q.npy
    --out-k ${out}/v7.k.npy)

run(${FIXTURE} verify ${DIR} ${CONFIG} ${MROPE_CONFIG})

# Round trips: the inverse rotation restores the input (to the rounding of the dtype).
run(${apply} --layout bshd --backward --q ${out}/v1.q.npy --k ${out}/v1.k.npy
    --out-q ${out}/rt1.q.npy --out-k ${out}/rt1.k.npy)
run(${FIXTURE} close ${out}/rt1.q.npy ${in}/q_bshd_f32.npy 1e-6)
run(${FIXTURE} close ${out}/rt1.k.npy ${in}/k_bshd_f32.npy 1e-6)
run(${apply} --layout bhsd --offset 1000 --precision hf_compatible --backward --q ${out}/v2.q.npy
    --out-q ${out}/rt2.q.npy)
run(${FIXTURE} close ${out}/rt2.q.npy ${in}/q_bhsd_f64.npy 1e-6)
run(${apply} --layout thd --cu-seqlens ${in}/cu.npy --backward --q ${out}/v3.q.npy --out-q ${out}/rt3.q.npy)
run(${FIXTURE} close ${out}/rt3.q.npy ${in}/q_thd_f16.npy 2e-3)
run(${apply} --layout bshd --bf16 --positions ${in}/pos_bs.npy --interleaved --q ${out}/v4.q.npy
    --out-q ${out}/rt4.q.npy)
run(${FIXTURE} close ${out}/rt4.q.npy ${in}/q_bshd_bf16.npy 1.6e-2)
run(${apply_mm} --layout bshd --positions ${in}/pos_mrope_bs.npy --backward --q ${out}/v6.q.npy --out-q ${out}/rt6.q.npy)
run(${FIXTURE} close ${out}/rt6.q.npy ${in}/q_bshd_f32.npy 1e-6)
# ... and a rotation really happened (the output is not the input).
execute_process(COMMAND ${FIXTURE} close ${out}/v1.q.npy ${in}/q_bshd_f32.npy 1e-3 RESULT_VARIABLE rc OUTPUT_QUIET)
if(rc EQUAL 0)
  message(FATAL_ERROR "FAILED: apply returned its input unchanged")
endif()
message("apply flow: all checks passed")
