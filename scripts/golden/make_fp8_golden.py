#!/usr/bin/env python3
"""Golden FP8 conversion tables from PyTorch (torch.float8_e4m3fn and torch.float8_e5m2).

Run inside the reference sysroot (see make_ref_sysroot.sh):

    scripts/golden/make_ref_sysroot.sh fp8

Writes tests/data/golden/fp8/decode.json:

  * decode: for each format, the float32 value torch gives each of the 256 codes
    (uint8 tensor .view(dtype).to(torch.float32)); NaN and infinities as the strings
    "nan", "inf", "-inf", everything else as the exact float value.
  * encode: for each format, sample float32 values with |x| <= the largest finite value (torch's
    float -> fp8 conversion does not saturate: e4m3fn overflow gives NaN and e5m2 overflow
    infinity, so only the in-range behaviour is comparable) and the code torch rounds each to
    (float32 tensor .to(dtype).view(torch.uint8)): every finite fp8 value, every midpoint between
    two adjacent values and its two float32 neighbours, both signs, float32 subnormals, and
    seeded random values log-uniform over the format's range.

Floats are written as Python float() of float32 values (exact).
"""

import argparse
import json
import math
import os
import sys

import numpy as np
import torch

FORMATS = [
    ("e4m3fn", torch.float8_e4m3fn, 0x7E),  # name, dtype, largest finite code
    ("e5m2", torch.float8_e5m2, 0x7B),
]


def encode_float(v):
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return v


def decode_table(dtype):
    codes = torch.arange(256, dtype=torch.int32).to(torch.uint8)
    return [float(v) for v in codes.view(dtype).to(torch.float32).numpy()]


def encode_samples(dtype, max_code, values, seed):
    f32 = np.float32
    finite = sorted({v for v in values[: max_code + 1]})  # codes 0..max_code: +0 .. +max
    vmax = finite[-1]
    samples = []
    for v in finite:
        samples.append(f32(v))
    for lo, hi in zip(finite, finite[1:]):
        mid = f32((lo + hi) / 2)  # exact: a midpoint needs one more mantissa bit than the format
        assert float(mid) == (lo + hi) / 2
        samples += [mid, np.nextafter(mid, f32(-np.inf)), np.nextafter(mid, f32(np.inf))]
    # float32 subnormals and values far below the smallest subnormal
    samples += [f32(1e-45), f32(1e-40), f32(1e-38), f32(1e-30), f32(1e-10)]
    rng = np.random.default_rng(seed)
    lo_exp = math.log2(finite[1]) - 3
    hi_exp = math.log2(vmax)
    samples += [f32(2.0 ** e) for e in rng.uniform(lo_exp, hi_exp, 2000)]
    samples = [s for s in samples if abs(float(s)) <= vmax]
    samples = samples + [f32(-s) for s in samples]
    x = torch.tensor(np.array(samples, dtype=np.float32))
    codes = x.to(dtype).view(torch.uint8).to(torch.int32).tolist()
    return [float(s) for s in samples], codes


def main():
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(repo, "tests", "data", "golden", "fp8"))
    args = ap.parse_args()
    torch.set_num_threads(1)
    command = os.environ.get("GOLDEN_COMMAND") or "python3 scripts/golden/make_fp8_golden.py"
    print(f"torch {torch.__version__}, numpy {np.__version__}, python {sys.version.split()[0]}")

    doc = {"source": f"torch {torch.__version__}", "torch_version": torch.__version__, "command": command,
           "formats": {}}
    for i, (name, dtype, max_code) in enumerate(FORMATS):
        values = decode_table(dtype)
        samples, codes = encode_samples(dtype, max_code, values, seed=1234 + i)
        doc["formats"][name] = {
            "torch_dtype": str(dtype),
            "decode": [encode_float(v) for v in values],
            "encode_inputs": samples,
            "encode_codes": codes,
        }
        print(f"{name}: 256 codes, {len(samples)} encode samples")
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "decode.json"), "w") as fh:
        json.dump(doc, fh)
        fh.write("\n")


if __name__ == "__main__":
    main()
