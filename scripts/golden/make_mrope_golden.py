#!/usr/bin/env python3
"""Golden M-RoPE (multimodal 3-stream RoPE) values from Hugging Face transformers.

Run inside the reference sysroot (see make_ref_sysroot.sh):

    scripts/golden/make_ref_sysroot.sh mrope

Families (the reference's own classes and functions only):

  * sectioned   Qwen2-VL   : Qwen2VLRotaryEmbedding + modeling_qwen2_vl.apply_multimodal_rotary_pos_emb
  * sectioned   Qwen2.5-VL : Qwen2_5_VLRotaryEmbedding + modeling_qwen2_5_vl.apply_multimodal_rotary_pos_emb
  * interleaved Qwen3-VL   : Qwen3VLTextRotaryEmbedding (apply_interleaved_mrope inside forward)
                             + modeling_qwen3_vl.apply_rotary_pos_emb
  * interleaved Qwen3.5    : Qwen3_5TextRotaryEmbedding (interleaved, partial rotary)
                             + modeling_qwen3_5.apply_rotary_pos_emb

For each family and shape: random q/k (torch.manual_seed), 3-stream position ids [3, B, S]
(case "mm": distinct t/h/w; case "text": all three streams equal), fp32 and bf16 inputs.
Records the inputs, positions, inv_freq, mrope_section, the cos/sin exactly as the rotary module
returns them, q_embed/k_embed, and the 1-D equivalent (the text path: same positions through the
plain 1-D RoPE of the reference) with a bitwise comparison flag.

Floats are written as Python float() of float32 values (exact). bf16 tensors are written as the
float value of each bf16 number (exact; bf16 is a subset of float32), not as raw bits.
"""

import argparse
import json
import os
import sys

import numpy as np
import torch
import transformers
from transformers.models.auto.configuration_auto import CONFIG_MAPPING
from transformers.models.llama import modeling_llama
from transformers.models.qwen2_vl import modeling_qwen2_vl
from transformers.models.qwen2_5_vl import modeling_qwen2_5_vl
from transformers.models.qwen3_vl import modeling_qwen3_vl

try:
    from transformers.models.qwen3_5 import modeling_qwen3_5
except Exception:  # noqa
    modeling_qwen3_5 = None

B, H, S = 2, 1, 4


def flat(t):
    return [float(v) for v in t.detach().to(torch.float32).cpu().numpy().reshape(-1)]


def positions(kind, seed):
    g = torch.Generator().manual_seed(seed)
    if kind == "text":
        p = torch.stack([torch.arange(S) + 3 * b for b in range(B)])  # [B, S]
        return p[None].expand(3, B, S).contiguous()
    # distinct t/h/w streams, e.g. an image grid following a few text tokens
    t = torch.randint(0, 40, (B, S), generator=g)
    h = torch.randint(0, 4000, (B, S), generator=g)
    w = torch.randint(0, 70000, (B, S), generator=g)
    return torch.stack([t, h, w]).to(torch.int64)


def family_specs():
    specs = []
    # name, model_type (config), text sub-config kwargs, rotary class, apply fn, layout
    specs.append(dict(family="qwen2_vl", layout="sectioned", model_type="qwen2_vl_text",
                      rotary=modeling_qwen2_vl.Qwen2VLRotaryEmbedding,
                      apply=modeling_qwen2_vl.apply_multimodal_rotary_pos_emb,
                      apply_name="transformers.models.qwen2_vl.modeling_qwen2_vl.apply_multimodal_rotary_pos_emb"))
    specs.append(dict(family="qwen2_5_vl", layout="sectioned", model_type="qwen2_5_vl_text",
                      rotary=modeling_qwen2_5_vl.Qwen2_5_VLRotaryEmbedding,
                      apply=modeling_qwen2_5_vl.apply_multimodal_rotary_pos_emb,
                      apply_name="transformers.models.qwen2_5_vl.modeling_qwen2_5_vl.apply_multimodal_rotary_pos_emb"))
    specs.append(dict(family="qwen3_vl", layout="interleaved", model_type="qwen3_vl_text",
                      rotary=modeling_qwen3_vl.Qwen3VLTextRotaryEmbedding,
                      apply=modeling_qwen3_vl.apply_rotary_pos_emb,
                      apply_name="transformers.models.qwen3_vl.modeling_qwen3_vl.apply_rotary_pos_emb"))
    if modeling_qwen3_5 is not None:
        specs.append(dict(family="qwen3_5", layout="interleaved", model_type="qwen3_5_text",
                          rotary=modeling_qwen3_5.Qwen3_5TextRotaryEmbedding,
                          apply=modeling_qwen3_5.apply_rotary_pos_emb,
                          apply_name="transformers.models.qwen3_5.modeling_qwen3_5.apply_rotary_pos_emb"))
    return specs


