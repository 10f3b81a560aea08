#!/usr/bin/env python3
"""Generate golden RoPE reference values from Hugging Face transformers.

Run inside the reference sysroot (see make_ref_sysroot.sh):

    scripts/golden/make_ref_sysroot.sh run

For every tests/data/configs/<name>.json this loads the config with the model's
own transformers config class (CONFIG_MAPPING[model_type].from_dict), then uses
transformers' own code only:

  * cases[]:  ROPE_INIT_FUNCTIONS[rope_type](config, seq_len=...) (or the model
              RotaryEmbedding.compute_default_rope_parameters for rope_type
              "default") -> (inv_freq float32 tensor, attention_factor float)
  * cos_sin:  <Model>RotaryEmbedding(config).forward(x_fp32, position_ids) for
              a fixed list of positions in ONE call (position_ids shape [1, P]),
              first rotary_dim/2 columns of cos and sin.

Floats are written as Python float() of the float32 value (repr), which is the
exact float32 value and round-trips through strtof/strtod.
"""

import argparse
import glob
import importlib
import json
import logging
import os
import sys

import numpy as np
import torch
import transformers
from transformers.models.auto.configuration_auto import CONFIG_MAPPING
from transformers.modeling_rope_utils import ROPE_INIT_FUNCTIONS

POSITIONS = [0, 1, 2, 100, 4095, 8191, 32767, 131071, 500000, 2097151]

ROTARY_CLASSES = {
    "llama": ("transformers.models.llama.modeling_llama", "LlamaRotaryEmbedding"),
    "qwen2": ("transformers.models.qwen2.modeling_qwen2", "Qwen2RotaryEmbedding"),
    "phi3": ("transformers.models.phi3.modeling_phi3", "Phi3RotaryEmbedding"),
    "gpt_neox": ("transformers.models.gpt_neox.modeling_gpt_neox", "GPTNeoXRotaryEmbedding"),
    "gpt_oss": ("transformers.models.gpt_oss.modeling_gpt_oss", "GptOssRotaryEmbedding"),
}


class _Collect(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.WARNING)
        self.messages = []

    def emit(self, record):
        msg = record.getMessage()
        if msg not in self.messages:
            self.messages.append(msg)


def f32list(t):
    t = t.detach().to(torch.float32).cpu().numpy()
    return [float(v) for v in t.reshape(-1)]


def f32rows(t):
    t = t.detach().to(torch.float32).cpu().numpy()
    return [[float(v) for v in row] for row in t]


def ulp_diff(a, b):
    """max |a-b| in float32 ulps (via the ordered-integer representation)."""
    def key(t):
        i = t.detach().contiguous().cpu().numpy().astype(np.float32).view(np.int32).astype(np.int64)
        return np.where(i < 0, -(i & 0x7FFFFFFF), i)
    return int(np.max(np.abs(key(a) - key(b)))) if a.numel() else 0


def scalar(v):
    if isinstance(v, torch.Tensor):
        v = v.item()
    return float(v)


