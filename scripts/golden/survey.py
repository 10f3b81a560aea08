#!/usr/bin/env python3
"""Survey every model type of the reference (Hugging Face transformers) for text RoPE.

Run inside the reference sysroot (see make_ref_sysroot.sh):

    scripts/golden/make_ref_sysroot.sh survey

For every model type in CONFIG_MAPPING this:

  1. imports its modeling module (failures are recorded);
  2. builds the config with the reference's own config class (defaults, plus every
     tests/data/survey/checkpoints/<name>.json whose model_type matches), finds the text
     sub-config the text model uses (config itself, text_config, language_config, ...);
  3. instantiates the top-level model on the meta device while recording the constructor
     arguments of every *RotaryEmbedding module built (so the text rotary module is found as
     the model really builds it, not by reading names), then rebuilds each text rotary module
     on the CPU with exactly those arguments and records its inv_freq / attention scaling per
     layer type, the cos/sin columns its forward returns and their layout;
  4. finds the function(s) the text attention calls to apply RoPE and APPLIES them to a
     probe (basis vectors as q/k, synthetic cos/sin whose entries encode their column), which
     gives the exact linear map out = M q: pair style, sign, pass-through dims, output
     permutation; the map is then checked against the real cos/sin of the module.

Floats are written as Python float() of float32 values (exact); inv_freq lists are exact
float32 values. Output: tests/data/survey/<model_type>.json and summary.json.
"""

import argparse
import glob
import importlib
import inspect
import json
import logging
import math
import os
import re
import sys
import warnings

import numpy as np
import torch
import transformers
from transformers.models.auto.configuration_auto import CONFIG_MAPPING
from transformers.models.auto import modeling_auto

warnings.filterwarnings("ignore")

TEXT_SUBCONFIG_KEYS = ["text_config", "language_config", "llm_config", "thinker_config", "decoder_config",
                       "text_model_config", "lm_config", "decoder"]
VISION_WORDS = ("vision", "visual", "patch", "image", "audio", "vit", "2d", "3d", "video", "sam")
RAW_KEYS = ["rope_theta", "rope_scaling", "rope_parameters", "partial_rotary_factor", "rotary_pct", "rotary_dim",
            "rotary_emb_base", "head_dim", "hidden_size", "n_embd", "num_attention_heads", "n_head",
            "num_key_value_heads", "max_position_embeddings", "n_positions", "layer_types", "no_rope_layers",
            "no_rope_layer_interval", "sliding_window", "sliding_window_pattern", "rope_local_base_freq",
            "qk_rope_head_dim", "qk_nope_head_dim", "v_head_dim", "rope_interleave", "use_qk_norm",
            "num_hidden_layers", "global_rope_theta", "local_rope_theta", "global_attn_every_n_layers",
            "mrope_section", "mrope_interleaved", "attn_temperature_tuning", "global_head_dim",
            "global_partial_rotary_factor", "use_rope", "position_embedding_type", "rope_type"]
PROBE_POS = 3  # position used for the real-cos/sin verification probe
LAYOUT_POS = [1, 2, 3, 7]


class _Collect(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.WARNING)
        self.messages = []

    def emit(self, record):
        msg = re.sub(r"0x[0-9a-f]+", "0x?", record.getMessage())
        if msg not in self.messages and len(self.messages) < 20:
            self.messages.append(msg[:500])


def f32list(t):
    return [float(v) for v in t.detach().to(torch.float32).cpu().numpy().reshape(-1)]


def jsonable(v, depth=0):
    if depth > 6:
        return repr(type(v).__name__)
    if v is None or isinstance(v, (bool, int, str)):
        return v
    if isinstance(v, float):
        return v if math.isfinite(v) else repr(v)
    if isinstance(v, torch.Tensor):
        return f32list(v) if v.numel() < 1024 else f"tensor{list(v.shape)}"
    if isinstance(v, (list, tuple)):
        return [jsonable(x, depth + 1) for x in v]
    if isinstance(v, dict):
        return {str(k): jsonable(x, depth + 1) for k, x in v.items()}
    if hasattr(v, "to_dict") and hasattr(v, "model_type"):
        return f"<{type(v).__name__}>"
    return repr(v)[:200]


def modeling_module_for(config_cls):
    name = config_cls.__module__
    if ".configuration_" not in name:
        return None
    return name.replace(".configuration_", ".modeling_")


# ----------------------------------------------------------------------------------------------
# capture of rotary-module constructions
# ----------------------------------------------------------------------------------------------
CAPTURED = []
PATCHED = set()


def _is_rotary_class(cls):
    return inspect.isclass(cls) and issubclass(cls, torch.nn.Module) and (
        cls.__name__.endswith("RotaryEmbedding") or cls.__name__.endswith("RotaryPositionalEmbedding")
        or cls.__name__.endswith("SinusoidalPositionalEmbedding") and "RoFormer" in cls.__name__)


def patch_rotary_classes():
    for mname, mod in list(sys.modules.items()):
        if not mname.startswith("transformers.models.") or mod is None:
            continue
        for k, cls in list(vars(mod).items()):
            if _is_rotary_class(cls) and cls not in PATCHED:
                orig = cls.__init__

                def wrapped(self, *args, __orig=orig, __cls=cls, **kwargs):
                    if type(self) is __cls:
                        CAPTURED.append((self, __cls, args, kwargs))
                    __orig(self, *args, **kwargs)

                cls.__init__ = wrapped
                PATCHED.add(cls)


def find_text_config(config):
    """Return (path, text_config). path '' means the config itself."""
    seen = []

    def walk(cfg, path, depth):
        for key in TEXT_SUBCONFIG_KEYS:
            sub = getattr(cfg, key, None) if key in getattr(cfg, "__dict__", {}) or hasattr(type(cfg), key) else None
            if sub is None:
                sub = cfg.__dict__.get(key) if hasattr(cfg, "__dict__") else None
            if sub is not None and hasattr(sub, "model_type") and hasattr(sub, "to_dict"):
                p = f"{path}.{key}" if path else key
                if depth < 2:
                    deeper = walk(sub, p, depth + 1)
                    if deeper is not None:
                        return deeper
                return (p, sub)
        return None

    r = walk(config, "", 0)
    return r if r is not None else ("", config)


