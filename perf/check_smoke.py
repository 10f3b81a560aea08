#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""perf-smoke: runs kokkos-rope-bench --smoke and checks its JSON.

usage: check_smoke.py BENCH_BINARY OUT_JSON [--expect-ggml | --no-ggml]
Fails unless the run exits 0 within 200 MB of resident memory, every benchmark carries the counters
bytes, GB/s, roofline_GB/s, roofline_frac (== GB/s / roofline_GB/s), roofline_in_place (1 for the
in-place variants, 0 for the out-of-place ones and the copy), copy_GB/s, frac_of_copy and verified
(== 1), and the fused kernel, the seed port, the copy kernel (and ggml when expected) were
measured, the fused kernel in each dtype and in prefill and decode.
"""
import json
import resource
import subprocess
import sys


def fail(msg):
    print("perf-smoke FAILED: " + msg, file=sys.stderr)
    sys.exit(1)


def main():
    if len(sys.argv) < 3:
        fail("usage: check_smoke.py BENCH_BINARY OUT_JSON [--expect-ggml|--no-ggml]")
    binary, out = sys.argv[1], sys.argv[2]
    expect_ggml = "--expect-ggml" in sys.argv[3:]
    cmd = [binary, "--smoke", "--benchmark_out=" + out, "--benchmark_out_format=json",
           "--benchmark_format=console"]
    print("running: " + " ".join(cmd), flush=True)
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    print(proc.stdout)
    if proc.returncode != 0:
        fail("the benchmark exited with %d" % proc.returncode)
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0
    print("peak resident memory of the smoke run: %.0f MB" % peak_mb)
    if peak_mb > 200:
        fail("the smoke run used %.0f MB (limit 200 MB)" % peak_mb)
    with open(out) as f:
        data = json.load(f)
    ctx = data.get("context", {})
    for key in ("git_revision", "kokkos_version", "kokkos_execution_space", "kokkos_concurrency",
                "kokkos_configuration"):
        if not ctx.get(key):
            fail("context lacks %r" % key)
    rows = data.get("benchmarks", [])
    if not rows:
        fail("no benchmarks in the JSON")
    seen = set()
    for r in rows:
        name = r.get("name", "?")
        if r.get("error_occurred"):
            fail("%s errored: %s" % (name, r.get("error_message")))
        for key in ("bytes", "GB/s", "roofline_GB/s", "roofline_frac", "roofline_in_place", "copy_GB/s",
                    "frac_of_copy", "verified"):
            if key not in r:
                fail("%s lacks the counter %r" % (name, key))
        if r["verified"] != 1:
            fail("%s was not verified" % name)
        for key in ("bytes", "GB/s", "roofline_GB/s", "roofline_frac", "copy_GB/s", "frac_of_copy"):
            if not r[key] > 0:
                fail("%s has a non-positive %s (%r)" % (name, key, r[key]))
        if abs(r["roofline_frac"] * r["roofline_GB/s"] - r["GB/s"]) > 1e-6 * r["GB/s"]:
            fail("%s: roofline_frac %r is not GB/s %r / roofline_GB/s %r"
                 % (name, r["roofline_frac"], r["GB/s"], r["roofline_GB/s"]))
        label = dict(kv.split("=", 1) for kv in r.get("label", "").split())
        in_place = label.get("variant") != "copy" and label.get("place") == "in"
        if r["roofline_in_place"] != (1 if in_place else 0):
            fail("%s: roofline_in_place is %r, its label says place=%s" % (name, r["roofline_in_place"],
                                                                            label.get("place", "-")))
        seen.add((label.get("phase"), label.get("dtype"), label.get("variant")))
    required = []
    for phase in ("prefill", "decode"):
        for dtype in ("bf16", "f32"):
            required += [(phase, dtype, v) for v in ("copy", "fused_table", "fused_otf", "seed_port")]
            if expect_ggml:
                required.append((phase, dtype, "ggml"))
    required += [("prefill", "bf16", v) for v in ("fused_table_interleaved", "fused_table_outofplace",
                                                  "fused_table_backward", "fused_otf_interleaved_outofplace_backward")]
    missing = [r for r in required if r not in seen]
    if missing:
        fail("missing benchmarks: %s" % missing)
    print("perf-smoke passed: %d benchmarks, all verified, counters present" % len(rows))


if __name__ == "__main__":
    main()
