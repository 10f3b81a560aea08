#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Summarises `nvcc -Xptxas -v` output of the CUDA compile check (scripts/cuda-compile-check.sh)
into a markdown report: one row per kernel with readable names, registers per thread, stack
frame, spill stores/loads, shared memory. It also checks, on the kernels ptxas actually compiled,
that every value of every dimension of the rotation kernel occurs and that every pair of values
of any two dimensions does (the instance units' covering design). With --ptx (the units' PTX, kept
by nvcc --keep), each kernel also gets its global loads and stores counted by vector width
(ld.global.v4.* / .v2.* / scalar, same for st.global): static instruction counts, which show
whether a kernel moves 16 bytes per access. Exit status 1 when coverage is incomplete or no kernel
was found; spills are reported as findings, not failures."""

import argparse
import collections
import itertools
import re
import subprocess
import sys

# ---- parsing ptxas -v -------------------------------------------------------------------------

ENTRY = re.compile(r"ptxas info\s*: Compiling entry function '([^']+)' for '([^']+)'")
PROPS = re.compile(r"ptxas info\s*: Function properties for (\S+)")
FRAME = re.compile(r"(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads")
USED = re.compile(r"ptxas info\s*: Used (\d+) registers")


def parse_log(path):
    """{mangled: record} for entry functions, {mangled: record} for other device functions."""
    entries, others = {}, {}
    current = {}  # unit -> mangled entry being compiled
    props_for = {}  # unit -> function whose properties line comes next
    with open(path, encoding="utf-8", errors="replace") as f:
        for raw in f:
            unit, _, line = raw.rstrip("\n").partition(": ")
            m = ENTRY.search(line)
            if m:
                current[unit] = m.group(1)
                rec = entries.setdefault(m.group(1), {"units": [], "arch": m.group(2)})
                if unit not in rec["units"]:
                    rec["units"].append(unit)
                continue
            m = PROPS.search(line)
            if m:
                props_for[unit] = m.group(1)
                continue
            m = FRAME.search(line)
            if m and unit in props_for:
                name = props_for.pop(unit)
                target = entries if name in entries else others
                rec = target.setdefault(name, {"units": [unit]})
                rec["stack"], rec["spill_st"], rec["spill_ld"] = map(int, m.groups())
                continue
            m = USED.search(line)
            if m and unit in current:
                rec = entries[current[unit]]
                rec["regs"] = int(m.group(1))
                b = re.search(r"used (\d+) barriers", line)
                s = re.search(r"(\d+) bytes smem", line)
                rec["barriers"] = int(b.group(1)) if b else 0
                rec["smem"] = int(s.group(1)) if s else 0
    return entries, others


# ---- global loads and stores in the PTX -------------------------------------------------------

ENTRY_PTX = re.compile(r"^\s*(?:\.visible\s+|\.weak\s+)?\.entry\s+([A-Za-z_$][\w$]*)")
# ld.global[.nc][.cache or eviction hints][.v2|.v4|.v8].type, optionally predicated; the generic
# ld/st (no state space) as well, so that a load through a generic pointer is not missed.
ACCESS = re.compile(r"^\s*(?:@!?%\w+\s+)?(ld|st)((?:\.[\w:]+)*)\s")
STATE_SPACES = {"param", "shared", "local", "const", "tex", "global"}
TYPE_BITS = re.compile(r"^[bsuf](8|16|32|64|128)$")


def access_kind(op, suffixes):
    """('ld' | 'st', 'global' | 'generic', arity, bits per access) or None for other state spaces."""
    parts = [p for p in suffixes.split(".") if p]
    space = next((p for p in parts if p in STATE_SPACES), "generic")
    if space not in ("global", "generic"):
        return None
    arity = next((int(p[1:]) for p in parts if re.fullmatch(r"v[248]", p)), 1)
    bits = next((int(m.group(1)) for m in map(TYPE_BITS.match, parts) if m), 0)
    return op, space, arity, arity * bits


def parse_ptx(paths):
    """{mangled entry: Counter of (ld/st, space, arity) and ('bytes16', ld/st)} over the .entry bodies."""
    counts = {}
    for path in paths:
        current, depth = None, 0
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                if current is None:
                    m = ENTRY_PTX.match(line)
                    if m:
                        # "": the same kernel was counted in another unit's PTX; skip its body
                        current, depth = ("" if m.group(1) in counts else m.group(1)), 0
                        if current:
                            counts[current] = collections.Counter()
                    continue
                depth += line.count("{") - line.count("}")
                if depth <= 0 and "}" in line:
                    current = None
                    continue
                if not current:
                    continue
                m = ACCESS.match(line)
                if m:
                    k = access_kind(m.group(1), m.group(2))
                    if k:
                        op, space, arity, bits = k
                        counts[current][(op, space, arity)] += 1
                        if bits >= 128:
                            counts[current][("bytes16", op)] += 1
    return counts


def widths(c, op):
    """'v4/v2/scalar' counts of global accesses; generic ones appended when there are any."""
    text = f"{c[(op, 'global', 4)]}/{c[(op, 'global', 2)]}/{c[(op, 'global', 1)]}"
    generic = sum(c[(op, "generic", a)] for a in (1, 2, 4, 8))
    return text + (f" (+{generic} generic)" if generic else "")


def demangle(names, demangler):
    if demangler in ("", "none"):
        return {n: n for n in names}
    out = subprocess.run([demangler], input="\n".join(names) + "\n", capture_output=True, text=True, check=True)
    lines = out.stdout.split("\n")
    return {n: (lines[i] if i < len(lines) and lines[i] else n) for i, n in enumerate(names)}


# ---- a small C++ type parser ------------------------------------------------------------------

OPEN, CLOSE = "<([{", ">)]}"


class T:
    """name<args...>suffix, args parsed recursively."""

    def __init__(self, name, args, suffix=""):
        self.name, self.args, self.suffix = name.strip(), args, suffix.strip()

    def __str__(self):
        a = "<" + ", ".join(map(str, self.args)) + ">" if self.args is not None else ""
        return self.name + a + self.suffix


def split_top(s, sep=","):
    parts, depth, cur = [], 0, []
    for ch in s:
        if ch in OPEN:
            depth += 1
        elif ch in CLOSE:
            depth -= 1
        if ch == sep and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return [p.strip() for p in parts]


def parse(s):
    s = s.strip()
    # the first '<' that is not inside parentheses (e.g. "f(Kokkos::View<...>)::{lambda(int)#1}")
    depth = 0
    for i, ch in enumerate(s):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "<" and depth == 0:
            d = 0
            for j in range(i, len(s)):
                if s[j] in OPEN:
                    d += 1
                elif s[j] in CLOSE:
                    d -= 1
                    if d == 0:
                        return T(s[:i], [parse(a) for a in split_top(s[i + 1:j])], s[j + 1:])
            break
    return T(s, None)


def base(t):
    return t.name.split("::")[-1]


def pair_tag(t):
    """HalfSplit / Interleaved: the aliases of PairTag<PairStyle::half_split / interleaved>."""
    if base(t) != "PairTag" or not t.args:
        return base(t)
    return {"0": "HalfSplit", "1": "Interleaved"}.get(str(t.args[0]).split(")")[-1].strip(), str(t.args[0]))


SCALARS = {"float": "float", "double": "double", "long": "int64", "int": "int32", "unsigned int": "uint32",
           "unsigned long": "uint64", "Kokkos::Experimental::half_t": "half_t",
           "Kokkos::Experimental::bhalf_t": "bhalf_t"}


def scalar(s):
    s = s.strip()
    const = re.search(r"\bconst\b", s) is not None
    core = re.sub(r"\s*\bconst\b\s*", "", s).strip()
    if "floating_point_wrapper<__half>" in core:
        core = "half_t"
    elif "floating_point_wrapper<__nv_bfloat16>" in core:
        core = "bhalf_t"
    core = SCALARS.get(core, core)
    return ("const " if const else "") + core


def view(t):
    """'const float[4] Right' for Kokkos::View<float const****, Kokkos::LayoutRight, ...>."""
    if t.args is None or base(t) != "View":
        return str(t)
    data = str(t.args[0])
    rank = data.count("*") + data.count("[")
    layout = "default"
    for a in t.args[1:]:
        if base(a).startswith("Layout"):
            layout = base(a)[len("Layout"):]
    return f"{scalar(data.rstrip('*'))}[{rank}] {layout}"


def value_of(t):
    return scalar(str(t.args[0]).rstrip("*")).replace("const ", "")


def source_of(ev):
    b = base(ev)
    if b == "AccurateEvaluator":
        return "OnTheFly accurate"
    if b == "HfEvaluator":
        return "OnTheFly hf_compatible"
    if b == "ViewEvaluator":
        v = view(ev.args[0])
        if v.endswith(" Right") and v.startswith("const float[2]"):
            return "Table<float>"
        if v.endswith(" Right") and v.startswith("const double[2]"):
            return "Table<double>"
        return f"CosSinViews<{v.replace('const ', '')}>"
    return str(ev)


def positions_of(p):
    b = base(p)
    if b == "ImplicitPositionMap":
        return "implicit"
    if b == "OffsetPositionMap":
        return f"sequence_offsets<{value_of(p.args[0])}>"
    if b == "TokenPositionMap":
        v = view(p.args[0])
        return f"token_positions<{v.split('[')[0].replace('const ', '')}[{v.split('[')[1].split(']')[0]}]>"
    if b == "ContextParallelPositionMap":
        return "context_parallel" + ("" if "NoOffsets" in str(p) else "+offsets")
    return str(p)


def layout_of(layout, qview):
    b = base(layout)
    v = view(qview).rsplit(" ", 1)[1]
    if b in ("BSHD", "BHSD"):  # the kernels see bhsd tensors as bshd kernel views
        name = "bshd or bhsd"
    elif b == "Packed":
        name = "packed()" if str(layout.args[0]) == "void" else f"packed(cu_seqlens {value_of(layout.args[0])})"
    else:
        name = str(layout)
    # Kernel views (impl/KokkosRope_TensorAccess.hpp) are LayoutStride whatever the caller's View.
    return name + ("" if v in ("Right", "Stride") else f", {v}")


def describe(demangled):
    """(kind, fields dict, short text) of a kernel."""
    t = parse(demangled.replace("void ", "", 1) if demangled.startswith("void ") else demangled)
    launch = re.match(r"(cuda|hip)_parallel_launch_", base(t))  # hip: tests/hip-compile/hip_report.py
    if launch and t.args:
        mech = base(t)[launch.end():]
        driver = t.args[0]
    else:
        return "other", {}, demangled
    pattern = base(driver)
    functor, policy = driver.args[0], driver.args[1]
    if base(functor) == "CombinedFunctorReducer":
        functor = functor.args[0]
    if base(functor) == "CombinedReductionFunctorWrapper":
        functor = functor.args[0]
    pol = base(policy)
    f = base(functor)
    if f == "RotateKernel":
        a = functor.args
        # RotateKernel<Space, Layout, Acc, QIn, QOut, KIn, KOut, Eval, Tokens, Positions>; the
        # pair style and the direction are run-time members, so every kernel holds both of each.
        fields = {
            "layout": layout_of(a[1], a[3]),
            "value": view(a[4]).split("[")[0],
            # In place or out of place is a run-time property of one kernel (q_in const, q_out not).
            "mode": "in place or copy",
            "acc": scalar(str(a[2])),
            "source": source_of(a[7]),
            "positions": positions_of(a[9]),
        }
        if view(a[5]) != view(a[3]):
            fields["k"] = view(a[5])
        return "rotate", fields, ""
    if f == "BuildTable":
        real = value_of(functor.args[1])
        return "kernel", {}, f"Table<{real}> build, {source_of(functor.args[0]).replace('OnTheFly ', '')} ({pattern}, {pol})"
    if f == "PositionRange":
        tok = functor.args[0]
        tok = f"{base(tok)}<{value_of(tok.args[0])}>" if tok.args else base(tok)
        return "kernel", {}, (f"check_positions: {tok}, {positions_of(functor.args[1])} "
                              f"({pattern} min/max, {pol})")
    if f == "CuSeqlensCheck":
        return "kernel", {}, f"check_cu_seqlens<{value_of(functor.args[0])}> ({pattern}, {pol})"
    if f in ("SerialBlock", "TeamBlock"):
        a = functor.args
        blk = "SerialRotate" if f == "SerialBlock" else "TeamVectorRotate"
        return "kernel", {}, (f"{blk}<{pair_tag(a[0])}> x {scalar(str(a[1]))}, cos/sin Table<{scalar(str(a[2]))}> "
                              f"(functor, {pol})")
    if "lambda" in str(functor):
        which = "SerialRotate<HalfSplit>" if pol == "RangePolicy" else "TeamVectorRotate<Interleaved>"
        owner = str(functor).split("(")[0].split("::")[-1]
        return "kernel", {}, f"{which} x bhalf_t in a KOKKOS_LAMBDA of {owner}() ({pol})"
    if f == "ViewValueFunctor":
        tag = policy.args[-1].suffix.split("::")[-1] if policy.args else ""
        what = {"DestroyTag": "destructor", "ConstructTag": "constructor"}.get(tag, "initialisation")
        return "kokkos", {}, f"Kokkos internal: View<{scalar(str(functor.args[1]))}> element {what} ({pol})"
    return "kernel", {}, f"{functor} ({pattern}, {pol}, {mech})"


# ---- report -----------------------------------------------------------------------------------

DIMS = {
    "layout": ["bshd or bhsd", "packed(cu_seqlens int32)", "packed()", "packed(cu_seqlens int64)"],
    "value": ["float", "double", "half_t", "bhalf_t"],
    "mode": ["in place or copy"],
    "source": ["Table<float>", "Table<double>", "OnTheFly accurate", "OnTheFly hf_compatible", "CosSinViews"],
    "positions": ["implicit", "sequence_offsets", "token_positions"],
}


def dim_value(fields, d):
    v = fields[d]
    if d == "source" and v.startswith("CosSinViews"):
        return "CosSinViews"
    if d == "positions":
        return v.split("<")[0]
    return v


def reg_limited_warps(regs):
    """Resident warps per SM the register file allows (64 K registers, allocation per warp in
    units of 256 registers, at most 64 warps on sm_90)."""
    per_warp = -(-regs * 32 // 256) * 256
    return min(64, 65536 // per_warp) if per_warp else 64


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--log", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--copy")
    ap.add_argument("--demangler", default="c++filt")
    ap.add_argument("--nvcc-version", default="?")
    ap.add_argument("--host-compiler", default="?")
    ap.add_argument("--arch", default="sm_90")
    ap.add_argument("--flags", default="")
    ap.add_argument("--repo", default="")
    ap.add_argument("--ptx", nargs="*", default=[], help="the units' PTX files (nvcc --keep)")
    args = ap.parse_args()

    entries, others = parse_log(args.log)
    ptx = parse_ptx(args.ptx) if args.ptx else {}
    no_ptx = collections.Counter()
    for mangled, rec in entries.items():
        rec["ptx"] = ptx.get(mangled, no_ptx)
    if not entries:
        print("[cuda-compile] FAILED: no kernel in the ptxas output", file=sys.stderr)
        return 1
    names = demangle(sorted(entries), args.demangler)
    rows_rot, rows_other = [], []
    for mangled, rec in entries.items():
        kind, fields, text = describe(names[mangled])
        rec.update(kind=kind, fields=fields, text=text, name=names[mangled])
        (rows_rot if kind == "rotate" else rows_other).append(rec)

    # Coverage of the rotation kernel's dimensions, on what ptxas compiled.
    problems = []
    seen = {d: {dim_value(r["fields"], d) for r in rows_rot} for d in DIMS}
    for d, values in DIMS.items():
        missing = [v for v in values if v not in seen[d]]
        if missing:
            problems.append(f"{d}: no kernel for {', '.join(missing)}")
    pairs_total = pairs_missing = 0
    missing_pairs = []
    for d1, d2 in itertools.combinations(DIMS, 2):
        have = {(dim_value(r["fields"], d1), dim_value(r["fields"], d2)) for r in rows_rot}
        for v1, v2 in itertools.product(DIMS[d1], DIMS[d2]):
            pairs_total += 1
            if (v1, v2) not in have:
                pairs_missing += 1
                missing_pairs.append(f"{d1}={v1} x {d2}={v2}")
    if missing_pairs:
        problems.append(f"{pairs_missing} of {pairs_total} value pairs have no kernel: " + "; ".join(missing_pairs[:20]))

    spills = [r for r in entries.values() if r.get("spill_st", 0) or r.get("spill_ld", 0)]
    stacks = [r for r in entries.values() if r.get("stack", 0)]
    flags = " ".join(tok for tok in args.flags.split() if not tok.startswith("-I"))
    flags = re.sub(r"-ccbin \S+ ?", "", flags)

    regs_rot = [r["regs"] for r in rows_rot]
    out = []
    w = out.append
    w("<!-- SPDX-License-Identifier: Apache-2.0 -->")
    w("# CUDA compile check: ptxas resource report")
    w("")
    w("Generated by `scripts/cuda-compile-check.sh` (tests/cuda-compile/ptxas_report.py) from `nvcc -Xptxas -v` "
      "and the PTX nvcc keeps (`--keep`); "
      "regenerate with that script, do not edit by hand. No GPU and no CUDA build of Kokkos are involved: "
      "the Kokkos 5 headers are configured for CUDA and every KokkosRope kernel is compiled to SASS, not run.")
    w("")
    w(f"- nvcc {args.nvcc_version}, host compiler {args.host_compiler}, target `{args.arch}`")
    w(f"- flags: `{flags}`")
    w(f"- {len(entries)} kernels ({len(rows_rot)} rotation kernels, {len(rows_other)} others) "
      f"from {len({u for r in entries.values() for u in r['units']})} translation units")
    w(f"- spills: **{len(spills)} kernels spill** "
      + ("(none: every kernel has 0 bytes spill stores and 0 bytes spill loads)" if not spills else
         "(see Findings)"))
    w(f"- rotation kernels: {min(regs_rot)}-{max(regs_rot)} registers per thread, "
      f"{min(r['smem'] for r in rows_rot)}-{max(r['smem'] for r in rows_rot)} bytes static shared memory "
      "(the cos/sin cache is dynamic team scratch, 2 x rotary_dim/2 x sizeof(Acc) bytes per token of a team, "
      "set at launch)")
    w(f"- coverage of the rotation kernel (checked): every value of {len(DIMS)} dimensions; "
      f"{pairs_total - pairs_missing} of {pairs_total} pairs of values of two dimensions")
    w("")
    w("## Findings")
    w("")
    if spills:
        w("Kernels that spill registers to local memory:")
        w("")
        for r in sorted(spills, key=lambda r: -r["spill_st"]):
            label = r["text"] or ", ".join(f"{k}={v}" for k, v in r["fields"].items())
            w(f"- {label}: {r['spill_st']} bytes spill stores, {r['spill_ld']} bytes spill loads, {r['regs']} registers")
        w("")
    else:
        w("- No kernel spills registers.")
    if stacks:
        by = collections.Counter()
        for r in stacks:
            by[(r["stack"], r["fields"].get("source", r["text"].split(" (")[0]))] += 1
        w(f"- {len(stacks)} kernels have a stack frame without spilling: "
          + "; ".join(f"{n} x {s} bytes ({what})" for (s, what), n in sorted(by.items())) + ".")
        w("  A stack frame with zero spill bytes is a local array, not register pressure. Here it is the "
          "CUDA math library's Payne-Hanek argument reduction for large angles: the cos and sin of one float "
          "angle, which nvcc fuses into sincosf, keep its table in a 32-byte local array (a lone cosf keeps it in "
          "registers); double cos/sin keep 40 bytes. The slow path runs only for large |angle| (float: > 105615). "
          "Accurate mode reduces the angle to [-pi, pi] in double first, so it never runs there (ptxas cannot "
          "prove that); hf_compatible (one float product p * inv_freq, as the reference framework) takes it "
          "for positions past ~10^5 on the highest-frequency pairs, where it is needed for correct results.")
    if others:
        w(f"- Non-inlined device functions: " + "; ".join(
            f"`{n}` ({r.get('stack', 0)} bytes stack, {r.get('spill_st', 0)}/{r.get('spill_ld', 0)} spill st/ld)"
            for n, r in sorted(others.items())) + ".")
    w("- Occupancy bound from registers alone (64 K registers per SM, 64 warps max on sm_90): "
      + ", ".join(f"{n} kernels at {k} regs -> {reg_limited_warps(k)} warps"
                  for k, n in sorted(collections.Counter(regs_rot).items())) + " (rotation kernels).")
    if ptx:
        tot = collections.Counter()
        for r in rows_rot:
            tot.update(r["ptx"])
        missing_ptx = [r for r in entries.values() if r["ptx"] is no_ptx]
        w("- Global memory accesses of the rotation kernels in the PTX (static instruction counts, all "
          f"{len(rows_rot)} kernels): loads {tot[('ld', 'global', 4)]} v4 / {tot[('ld', 'global', 2)]} v2 / "
          f"{tot[('ld', 'global', 1)]} scalar, stores {tot[('st', 'global', 4)]} v4 / {tot[('st', 'global', 2)]} v2 / "
          f"{tot[('st', 'global', 1)]} scalar; 16-byte accesses: {tot[('bytes16', 'ld')]} loads, "
          f"{tot[('bytes16', 'st')]} stores."
          + (f" ({len(missing_ptx)} kernels not found in the PTX.)" if missing_ptx else ""))
    if problems:
        w("")
        w("**Coverage problems:** " + " | ".join(problems))
    w("")
    w("## Rotation kernels (`KokkosRope::Impl::RotateKernel`, TeamPolicy over groups of tokens)")
    w("")
    w("Warps/SM: the resident-warp bound the register count alone allows. `k` differs from `q` only in "
      "rotate_copy's const inputs, so it is not a column. Pair style (half_split / interleaved) and direction "
      "(forward / backward) are run-time members of the kernel, so every row compiles both of each, and so "
      "are the device's two code paths (`lanes`: a lane per pair, any strides; `vector`: 16 bytes per thread "
      "and access, row-major heads), whose 16-byte accesses are the v4 (and 64-bit v2) columns. "
      "Global ld / st: the kernel's `ld.global` / `st.global` instructions in the PTX by width, v4/v2/scalar "
      "(static counts over all its code paths; a v4 of 32-bit or v2 of 64-bit elements moves 16 bytes).")
    w("")
    w("| # | layout | value | mode | Acc | cos/sin source | positions | regs | warps/SM | "
      "stack | spill st/ld | smem | global ld v4/v2/s | global st v4/v2/s |")
    w("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    order = {d: {v: i for i, v in enumerate(vals)} for d, vals in DIMS.items()}

    def key(r):
        f = r["fields"]
        return tuple(order[d].get(dim_value(f, d), 99) for d in ("value", "layout", "source", "positions", "mode"))

    for i, r in enumerate(sorted(rows_rot, key=key), 1):
        f = r["fields"]
        w(f"| {i} | {f['layout']} | {f['value']} | {f['mode']} | {f['acc']} | "
          f"{f['source']} | {f['positions']} | {r['regs']} | {reg_limited_warps(r['regs'])} | {r.get('stack', 0)} | "
          f"{r.get('spill_st', 0)}/{r.get('spill_ld', 0)} | {r['smem']} | {widths(r['ptx'], 'ld')} | "
          f"{widths(r['ptx'], 'st')} |")
    w("")
    w("## Other kernels (table builder, building blocks, validation reductions, Kokkos internals)")
    w("")
    w("| # | kernel | regs | stack | spill st/ld | smem | global ld v4/v2/s | global st v4/v2/s |")
    w("|---|---|---|---|---|---|---|---|")
    for i, r in enumerate(sorted(rows_other, key=lambda r: (r["kind"] == "kokkos", r["text"])), 1):
        w(f"| {i} | {r['text']} | {r['regs']} | {r.get('stack', 0)} | {r.get('spill_st', 0)}/{r.get('spill_ld', 0)} "
          f"| {r['smem']} | {widths(r['ptx'], 'ld')} | {widths(r['ptx'], 'st')} |")
    w("")
    text = "\n".join(out)
    for path in filter(None, (args.out, args.copy)):
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
    print(f"[cuda-compile] report: {args.out} ({len(entries)} kernels, {len(spills)} spilling, "
          f"rotation kernels {min(regs_rot)}-{max(regs_rot)} registers)")
    for r in spills:
        print(f"[cuda-compile] finding: spills in {r['text'] or r['fields']}")
    if problems:
        for p in problems:
            print(f"[cuda-compile] FAILED: coverage: {p}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