def model_class_for(config, modeling_mod):
    for mapping in (modeling_auto.MODEL_MAPPING, modeling_auto.MODEL_FOR_CAUSAL_LM_MAPPING,
                    modeling_auto.MODEL_FOR_PRETRAINING_MAPPING, modeling_auto.MODEL_FOR_MASKED_LM_MAPPING,
                    modeling_auto.MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING,
                    modeling_auto.MODEL_FOR_SEQ_TO_SEQ_CAUSAL_LM_MAPPING):
        try:
            m = mapping[type(config)]
            if isinstance(m, (list, tuple)):
                m = m[0]
            return m
        except Exception:
            pass
    if modeling_mod is not None:
        cands = []
        for k, v in vars(modeling_mod).items():
            if inspect.isclass(v) and getattr(v, "config_class", None) is type(config) and \
                    issubclass(v, transformers.PreTrainedModel) and v.__module__ == modeling_mod.__name__:
                cands.append((0 if k.endswith("Model") else 1, k, v))
        if cands:
            return sorted(cands)[0][2]
    return None


def config_arg(args, kwargs):
    if "config" in kwargs:
        return kwargs["config"]
    for a in args:
        if hasattr(a, "to_dict") and hasattr(a, "model_type"):
            return a
    return None


def describe_args(args, kwargs, text_cfg, top_cfg):
    def d(a):
        if a is text_cfg:
            return "<text config>"
        if a is top_cfg:
            return "<config>"
        if hasattr(a, "to_dict") and hasattr(a, "model_type"):
            return f"<{type(a).__name__}>"
        return jsonable(a)
    return {"args": [d(a) for a in args], "kwargs": {k: d(v) for k, v in sorted(kwargs.items()) if k != "device"}}


def is_text_rotary(cls, args, kwargs, text_cfg, top_cfg, module_path):
    name = cls.__name__.lower()
    path = module_path.lower()
    cfg = config_arg(args, kwargs)
    if cfg is None:
        return False, "constructed without a config (dim/theta arguments)"
    if any(w in type(cfg).__name__.lower() for w in ("vision", "visual", "audio", "vq")):
        return False, f"constructed with {type(cfg).__name__}"
    if any(w in name for w in ("vision", "visual", "patch", "audio", "2d", "3d", "vit", "sam")):
        return False, f"class name {cls.__name__}"
    if any(w in path for w in ("vision", "visual", "audio", "image_encoder", "vqmodel", "vision_tower", "speech")):
        return False, f"module path {module_path}"
    if cfg is text_cfg or cfg is top_cfg or isinstance(cfg, type(text_cfg)):
        return True, "constructed with the text config"
    cname = type(cfg).__name__.lower()
    if any(w in cname for w in ("vision", "visual", "audio", "vq", "image")):
        return False, f"constructed with {type(cfg).__name__}"
    return True, f"constructed with {type(cfg).__name__}"


# ----------------------------------------------------------------------------------------------
# rotary module records
# ----------------------------------------------------------------------------------------------
def call_forward(mod, positions, layer_type=None, three_d=False):
    x = torch.zeros(1, dtype=torch.float32)
    pos = torch.tensor([positions], dtype=torch.int64)
    if three_d:
        pos = pos[None].expand(3, 1, -1).contiguous()
    sig = inspect.signature(mod.forward)
    kw = {}
    if layer_type is not None and "layer_type" in sig.parameters:
        kw["layer_type"] = layer_type
    with torch.no_grad():
        if "position_ids" in sig.parameters:
            out = mod(x, position_ids=pos, **kw)
        else:
            out = mod(x, pos, **kw)
    return out


def forward_cos_sin(mod, positions, layer_type=None):
    """Returns (cos, sin, kind, three_d) with cos/sin [P, C] (stream 0 for 3-D outputs)."""
    err = None
    for three_d in (False, True):
        try:
            out = call_forward(mod, positions, layer_type, three_d)
        except Exception as e:  # noqa
            err = e
            continue
        if isinstance(out, torch.Tensor) and out.is_complex():
            o = out.reshape(-1, len(positions), out.shape[-1])[0]
            return o.real.float(), o.imag.float(), "complex", three_d, out
        if isinstance(out, (tuple, list)) and len(out) == 2:
            c, s = out
            c2 = c.reshape(-1, len(positions), c.shape[-1])[0]
            s2 = s.reshape(-1, len(positions), s.shape[-1])[0]
            return c2.float(), s2.float(), "cos_sin", three_d, out
        err = RuntimeError(f"unrecognised forward output {type(out).__name__}")
    raise err