SHAPES = {
    # family -> list of (label, head_dim, partial_rotary_factor, mrope_section, rope_theta)
    "qwen2_vl": [("hd128", 128, 1.0, [16, 24, 24], 1000000.0), ("hd16", 16, 1.0, [2, 3, 3], 10000.0)],
    "qwen2_5_vl": [("hd128", 128, 1.0, [16, 24, 24], 1000000.0), ("hd16", 16, 1.0, [2, 3, 3], 10000.0)],
    "qwen3_vl": [("hd128", 128, 1.0, [24, 20, 20], 5000000.0), ("hd128_s16_24_24", 128, 1.0, [16, 24, 24], 5000000.0),
                 ("hd16", 16, 1.0, [2, 3, 3], 10000.0)],
    "qwen3_5": [("hd256_p025", 256, 0.25, [11, 11, 10], 10000000.0), ("hd32_p05", 32, 0.5, [2, 3, 3], 10000.0)],
}


def make_config(spec, head_dim, prf, section, theta):
    rp = {"rope_type": "default", "rope_theta": theta, "mrope_section": list(section)}
    if spec["layout"] == "interleaved":
        rp["mrope_interleaved"] = True
    if prf != 1.0:
        rp["partial_rotary_factor"] = prf
    d = {"model_type": spec["model_type"], "hidden_size": head_dim * 4, "num_attention_heads": 4,
         "num_key_value_heads": 2, "head_dim": head_dim, "num_hidden_layers": 2, "intermediate_size": 64,
         "max_position_embeddings": 131072, "vocab_size": 128, "rope_parameters": rp}
    cfg = CONFIG_MAPPING[spec["model_type"]].from_dict(d)
    return d, cfg


def one_case(spec, cfg, dtype, pos, seed):
    rot = spec["rotary"](cfg, device="cpu")
    head_dim = cfg.head_dim
    g = torch.Generator().manual_seed(seed)
    q = torch.randn(B, H, S, head_dim, generator=g).to(dtype)
    k = torch.randn(B, H, S, head_dim, generator=g).to(dtype)
    with torch.no_grad():
        cos, sin = rot(q, pos)  # as the text model calls it: rotary_emb(hidden_states, position_ids)
        if spec["layout"] == "sectioned":
            q_e, k_e = spec["apply"](q, k, cos, sin, cfg.rope_parameters["mrope_section"])
        else:
            q_e, k_e = spec["apply"](q, k, cos, sin)
        # 1-D equivalent: the same positions (stream 0) through plain 1-D RoPE of the reference
        p1 = pos[0]
        if spec["layout"] == "sectioned":
            # the rotary module takes [3, B, S]; the 1-D path is the llama apply with stream-0 cos/sin
            c1, s1 = rot(q, p1[None].expand(3, B, S))
            c1, s1 = c1[0], s1[0]
            q1, k1 = modeling_llama.apply_rotary_pos_emb(q, k, c1, s1)
        else:
            c1, s1 = rot(q, p1)  # 2-D position ids: forward expands to 3 equal streams
            q1, k1 = spec["apply"](q, k, c1, s1)
        # the plain llama (1-D) RoPE module on the same config: cos/sin for the 1-D path
        r1 = modeling_llama.LlamaRotaryEmbedding(cfg, device="cpu")
        c_ll, s_ll = r1(q, p1)
    out = {
        "dtype": str(dtype).replace("torch.", ""),
        "q": flat(q), "k": flat(k),
        "cos": flat(cos), "sin": flat(sin), "cos_shape": list(cos.shape),
        "q_embed": flat(q_e), "k_embed": flat(k_e),
        "one_d": {
            "positions": p1.tolist(),
            "cos": flat(c1), "sin": flat(s1), "cos_shape": list(c1.shape),
            "q_embed": flat(q1), "k_embed": flat(k1),
            "mrope_equals_1d_bitwise": bool(torch.equal(q_e, q1) and torch.equal(k_e, k1)),
            "llama_rotary_cos_equals_bitwise": bool(c_ll.shape == c1.shape and torch.equal(c_ll, c1)
                                                    and torch.equal(s_ll, s1)),
        },
    }
    od = out["one_d"]
    if od["mrope_equals_1d_bitwise"]:
        # identical to q_embed / k_embed (bitwise): not repeated
        od["q_embed"] = od["k_embed"] = "identical to q_embed/k_embed"
    if torch.equal(c1, cos if cos.dim() == c1.dim() else cos[0]) and torch.equal(s1, sin if sin.dim() == s1.dim() else sin[0]):
        od["cos"] = od["sin"] = "identical to cos/sin" + ("" if cos.dim() == c1.dim() else " stream 0")
    return rot, out


