# SPDX-License-Identifier: Apache-2.0
# `kokkos-rope apply --k-cache-out/--v-cache-out` (KokkosRope::rotate_and_cache) end to end: five
# variants (every layout, both block orders, the tensors' dtype and both fp8 caches with scales,
# padding slots, int32 and [batch, seq] slots), their q and paged caches compared byte for byte
# with rotate_copy + a host scatter by slot (cli_fixture verify-cache).
#   cmake -DTOOL=kokkos-rope -DFIXTURE=cli_fixture -DDIR=work -DCONFIG=llama3.1-8b.json -P cache_flow.cmake
include(${CMAKE_CURRENT_LIST_DIR}/run_step.cmake)

set(in ${DIR})
set(out ${DIR}/out_cache)  # not apply_flow's out/, which that flow clears
file(REMOVE_RECURSE ${out})
file(MAKE_DIRECTORY ${out})
set(apply ${TOOL} apply --config ${CONFIG})

run(${apply} --layout bshd --q ${in}/q_bshd_f32.npy --k ${in}/k_bshd_f32.npy --v ${in}/v_bshd_f32.npy
    --slots ${in}/slots_bs.npy --block-size 4 --num-blocks 6 --out-q ${out}/c1.q.npy
    --k-cache-out ${out}/c1.k_cache.npy --v-cache-out ${out}/c1.v_cache.npy)
run(${apply} --layout thd --cu-seqlens ${in}/cu.npy --q ${in}/q_thd_f16.npy --k ${in}/k_thd_f16.npy
    --v ${in}/v_thd_f16.npy --slots ${in}/slots_t_i32.npy --cache-layout hnd --block-size 4 --cache-dtype float16
    --out-q ${out}/c2.q.npy --k-cache-out ${out}/c2.k_cache.npy --v-cache-out ${out}/c2.v_cache.npy)
run(${apply} --layout bshd --positions ${in}/pos_bs.npy --q ${in}/q_bshd_f32.npy --k ${in}/k_bshd_f32.npy
    --v ${in}/v_bshd_f32.npy --slots ${in}/slots_bs.npy --cache-layout hnd --block-size 4 --num-blocks 6
    --cache-dtype float8_e4m3 --k-scale 0.5 --v-scale 2 --out-q ${out}/c3.q.npy
    --k-cache-out ${out}/c3.k_cache.npy --v-cache-out ${out}/c3.v_cache.npy)
run(${apply} --layout bhsd --offset 1000 --q ${in}/q_bhsd_f64.npy --k ${in}/k_bhsd_f64.npy
    --v ${in}/k_bhsd_f64.npy --slots ${in}/slots_grid.npy --block-size 4 --cache-dtype f8e5m2
    --out-q ${out}/c4.q.npy --k-cache-out ${out}/c4.k_cache.npy --v-cache-out ${out}/c4.v_cache.npy)
run(${apply} --layout bshd --bf16 --backward --q ${in}/q_bshd_bf16.npy --k ${in}/k_bshd_bf16.npy
    --v ${in}/v_bshd_bf16.npy --slots ${in}/slots_grid.npy --block-size 4 --out-q ${out}/c5.q.npy
    --k-cache-out ${out}/c5.k_cache.npy --v-cache-out ${out}/c5.v_cache.npy)

run(${FIXTURE} verify-cache ${DIR} ${CONFIG})
message("cache flow: all checks passed")