def column_layout(cos, sin, inv_freq, scaling, positions):
    """How columns of the forward output map to inv_freq indices."""
    n = inv_freq.numel()
    C = cos.shape[-1]
    ang = torch.tensor(positions, dtype=torch.float32)[:, None] * inv_freq[None, :].float()
    rc, rs = torch.cos(ang) * scaling, torch.sin(ang) * scaling
    cands = {}
    if C == 2 * n:
        cands["cat_halves"] = [c % n for c in range(C)]
        cands["repeat_interleave"] = [c // 2 for c in range(C)]
    if C == n:
        cands["half_only"] = list(range(n))
    best = None
    for name, idx in cands.items():
        err = max(float((cos - rc[:, idx]).abs().max()), float((sin - rs[:, idx]).abs().max()))
        if best is None or err < best[1]:
            best = (name, err)
    if best is None or best[1] > 1e-4 * max(1.0, abs(scaling)):
        return "other", (best[1] if best else None)
    return best[0], best[1]


def rotary_record(mod):
    """inv_freq / scaling per layer type of a CPU rotary module."""
    bufs = dict(mod.named_buffers(recurse=False))
    per = {}
    for bname, buf in sorted(bufs.items()):
        if not bname.endswith("inv_freq") or "original" in bname:
            continue
        lt = "" if bname == "inv_freq" else bname[: -len("_inv_freq")]
        per[lt] = buf
    out = {}
    rt = getattr(mod, "rope_type", None)
    for lt, inv in per.items():
        scal = getattr(mod, f"{lt}_attention_scaling" if lt else "attention_scaling", None)
        if scal is None and isinstance(getattr(mod, "attention_scaling", None), dict):
            scal = mod.attention_scaling.get(lt)
        rtype = rt.get(lt) if isinstance(rt, dict) else rt
        rec = {"rope_type": rtype, "inv_freq_len": int(inv.numel()), "rotary_dim": 2 * int(inv.numel()),
               "inv_freq_dtype": str(inv.dtype).replace("torch.", ""),
               "attention_scaling": float(scal) if scal is not None else None,
               "inv_freq": f32list(inv)}
        try:
            cos, sin, kind, three_d, raw = forward_cos_sin(mod, LAYOUT_POS, lt or None)
            rec["forward_output"] = kind
            rec["forward_needs_3d_positions"] = three_d
            rec["cos_columns"] = int(cos.shape[-1])
            lay, err = column_layout(cos, sin, inv.float(), float(scal) if scal is not None else 1.0, LAYOUT_POS)
            rec["column_layout"] = lay
            if lay == "other":
                rec["column_layout_err"] = err
        except Exception as e:  # noqa
            rec["forward_error"] = f"{type(e).__name__}: {str(e)[:200]}"
        out[lt if lt else "*"] = rec
    return out


# ----------------------------------------------------------------------------------------------
# apply-function probe
# ----------------------------------------------------------------------------------------------
APPLY_RE = re.compile(r"\b((?:apply|_apply)\w*(?:rot|rope|pos_emb)\w*|\w*rotary\w*)\s*\(")


def find_apply_functions(attn_cls):
    fns = []
    for klass in attn_cls.__mro__:
        if klass in (torch.nn.Module, object):
            continue
        try:
            src = inspect.getsource(klass.forward) if "forward" in vars(klass) else ""
        except Exception:
            src = ""
        g = sys.modules[klass.__module__].__dict__
        for m in APPLY_RE.finditer(src):
            name = m.group(1)
            f = g.get(name)
            if callable(f) and inspect.isfunction(f) and name not in [n for n, _, _ in fns]:
                line = src[: m.start()].count("\n")
                lines = src.splitlines()
                call_line = lines[line].strip()
                indent = len(lines[line]) - len(lines[line].lstrip())
                cond = None
                for j in range(line - 1, -1, -1):
                    lj = lines[j]
                    ij = len(lj) - len(lj.lstrip())
                    if lj.strip() and ij < indent:
                        if lj.strip().startswith(("if ", "elif ", "else")):
                            cond = lj.strip()
                        break
                fns.append((name, f, {"call": call_line, "condition": cond, "attention_class": klass.__name__}))
        if fns:
            break
    return fns


def synth(shape_like, kind, streams_dim):
    """Synthetic cos/sin: cos = 2 + c + 2000 s, sin = 100000 + c + 2000 s (c = column, s = stream)."""
    C = shape_like.shape[-1]
    base = torch.arange(C, dtype=torch.float32)
    cos = torch.empty(shape_like.shape, dtype=torch.float32)
    sin = torch.empty(shape_like.shape, dtype=torch.float32)
    if streams_dim:
        for s in range(shape_like.shape[0]):
            cos[s] = 2 + base + 2000 * s
            sin[s] = 100000 + base + 2000 * s
    else:
        cos[...] = 2 + base
        sin[...] = 100000 + base
    if kind == "complex":
        return torch.complex(cos, sin), None
    return cos, sin


def call_apply(fn, q, k, cos, sin, kind, extra):
    sig = inspect.signature(fn)
    args = []
    kwargs = {}
    qset = False
    for p in sig.parameters.values():
        n = p.name
        if n in ("k", "key", "xk", "key_states", "k_pe"):
            val = k
        elif n == "cos":
            val = cos
        elif n == "sin":
            val = sin
        elif n in ("freqs_cis", "freqs_ci", "freqs", "position_embeddings", "rotary_pos_emb"):
            val = cos if kind == "complex" else (cos, sin)
        elif n in extra:
            val = extra[n]
        elif p.default is not inspect.Parameter.empty:
            continue
        elif not qset:
            val, qset = q, True
        else:
            raise TypeError(f"cannot map parameter {n!r}")
        if p.kind == inspect.Parameter.KEYWORD_ONLY:
            kwargs[n] = val
        else:
            kwargs[n] = val
    out = fn(**kwargs)
    if isinstance(out, (tuple, list)):
        out = out[0]
    return out


def probe_apply(fn, mod, lt, head_dim, extra):
    """Apply fn to basis vectors with synthetic cos/sin; decode the linear map."""
    cos_r, sin_r, kind, three_d, raw = forward_cos_sin(mod, [PROBE_POS], lt or None)
    if kind == "complex":
        shape_like = raw.reshape(-1, 1, 1, raw.shape[-1])[:1].reshape(1, 1, raw.shape[-1])
        streams = False
    else:
        c0 = raw[0]
        shape_like = c0
        streams = three_d and c0.dim() == 4
    C = shape_like.shape[-1]
    cands = []
    for d in (head_dim, C, 2 * C):
        if d and d not in cands:
            cands.append(d)
    last = None
    for D in cands:
        q = torch.eye(D, dtype=torch.float32).reshape(1, D, 1, D)
        k = q.clone()
        s_cos, s_sin = synth(shape_like, kind, streams)
        try:
            with torch.no_grad():
                out = call_apply(fn, q, k, s_cos, s_sin, kind, extra)
        except Exception as e:  # noqa
            last = e
            continue
        if out.shape[-1] < 1 or out.numel() != D * out.shape[-1]:
            last = RuntimeError(f"unexpected output shape {list(out.shape)}")
            continue
        M = out.reshape(D, out.shape[-1]).T.double()  # M[o, j]
        return decode(M, D, C, streams, kind), (D, q, M)
    raise last


def decode(M, D, C, streams, kind):
    Dout = M.shape[0]
    outs = []
    for o in range(Dout):
        nz = [(j, float(M[o, j])) for j in range(M.shape[1]) if float(M[o, j]) != 0.0]
        e = {"o": o}
        terms = []
        for j, v in nz:
            a = abs(v)
            if a == 1.0 and len(nz) == 1:
                terms.append(("pass", j, 1, None, None))
            elif 2 <= a < 100000 and a == int(a):
                s, c = divmod(int(a) - 2, 2000)
                terms.append(("cos", j, 1 if v > 0 else -1, c, s))
            elif a >= 100000 and a == int(a):
                s, c = divmod(int(a) - 100000, 2000)
                terms.append(("sin", j, 1 if v > 0 else -1, c, s))
            else:
                terms.append(("coef", j, v, None, None))
        outs.append(terms)
    rot, passthrough, other = [], [], []
    for o, terms in enumerate(outs):
        kinds = sorted(t[0] for t in terms)
        if kinds == ["pass"] and terms[0][1] == o:
            passthrough.append(o)
        elif kinds == ["cos", "sin"]:
            rot.append(o)
        else:
            other.append(o)
    res = {"probe_dim": D, "output_dim": Dout, "cos_columns": C, "passthrough_dims": ranges(passthrough)}
    if other:
        res["pair_style"] = "other"
        res["unexplained_outputs"] = other[:16]
    entries = []
    for o in rot:
        t = {x[0]: x for x in outs[o]}
        cs, sn = t["cos"], t["sin"]
        entries.append({"out": o, "in": cs[1], "cos_col": cs[3], "cos_sign": cs[2], "partner": sn[1],
                        "sin_col": sn[3], "sin_sign": sn[2], "stream": cs[4] if streams else None})
    res["n_rotated"] = len(rot)
    if not rot:
        res.setdefault("pair_style", "none")
        return res, entries
    r = len(rot)
    half = r // 2
    same = all(e["out"] == e["in"] for e in entries)
    pairs = sorted({tuple(sorted((e["in"], e["partner"]))) for e in entries})
    res["pairs_sample"] = [list(p) for p in pairs[:4]]
    res["n_pairs"] = len(pairs)
    rot_set = sorted(e["out"] for e in entries)
    lo = rot_set[0]
    contiguous = rot_set == list(range(lo, lo + r))
    res["rotated_range"] = [lo, lo + r] if contiguous else None
    style = None
    if contiguous and same:
        if all(p[1] - p[0] == half and p[0] - lo < half for p in pairs):
            style = "half_split"
        elif all(p[1] - p[0] == 1 and (p[0] - lo) % 2 == 0 for p in pairs):
            style = "interleaved"
    elif contiguous and not same:
        ok = True
        for e in entries:
            i = e["out"] - lo
            exp_in = lo + (2 * i if i < half else 2 * (i - half) + 1)
            exp_partner = lo + (2 * i + 1 if i < half else 2 * (i - half))
            ok &= e["in"] == exp_in and e["partner"] == exp_partner
        if ok:
            style = "interleaved_in_half_split_out"
    if "pair_style" not in res:
        res["pair_style"] = style or "other"
    # sign convention: for the pair (a, b), a < b (a = "first"): out_a = a cos - b sin, out_b = b cos + a sin
    std = True
    for e in entries:
        first = e["in"] < e["partner"]
        std &= (e["sin_sign"] == (-1 if first else 1)) and e["cos_sign"] == 1
    res["sign"] = "standard (x1*cos - x2*sin, x2*cos + x1*sin)" if std else "other"
    cols_cos_eq_sin = all(e["cos_col"] == e["sin_col"] for e in entries)
    res["cos_sin_same_column"] = cols_cos_eq_sin
    res["output_permutation"] = None if same else [e["in"] for e in sorted(entries, key=lambda e: e["out"])]
    res["cos_col_of_output_runs"] = runs([(e["out"], e["cos_col"]) for e in sorted(entries, key=lambda e: e["out"])])
    if streams:
        res["stream_of_output"] = [e["stream"] for e in sorted(entries, key=lambda e: e["out"])]
    if res["pair_style"] == "other":
        res["literal_map"] = [{k: v for k, v in e.items() if v is not None} for e in entries[:256]]
    return res, entries


def runs(pairs):
    """[(out, col)] -> [[first_out, first_col, length], ...] for runs where both increase by 1."""
    out = []
    for o, c in pairs:
        if out and out[-1][0] + out[-1][2] == o and out[-1][1] + out[-1][2] == c:
            out[-1][2] += 1
        else:
            out.append([o, c, 1])
    return out


def ranges(idx):
    if not idx:
        return []
    out, s, p = [], idx[0], idx[0]
    for i in idx[1:]:
        if i != p + 1:
            out.append([s, p + 1])
            s = i
        p = i
    out.append([s, p + 1])
    return out


def verify_probe(fn, mod, lt, entries, passthrough, D, extra):
    """Apply fn to a ramp with the module's REAL cos/sin; compare with the decoded map."""
    cos_r, sin_r, kind, three_d, raw = forward_cos_sin(mod, [PROBE_POS], lt or None)
    q = (torch.arange(D, dtype=torch.float32) * 0.01 + 0.5).reshape(1, 1, 1, D)
    if kind == "complex":
        c_in = raw.reshape(1, 1, raw.shape[-1])
        s_in = None
        cflat = raw.reshape(-1).real.double()
        sflat = raw.reshape(-1).imag.double()
    else:
        c_in, s_in = raw
        cflat = c_in.reshape(-1, c_in.shape[-1]).double()
        sflat = s_in.reshape(-1, s_in.shape[-1]).double()
    with torch.no_grad():
        out = call_apply(fn, q, q.clone(), c_in, s_in, kind, extra).reshape(-1).double()
    pred = torch.zeros_like(out)
    qd = q.reshape(-1).double()
    for e in entries:
        s = e["stream"] or 0
        cc = cflat[s, e["cos_col"]] if cflat.dim() == 2 else cflat[e["cos_col"]]
        ss = sflat[s, e["sin_col"]] if sflat.dim() == 2 else sflat[e["sin_col"]]
        pred[e["out"]] = e["cos_sign"] * cc * qd[e["in"]] + e["sin_sign"] * ss * qd[e["partner"]]
    for a, b in passthrough:
        pred[a:b] = qd[a:b]
    err = float((out - pred).abs().max())
    return err


# ----------------------------------------------------------------------------------------------
# per-config processing
# ----------------------------------------------------------------------------------------------
def raw_keys(cfg):
    d = {}
    for k in RAW_KEYS:
        if k in cfg.__dict__:
            d[k] = jsonable(cfg.__dict__[k])
        elif hasattr(type(cfg), k) and not callable(getattr(type(cfg), k)) and not isinstance(getattr(type(cfg), k), property):
            pass
    return d


def head_dim_of(cfg):
    hd = getattr(cfg, "head_dim", None)
    if hd:
        return int(hd)
    hs = getattr(cfg, "hidden_size", None) or getattr(cfg, "n_embd", None) or getattr(cfg, "d_model", None)
    nh = getattr(cfg, "num_attention_heads", None) or getattr(cfg, "n_head", None)
    if hs and nh:
        return int(hs) // int(nh)
    return None


def attention_layers(model, text_rotary_paths):
    """Decoder attention modules of the text model: (index, path, module)."""
    prefixes = sorted({p.rsplit(".", 1)[0] if "." in p else "" for p in text_rotary_paths})
    res = []
    for name, m in model.named_modules():
        if not name or "Attention" not in type(m).__name__ or not hasattr(m, "layer_idx"):
            continue
        low = name.lower()
        if any(w in low for w in ("vision", "visual", "audio", "vqmodel", "image_encoder", "speech")):
            continue
        if prefixes and not any(name.startswith(p + ".") if p else True for p in prefixes):
            continue
        res.append((name, m))
    return res


def process_config(config, label, model_type, modeling_mod):
    collector = _Collect()
    tlog = logging.getLogger("transformers")
    tlog.addHandler(collector)
    rec = {"name": label}
    try:
        return _process_config(config, label, model_type, modeling_mod, rec)
    except Exception as e:  # noqa
        rec["error"] = f"{type(e).__name__}: {str(e)[:300]}"
        return rec
    finally:
        tlog.removeHandler(collector)
        if collector.messages:
            rec["hf_warnings"] = collector.messages


def _process_config(config, label, model_type, modeling_mod, rec):
    path, text_cfg = find_text_config(config)
    rec["text_config_path"] = path or "."
    rec["text_config_class"] = type(text_cfg).__name__
    rec["text_model_type"] = getattr(text_cfg, "model_type", None)
    rec["raw"] = raw_keys(text_cfg)
    if label == "defaults":
        # What save_pretrained writes for the defaults (use_diff=False: every key), so a loader can
        # be fed the same config the reference built; checkpoints are their own files.
        try:
            rec["config_json"] = json.loads(config.to_json_string(use_diff=False))
        except Exception as e:  # noqa
            rec["config_json_error"] = f"{type(e).__name__}: {str(e)[:200]}"
    rp = getattr(text_cfg, "rope_parameters", None)
    rec["rope_parameters"] = jsonable(rp)
    rec["head_dim"] = head_dim_of(text_cfg)

    model_cls = model_class_for(config, modeling_mod)
    rec["model_class"] = model_cls.__name__ if model_cls else None
    if model_cls is None:
        rec["error"] = "no model class for this config"
        return rec
    CAPTURED.clear()
    patch_rotary_classes()
    try:
        with torch.device("meta"):
            model = model_cls(config)
    except Exception as e:  # noqa
        CAPTURED.clear()
        rec["model_error"] = f"{type(e).__name__}: {str(e)[:300]}"
        return fallback_direct(text_cfg, modeling_mod, rec, rp)
    patch_rotary_classes()
    path_of = {id(m): n for n, m in model.named_modules()}
    captured = [(path_of.get(id(m)), m, cls, a, kw) for m, cls, a, kw in CAPTURED]
    CAPTURED.clear()
    rot_all = []
    text_rot = []
    for p, m, cls, a, kw in captured:
        is_text, why = is_text_rotary(cls, a, kw, text_cfg, config, p or "")
        rot_all.append({"path": p, "class": cls.__name__, "text": is_text, "why": why})
        if is_text and p is not None:
            text_rot.append((p, m, cls, a, kw))
    rec["rotary_modules_built"] = rot_all
    # special: GPT-J / CodeGen style sinusoidal table inside the attention (no rotary class)
    special = None
    if not text_rot:
        for n, m in model.named_modules():
            if hasattr(m, "embed_positions") and hasattr(m, "rotary_dim") and "Attention" in type(m).__name__:
                special = (n, m)
                break
    # group identical constructions (per-layer rotary modules)
    groups = {}
    for p, m, cls, a, kw in text_rot:
        key = (cls.__name__, json.dumps(describe_args(a, kw, text_cfg, config), sort_keys=True))
        groups.setdefault(key, []).append((p, m, cls, a, kw))
    rotaries = []
    cpu_mods = []
    for key, members in groups.items():
        p, m, cls, a, kw = members[0]
        kw2 = dict(kw)
        if "device" in kw2:
            kw2["device"] = "cpu"
        entry = {"class": cls.__name__, "module": cls.__module__, "paths": [x[0] for x in members][:8],
                 "n_instances": len(members), "constructor": describe_args(a, kw, text_cfg, config)}
        try:
            cm = cls(*a, **kw2)
            entry["layer_types"] = rotary_record(cm)
            cpu_mods.append((entry, cm))
            if hasattr(cm, "mrope_section"):
                entry["mrope_section"] = jsonable(cm.mrope_section)
            for attr in ("mrope_section", "mrope_interleaved"):
                if isinstance(rp, dict) and attr in rp:
                    entry[f"config_{attr}"] = jsonable(rp[attr])
        except Exception as e:  # noqa
            entry["error"] = f"{type(e).__name__}: {str(e)[:300]}"
        rotaries.append(entry)
    rec["rotary"] = rotaries

    # per-layer attention info
    attns = attention_layers(model, [x[0] for x in text_rot])
    layers = []
    for name, m in attns:
        li = {"idx": int(m.layer_idx) if isinstance(m.layer_idx, int) else None, "path": name,
              "class": type(m).__name__}
        for a in ("layer_type", "use_rope", "is_sliding", "sliding_window", "rotary_ndims", "rotary_dim",
                  "rope_theta", "scaling", "softmax_scale", "head_dim", "qk_rope_head_dim", "attention_type"):
            if a in m.__dict__ and not isinstance(m.__dict__[a], torch.nn.Module):
                li[a] = jsonable(m.__dict__[a])
        layers.append(li)
    # one record per distinct attention setup; list layer indices per type
    lt_cfg = getattr(text_cfg, "layer_types", None)
    rec["config_layer_types"] = list(lt_cfg) if isinstance(lt_cfg, (list, tuple)) else None
    rec["n_attention_layers"] = len(layers)
    by_type = {}
    for li in layers:
        lt = li.get("layer_type")
        if lt is None and rec["config_layer_types"] and li["idx"] is not None and li["idx"] < len(rec["config_layer_types"]):
            lt = rec["config_layer_types"][li["idx"]]
        by_type.setdefault(str(lt) if lt is not None else "*", []).append(li["idx"])
    rec["layers_by_type"] = {k: v for k, v in sorted(by_type.items())}
    no_rope = [li["idx"] for li in layers if "use_rope" in li and not li["use_rope"]]
    rec["no_rope_layers_from_attention"] = no_rope
    rec["attention_attrs_sample"] = dedup_layers(layers)

    # apply-function probe
    if special is not None:
        rec["special"] = "sinusoidal table in attention (embed_positions), no rotary class"
        rec["apply"] = probe_special(special, text_cfg)
    elif attns and cpu_mods:
        attn_cls = type(attns[0][1])
        fns = find_apply_functions(attn_cls)
        applies = []
        extra = {}
        if isinstance(rp, dict) and "mrope_section" in rp:
            extra["mrope_section"] = list(rp["mrope_section"])
        entry, cm = cpu_mods[0]
        if "mrope_section" not in extra and getattr(cm, "mrope_section", None) is not None:
            extra["mrope_section"] = list(cm.mrope_section)
            rec["apply_mrope_section_note"] = "config has no mrope_section; probe used the rotary module's"
        lts = [k for k in entry.get("layer_types", {}) if k != "*"] or [None]
        for name, fn, ctx in fns:
            if any(w in name.lower() for w in ("vision", "visual")):
                continue
            for lt in lts:
                a = {"function": name, "module": fn.__module__, "layer_type": lt, **ctx}
                try:
                    res, entries = probe_apply(fn, cm, lt, rec["head_dim"], extra)
                    info, ents = res
                    a.update(info)
                    D = entries[0]
                    a["apply_gets"] = "head_dim" if D == rec["head_dim"] else \
                        "rotary part only (probe with head_dim failed; the caller slices)"
                    try:
                        a["verify_max_abs_err"] = verify_probe(fn, cm, lt, ents, info["passthrough_dims"], D, extra)
                    except Exception as e:  # noqa
                        a["verify_error"] = f"{type(e).__name__}: {str(e)[:200]}"
                except Exception as e:  # noqa
                    a["pair_style"] = "not_callable_generically"
                    a["probe_error"] = f"{type(e).__name__}: {str(e)[:300]}"
                applies.append(a)
        rec["apply"] = applies
        if not fns:
            rec["apply_note"] = f"no apply function found in {attn_cls.__name__}.forward"
    del model
    return rec


def fallback_direct(text_cfg, modeling_mod, rec, rp):
    """The model could not be instantiated with this config: construct the module's text rotary
    class(es) directly with the text config (the common `XRotaryEmbedding(config=config)` call)."""
    rec["fallback"] = "model not instantiable; text rotary class constructed directly as XRotaryEmbedding(config=text_config)"
    mod = modeling_mod
    tm = modeling_module_for(type(text_cfg))
    if tm and tm != modeling_mod.__name__:
        try:
            mod = importlib.import_module(tm)
        except Exception:  # noqa
            pass
    rotaries, cpu_mods = [], []
    for k, cls in sorted(vars(mod).items()):
        if not _is_rotary_class(cls) or cls.__module__ != mod.__name__:
            continue
        if any(w in k.lower() for w in ("vision", "visual", "patch", "audio", "2d", "3d", "vit", "sam")):
            continue
        try:
            params = inspect.signature(cls.__init__).parameters
        except Exception:  # noqa
            continue
        if "config" not in params:
            continue
        entry = {"class": k, "module": cls.__module__, "paths": [], "n_instances": 0,
                 "constructor": {"args": [], "kwargs": {"config": "<text config>"}}}
        try:
            cm = cls(config=text_cfg)
            entry["layer_types"] = rotary_record(cm)
            cpu_mods.append((entry, cm))
        except Exception as e:  # noqa
            entry["error"] = f"{type(e).__name__}: {str(e)[:300]}"
        rotaries.append(entry)
    rec["rotary"] = rotaries
    attn_classes = [v for k, v in sorted(vars(mod).items()) if inspect.isclass(v) and k.endswith("Attention")
                    and v.__module__ == mod.__name__ and not any(w in k.lower() for w in ("vision", "visual", "audio"))]
    if cpu_mods and attn_classes:
        applies = []
        fns = []
        for ac in attn_classes:
            fns = find_apply_functions(ac)
            if fns:
                break
        entry, cm = cpu_mods[0]
        extra = {"mrope_section": list(rp["mrope_section"])} if isinstance(rp, dict) and "mrope_section" in rp else {}
        lts = [k for k in entry.get("layer_types", {}) if k != "*"] or [None]
        for name, fn, ctx in fns:
            if any(w in name.lower() for w in ("vision", "visual")):
                continue
            for lt in lts:
                a = {"function": name, "module": fn.__module__, "layer_type": lt, **ctx}
                try:
                    (info, ents), ex = probe_apply(fn, cm, lt, rec["head_dim"], extra)
                    a.update(info)
                    a["apply_gets"] = "head_dim" if ex[0] == rec["head_dim"] else \
                        "rotary part only (probe with head_dim failed; the caller slices)"
                    a["verify_max_abs_err"] = verify_probe(fn, cm, lt, ents, info["passthrough_dims"], ex[0], extra)
                except Exception as e:  # noqa
                    a["pair_style"] = "not_callable_generically"
                    a["probe_error"] = f"{type(e).__name__}: {str(e)[:300]}"
                applies.append(a)
        rec["apply"] = applies
    return rec


def dedup_layers(layers):
    seen = {}
    for li in layers:
        k = json.dumps({a: b for a, b in li.items() if a not in ("idx", "path")}, sort_keys=True)
        seen.setdefault(k, {"layers": [], **{a: b for a, b in li.items() if a not in ("idx", "path")}})
        seen[k]["layers"].append(li["idx"])
    out = list(seen.values())
    for o in out:
        o["layers"] = ranges(sorted(x for x in o["layers"] if x is not None))
    return out


def probe_special(special, cfg):
    name, attn = special
    mod = sys.modules[type(attn).__module__]
    fn = getattr(mod, "apply_rotary_pos_emb", None)
    res = {"function": "apply_rotary_pos_emb", "module": mod.__name__, "attention_class": type(attn).__name__,
           "rotary_dim_attr": attn.rotary_dim}
    try:
        emb = getattr(mod, "create_sinusoidal_positions")(64, attn.rotary_dim or attn.embed_dim)
        res["table_note"] = "create_sinusoidal_positions(n, dim): sincos table, sin = first half, cos = second half"
        half = emb.shape[-1] // 2
        D = attn.rotary_dim or attn.embed_dim
        q = torch.eye(D, dtype=torch.float32).reshape(1, 1, D, D)  # [B, S, H, D] layout
        cos = (2 + torch.arange(half, dtype=torch.float32)).reshape(1, 1, half)
        sin = (100000 + torch.arange(half, dtype=torch.float32)).reshape(1, 1, half)
        out = fn(q, sin, cos)
        M = out.reshape(D, D).T.double()
        info, ents = decode(M, D, half, False, "cos_sin")
        res.update(info)
        res["note"] = "apply gets only the first rotary_dim dims (attention slices k[..., :rotary_dim] and concatenates the rest)"
        # inv_freq of the table
        inv = 1.0 / (10000 ** (torch.arange(0, D, 2, dtype=torch.int64) / D)).float()
        res["inv_freq"] = f32list(inv)
        res["inv_freq_note"] = "create_sinusoidal_positions: inv_freq = 1/(10000**(arange(0,dim,2)/dim)) (float32), table in float32"
    except Exception as e:  # noqa
        res["pair_style"] = "not_callable_generically"
        res["probe_error"] = f"{type(e).__name__}: {str(e)[:300]}"
    return [res]


# ----------------------------------------------------------------------------------------------
def classify(doc):
    """has_text_rope / reason from the config records."""
    recs = [c for c in doc["configs"] if c["name"] == "defaults"] or doc["configs"]
    for c in recs:
        if c.get("rotary") or c.get("special"):
            cls = ", ".join(sorted({r["class"] for r in c.get("rotary", [])})) or "sinusoidal table in attention"
            return True, f"text rotary: {cls}"
    for c in recs:
        if c.get("model_error") and not c.get("rotary"):
            return None, f"model not instantiable with this config ({c['model_error'][:120]}); no config-built text rotary class in its modeling module"
        if c.get("error"):
            return None, f"could not instantiate: {c['error'][:160]}"
        built = c.get("rotary_modules_built", [])
        if built:
            return False, "only non-text RoPE: " + "; ".join(sorted({f"{b['class']} ({b['why']})" for b in built}))[:300]
    return False, "no rotary module built by the model"


def main():
    repo = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(repo, "tests", "data", "survey"))
    ap.add_argument("--only", nargs="*", help="model types to process (default: all)")
    args = ap.parse_args()

    torch.set_num_threads(1)
    torch.manual_seed(0)
    logging.getLogger("transformers").setLevel(logging.WARNING)
    command = os.environ.get("SURVEY_COMMAND") or "python3 scripts/golden/survey.py"
    versions = f"transformers {transformers.__version__}, torch {torch.__version__}"
    os.makedirs(args.out, exist_ok=True)
    ck_dir = os.path.join(args.out, "checkpoints")
    checkpoints = {}
    for p in sorted(glob.glob(os.path.join(ck_dir, "*.json"))):
        with open(p) as fh:
            d = json.load(fh)
        checkpoints.setdefault(d["model_type"], []).append((os.path.splitext(os.path.basename(p))[0], d))

    types = sorted(CONFIG_MAPPING.keys())
    if args.only:
        types = [t for t in types if t in args.only]
    print(f"{versions}, numpy {np.__version__}, python {sys.version.split()[0]}; {len(types)} model types", flush=True)
    summary = []
    for mt in types:
        doc = {"source": versions, "command": command, "model_type": mt}
        try:
            config_cls = CONFIG_MAPPING[mt]
        except Exception as e:  # noqa
            doc["config_error"] = f"{type(e).__name__}: {e}"
            config_cls = None
        modeling_mod = None
        if config_cls is not None:
            doc["config_class"] = config_cls.__name__
            mname = modeling_module_for(config_cls)
            doc["modeling_module"] = mname
            try:
                modeling_mod = importlib.import_module(mname)
            except Exception as e:  # noqa
                doc["import_error"] = f"{type(e).__name__}: {str(e)[:200]}"
        doc["configs"] = []
        if config_cls is not None and modeling_mod is not None:
            torch.manual_seed(0)
            try:
                cfg = config_cls()
                doc["configs"].append(process_config(cfg, "defaults", mt, modeling_mod))
            except Exception as e:  # noqa
                doc["configs"].append({"name": "defaults", "error": f"config: {type(e).__name__}: {str(e)[:300]}"})
            for name, d in checkpoints.get(mt, []):
                try:
                    cfg = config_cls.from_dict(json.loads(json.dumps(d)))
                    r = process_config(cfg, name, mt, modeling_mod)
                except Exception as e:  # noqa
                    r = {"name": name, "error": f"config: {type(e).__name__}: {str(e)[:300]}"}
                r["checkpoint_file"] = f"checkpoints/{name}.json"
                doc["configs"].append(r)
        if "import_error" in doc or "config_error" in doc:
            has, reason = None, "modeling module import failed: " + doc.get("import_error", doc.get("config_error", ""))
        else:
            has, reason = classify(doc)
        doc["has_text_rope"] = has
        doc["reason"] = reason
        with open(os.path.join(args.out, f"{mt}.json"), "w") as fh:
            fh.write(dumps(doc))
        summary.append(summary_row(doc))
        print(f"{mt}: has_text_rope={has} | {reason[:110]}", flush=True)
    if not args.only:
        with open(os.path.join(args.out, "summary.json"), "w") as fh:
            fh.write(dumps({"source": versions, "command": command, "model_types": summary}))
        write_docs(summary, os.path.join(repo, "docs", "models.md"), versions, command)