def main():
    repo = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(repo, "tests", "data", "golden", "mrope"))
    args = ap.parse_args()
    torch.set_num_threads(1)
    command = os.environ.get("GOLDEN_COMMAND") or "python3 scripts/golden/make_mrope_golden.py"
    versions = f"transformers {transformers.__version__}, torch {torch.__version__}"
    os.makedirs(args.out, exist_ok=True)
    print(f"{versions}, numpy {np.__version__}, python {sys.version.split()[0]}")
    seed = 1234
    for spec in family_specs():
        for label, head_dim, prf, section, theta in SHAPES[spec["family"]]:
            raw, cfg = make_config(spec, head_dim, prf, section, theta)
            cases = []
            rot = None
            for pkind in ("mm", "text"):
                pos = positions(pkind, seed)
                for dtype in (torch.float32, torch.bfloat16):
                    rot, c = one_case(spec, cfg, dtype, pos, seed)
                    c = {"positions_kind": pkind, "position_ids": pos.tolist(), **c}
                    cases.append(c)
                    seed += 1
            doc = {
                "source": versions, "command": command,
                "family": spec["family"], "layout": spec["layout"],
                "config": raw, "hf_config_class": type(cfg).__name__,
                "hf_rotary_class": spec["rotary"].__name__, "hf_apply_function": spec["apply_name"],
                "rope_parameters": cfg.rope_parameters,
                "mrope_section": list(cfg.rope_parameters["mrope_section"]),
                "module_mrope_section": list(getattr(rot, "mrope_section", cfg.rope_parameters["mrope_section"])),
                "head_dim": head_dim, "rotary_dim": 2 * rot.inv_freq.numel(), "partial_rotary_factor": prf,
                "inv_freq": flat(rot.inv_freq), "attention_scaling": float(rot.attention_scaling),
                "shape": {"batch": B, "heads": H, "seq": S, "head_dim": head_dim, "q_layout": "[B, H, S, head_dim]"},
                "bf16_encoding": "float value of each bf16 number (exact in float32/double)",
                "cases": cases,
            }
            name = f"{spec['family']}-{label}.json"
            with open(os.path.join(args.out, name), "w") as fh:
                json.dump(doc, fh)
                fh.write("\n")
            flags = [(c["positions_kind"], c["dtype"], c["one_d"]["mrope_equals_1d_bitwise"],
                      c["one_d"]["llama_rotary_cos_equals_bitwise"]) for c in cases]
            print(f"{name}: rotary_dim={doc['rotary_dim']} cos_shape={cases[0]['cos_shape']} "
                  f"(kind, dtype, mrope==1d, llama cos==1d cos) {flags}")


if __name__ == "__main__":
    main()