def seq_lens_for(rope_type, config):
    mp = config.max_position_embeddings
    if rope_type == "dynamic":
        return [None, mp // 2, mp, 6000, 12345, 2 * mp, 8 * mp, max(POSITIONS) + 1]
    if rope_type == "longrope":
        orig = config.rope_parameters["original_max_position_embeddings"]
        return [None, orig // 2, orig, orig + 1, mp, max(POSITIONS) + 1]
    return [None]


def process(path, out_dir, command, versions):
    name = os.path.basename(path)
    with open(path) as fh:
        raw = json.load(fh)

    collector = _Collect()
    tlog = logging.getLogger("transformers")
    tlog.addHandler(collector)
    try:
        config_cls = CONFIG_MAPPING[raw["model_type"]]
        config = config_cls.from_dict(json.loads(json.dumps(raw)))
        mod_name, cls_name = ROTARY_CLASSES[raw["model_type"]]
        rotary_cls = getattr(importlib.import_module(mod_name), cls_name)

        rope_params = config.rope_parameters
        rope_type = rope_params["rope_type"]
        head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
        prf = rope_params.get("partial_rotary_factor", 1.0)
        rotary_dim = int(head_dim * prf)

        if rope_type == "default":
            init_fn = rotary_cls.compute_default_rope_parameters
        else:
            init_fn = ROPE_INIT_FUNCTIONS[rope_type]

        cases = []
        for seq_len in seq_lens_for(rope_type, config):
            inv_freq, attn = init_fn(config, None, seq_len=seq_len)
            assert inv_freq.dtype == torch.float32, inv_freq.dtype
            assert inv_freq.numel() == rotary_dim // 2, (inv_freq.numel(), rotary_dim)
            cases.append({"seq_len": seq_len, "inv_freq": f32list(inv_freq), "attention_factor": scalar(attn)})
        if rope_type == "dynamic":
            # The forward pass (dynamic_rope_update) passes seq_len as a 0-d int64 *tensor*
            # (max(position_ids) + 1); the NTK base is then computed in float32 tensor arithmetic
            # instead of Python float64, which changes inv_freq unless the ratio is exact.
            mp = config.max_position_embeddings
            for seq_len in [mp // 2, mp, 6000, 12345, 2 * mp, max(POSITIONS) + 1]:
                inv_freq, attn = init_fn(config, None, seq_len=torch.tensor(seq_len, dtype=torch.int64))
                cases.append({"seq_len": seq_len, "seq_len_is_tensor": True,
                              "inv_freq": f32list(inv_freq), "attention_factor": scalar(attn)})

        # cos/sin exactly as the model's RotaryEmbedding.forward returns them (fp32 in, fp32 out).
        rotary = rotary_cls(config, device="cpu")
        init_inv = rotary.inv_freq.clone()
        assert torch.equal(init_inv, torch.tensor(cases[0]["inv_freq"], dtype=torch.float32)), name
        init_scaling = float(rotary.attention_scaling)
        assert init_scaling == cases[0]["attention_factor"], (init_scaling, cases[0]["attention_factor"])

        x = torch.zeros(1, dtype=torch.float32)
        pos = torch.tensor([POSITIONS], dtype=torch.int64)
        with torch.no_grad():
            cos, sin = rotary(x, pos)
        assert cos.dtype == torch.float32 and cos.shape[:2] == (1, len(POSITIONS)), cos.shape
        half = rotary_dim // 2
        ncols = cos.shape[-1]
        assert ncols in (half, rotary_dim), (ncols, rotary_dim)
        halves_ulp = None
        if ncols == rotary_dim:
            # The second half is cos/sin of the same angles (torch.cat((freqs, freqs))), but torch's CPU
            # cos/sin kernels (vectorised body vs. scalar tail) need not give bit-identical results for
            # the same input, so record how far the halves differ (in float32 ulps).
            halves_ulp = max(ulp_diff(cos[..., :half], cos[..., half:]), ulp_diff(sin[..., :half], sin[..., half:]))

        fwd_seq_len = None
        if rope_type in ("dynamic", "longrope"):
            fwd_seq_len = max(POSITIONS) + 1  # forward uses seq_len = max(position_ids) + 1

        cos_sin_short = None
        if rope_type in ("dynamic", "longrope"):
            # A second, fresh module called with positions < original length only (forward seq_len = 4096
            # for these configs): dynamic keeps the original inv_freq, longrope uses short_factor.
            short_pos = [p for p in POSITIONS if p < 4096]
            r2 = rotary_cls(config, device="cpu")
            with torch.no_grad():
                c2, s2 = r2(x, torch.tensor([short_pos], dtype=torch.int64))
            cos_sin_short = {"seq_len": max(short_pos) + 1, "positions": short_pos,
                             "cos": f32rows(c2[0, :, :half]), "sin": f32rows(s2[0, :, :half]),
                             "inv_freq": f32list(r2.inv_freq), "attention_factor": float(r2.attention_scaling)}

        cos_sin = {
            "seq_len": fwd_seq_len,
            "positions": POSITIONS,
            "cos": f32rows(cos[0, :, :half]),
            "sin": f32rows(sin[0, :, :half]),
            # extra (not required by the schema): the inv_freq / attention scaling the forward actually used
            "inv_freq": f32list(rotary.inv_freq),
            "attention_factor": float(rotary.attention_scaling),
            "forward_columns": int(ncols),
            "max_ulp_diff_between_halves": halves_ulp,
        }
    finally:
        tlog.removeHandler(collector)

    doc = {
        "source": versions,
        "command": command,
        "config": name,
        "model_type": raw["model_type"],
        "rope_type": rope_type,
        "head_dim": int(head_dim),
        "rotary_dim": int(rotary_dim),
        "partial_rotary_factor": float(prf),
        "max_position_embeddings": int(config.max_position_embeddings),
        "rope_parameters": {k: v for k, v in rope_params.items()
                            if k not in ("short_factor", "long_factor")},
        "hf_config_class": config_cls.__name__,
        "hf_rotary_class": rotary_cls.__name__,
        "hf_warnings": collector.messages,
        "cases": cases,
        "cos_sin": cos_sin,
    }
    if cos_sin_short is not None:
        doc["cos_sin_short"] = cos_sin_short
    out = os.path.join(out_dir, os.path.splitext(name)[0] + ".json")
    with open(out, "w") as fh:
        json.dump(doc, fh, indent=1)
        fh.write("\n")
    print(f"{name}: rope_type={rope_type} head_dim={head_dim} rotary_dim={rotary_dim} "
          f"attention_factor={cases[0]['attention_factor']!r} forward_scaling={cos_sin['attention_factor']!r} "
          f"halves_ulp={cos_sin['max_ulp_diff_between_halves']} "
          f"-> {os.path.relpath(out)}" + (f"  [hf warnings: {len(collector.messages)}]" if collector.messages else ""))
    for m in collector.messages:
        print(f"    hf warning: {m}")


def main():
    repo = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--configs", default=os.path.join(repo, "tests", "data", "configs"))
    ap.add_argument("--out", default=os.path.join(repo, "tests", "data", "golden"))
    args = ap.parse_args()

    torch.set_num_threads(1)
    command = os.environ.get("GOLDEN_COMMAND") or "python3 scripts/golden/make_golden.py"
    versions = f"transformers {transformers.__version__}, torch {torch.__version__}"
    os.makedirs(args.out, exist_ok=True)
    paths = sorted(glob.glob(os.path.join(args.configs, "*.json")))
    if not paths:
        sys.exit(f"no configs in {args.configs}")
    print(f"{versions}, numpy {np.__version__}, python {sys.version.split()[0]}")
    for p in paths:
        process(p, args.out, command, versions)


if __name__ == "__main__":
    main()