_NUMLIST = re.compile(r"\[(?:\s*(?:-?[0-9][0-9.eE+-]*|null|true|false|\"[^\"\n]*\")\s*,)*\s*(?:-?[0-9][0-9.eE+-]*|null|true|false|\"[^\"\n]*\")\s*\]")


def dumps(doc):
    """indent=1 JSON with lists of scalars kept on one line (small files, readable diffs)."""
    text = json.dumps(doc, indent=1)
    text = _NUMLIST.sub(lambda m: "[" + ", ".join(x.strip() for x in m.group(0)[1:-1].split(",")) + "]"
                        if "\"" not in m.group(0) else re.sub(r"\s*\n\s*", " ", m.group(0)), text)
    return text + "\n"


def write_docs(rows, path, versions, command):
    def cell(x):
        return str(x).replace("|", "\\|").replace("\n", " ")
    # The KokkosRope column is written by hand (what tests/TestSurvey.cpp checks): keep it.
    kept = {}
    if os.path.exists(path):
        with open(path) as fh:
            for line in fh:
                cells = re.split(r"(?<!\\)\|", line.strip())
                if len(cells) == 11 and cells[1].strip() and not cells[1].startswith(("-", " model type")):
                    kept[cells[1].strip()] = cells[9].strip()
    groups = [("Text RoPE", [r for r in rows if r["has_text_rope"]]),
              ("No text RoPE (only vision / audio / 2-D RoPE built)", [r for r in rows if r["has_text_rope"] is False and r["reason"].startswith("only non-text")]),
              ("No RoPE", [r for r in rows if r["has_text_rope"] is False and not r["reason"].startswith("only non-text")]),
              ("Not determined (model not instantiable / import failed)", [r for r in rows if r["has_text_rope"] is None])]
    out = ["# Model types of the reference and their RoPE", "",
           f"This table is generated by `scripts/golden/survey.py` from a survey of every model type in "
           f"`CONFIG_MAPPING` of the reference ({versions}): each config (defaults, plus the checkpoint "
           f"excerpts in `tests/data/survey/checkpoints/`) is loaded with the reference's own config class, the "
           f"model is instantiated on the meta device to find the rotary modules it really builds, the text rotary "
           f"module is rebuilt on the CPU to record inv_freq / attention scaling per layer type, and the apply "
           f"function of the text attention is run on a probe to find the pair style. Regenerate with "
           f"`{command}` (as root; writes tests/data/survey/ and this file). The per-type data is in "
           f"`tests/data/survey/<model_type>.json` (schema: tests/data/survey/README.md). The KokkosRope column "
           f"(written by hand, kept when this file is regenerated) says whether `load_model_rope` gives the "
           f"reference's numbers for every config of the type, or rejects it and why: `tests/TestSurvey.cpp` "
           f"checks both.", ""]
    for title, rs in groups:
        out += [f"## {title} ({len(rs)})", "",
                "| model type | config class / text sub-config | RoPE kinds | rotary dim (key) | pair style (probe) | layer types | no-RoPE layers | notes | KokkosRope |",
                "|---|---|---|---|---|---|---|---|---|"]
        for r in rs:
            text_rope = bool(r["has_text_rope"])
            kr = kept.get(r["model_type"], "pending") if text_rope else (
                "n/a (no text RoPE)" if r["has_text_rope"] is False else "n/a (not determined)")
            notes = r["reason"] if not text_rope else "; ".join(filter(None, [", ".join(r["rotary_classes"]),
                     ", ".join(r["apply_functions"]), "; ".join(r.get("notes", []))]))
            out.append("| " + " | ".join(cell(x) for x in [
                r["model_type"], f"{r['config_class']} ({', '.join(r['text_config_paths']) or '.'})",
                ", ".join(r["rope_types"]) or "-", r.get("rotary_dim_key", "-") if text_rope else "-",
                ", ".join(r["pair_styles"]) or "-", ", ".join(x for x in r["layer_types"] if x != "*") or "-",
                r.get("no_rope_layers", "-") or "-", notes[:300], kr]) + " |")
        out.append("")
    with open(path, "w") as fh:
        fh.write("\n".join(out))


def summary_row(doc):
    row = {"model_type": doc["model_type"], "config_class": doc.get("config_class"),
           "has_text_rope": doc["has_text_rope"], "reason": doc["reason"],
           "configs": [c["name"] for c in doc["configs"]]}
    styles, rtypes, ltypes, paths, rdims, errs, classes, fns = set(), set(), set(), set(), set(), [], set(), set()
    for c in doc["configs"]:
        if c.get("error"):
            errs.append(f"{c['name']}: {c['error'][:120]}")
        if c.get("text_config_path"):
            paths.add(c["text_config_path"])
        for r in c.get("rotary", []):
            classes.add(r["class"])
            for lt, lr in r.get("layer_types", {}).items():
                ltypes.add(lt)
                if lr.get("rope_type"):
                    rtypes.add(lr["rope_type"])
                rdims.add(lr["rotary_dim"])
        for a in c.get("apply", []) or []:
            styles.add(a.get("pair_style"))
            fns.add(a.get("function"))
    key, nrl, notes = "-", set(), []
    for c in doc["configs"]:
        raw = c.get("raw", {})
        rp = c.get("rope_parameters") or {}
        if c.get("special"):
            key = "rotary_dim (GPT-J style)"
        elif "qk_rope_head_dim" in raw:
            key = "qk_rope_head_dim"
        elif "rotary_pct" in raw or (isinstance(rp, dict) and "rotary_pct" in json.dumps(rp)):
            key = "head_dim * rotary_pct"
        elif "partial_rotary_factor" in json.dumps(rp) or "partial_rotary_factor" in raw:
            if key == "-":
                key = "head_dim * partial_rotary_factor"
        elif key == "-" and c.get("rotary"):
            key = "head_dim" if "head_dim" in raw else "hidden_size / num_attention_heads"
        if c.get("no_rope_layers_from_attention"):
            nrl.add(f"{c['name']}: {len(c['no_rope_layers_from_attention'])} layers (use_rope=0)")
        for a in c.get("apply", []) or []:
            if a.get("condition") and a["condition"] not in notes:
                notes.append(f"apply under `{a['condition'][:80]}`")
        if c.get("fallback"):
            notes.append("defaults: model not instantiable, rotary class built directly")
    row["rotary_dim_key"] = key
    row["no_rope_layers"] = "; ".join(sorted(nrl))
    row["notes"] = notes[:3]
    row.update({"text_config_paths": sorted(paths), "rotary_classes": sorted(classes),
                "apply_functions": sorted(x for x in fns if x), "pair_styles": sorted(x for x in styles if x),
                "rope_types": sorted(rtypes), "layer_types": sorted(ltypes), "rotary_dims": sorted(rdims),
                "errors": errs})
    return row


if __name__ == "__main__":
    main()
