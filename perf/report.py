#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Post-processing of kokkos-rope-bench JSON results.

  report.py summary RESULTS.json [--all]          the summary table
  report.py plot RESULTS.json [--outdir DIR]      PNG plots next to the JSON (or in DIR)

Every row's ratios to the rooflines come from the benchmark itself, measured in the same run for
the same bytes (2 x (q + k)): `roofline_frac` (the headline: GB/s over the same-pattern roofline's,
in place for the in-place variants, out of place for rotate_copy and the copy row; `roofline_GB/s`
is that roofline) and `frac_of_copy` (GB/s over the plain copy's, `copy_GB/s`). Results files
written before the same-pattern roofline existed have only `frac_of_copy`: their tables show "-"
and their plots fall back to it (the axis label says which). The speedup over the seed port and
the ratio to ggml are computed here, from the seed_port / ggml rows of the same shape and dtype in
the same JSON (GB/s ratios: every variant of a shape is credited with the same bytes, so they are
time ratios).
"""
import argparse
import json
import os
import sys

HEADLINE = ("copy", "fused_table", "fused_otf", "seed_port", "ggml")


def load(path):
    """Rows of a results file: name, label fields, counters. With --benchmark_repetitions the
    median aggregate is used."""
    with open(path) as f:
        data = json.load(f)
    rows = data.get("benchmarks", [])
    has_median = any(r.get("aggregate_name") == "median" for r in rows)
    out = []
    for r in rows:
        if r.get("error_occurred"):
            continue
        if has_median and r.get("aggregate_name") != "median":
            continue
        if not has_median and r.get("run_type") == "aggregate":
            continue
        label = dict(kv.split("=", 1) for kv in r.get("label", "").split() if "=" in kv)
        if "variant" not in label:
            continue
        row = dict(label)
        row["name"] = r["name"].split("/min_time")[0].split("/manual_time")[0].replace("_median", "")
        for key in ("GB/s", "roofline_frac", "roofline_GB/s", "roofline_in_place", "frac_of_copy", "bytes",
                    "verified", "copy_GB/s", "median_s", "threads"):
            if key in r:
                row[key] = r[key]
        row["batch"] = int(row.get("batch", 1))
        row["seq"] = int(row.get("seq", 1))
        out.append(row)
    derive(out)
    return data.get("context", {}), out


def shape_key(r):
    return (r["phase"], r["model"], r["dtype"], r["batch"], r["seq"])


def shape_str(r):
    if r["phase"] == "decode":
        return "decode %s %s b=%d" % (r["model"], r["dtype"], r["batch"])
    return "prefill %s %s s=%s" % (r["model"], r["dtype"], human(r["seq"]))


def human(n):
    return "%dK" % (n // 1024) if n >= 1024 and n % 1024 == 0 else str(n)


def derive(rows):
    """speedup_vs_seed and ratio_to_ggml from the same shape's rows (same place and direction)."""
    by = {}
    for r in rows:
        by[(shape_key(r), r["variant"])] = r
    for r in rows:
        if r["variant"] == "copy":
            continue
        suffix = ""
        if r.get("place") == "out":
            suffix += "_outofplace"
        seed = by.get((shape_key(r), "seed_port" + suffix + ("_backward" if r.get("dir") == "bwd" else "")))
        ggml = by.get((shape_key(r), "ggml" + suffix)) if r.get("dir", "fwd") == "fwd" else None
        if seed and seed.get("GB/s"):
            r["x_seed"] = r["GB/s"] / seed["GB/s"]
        if ggml and ggml.get("GB/s"):
            r["x_ggml"] = r["GB/s"] / ggml["GB/s"]


def color(variant):
    """One colour per variant in every plot (line style: dtype)."""
    return "C%d" % HEADLINE.index(variant) if variant in HEADLINE else "k"


def fmt(v, spec="%.2f"):
    return "-" if v is None else spec % v


def pattern(r):
    """The roofline pattern of a row: "in" (q, k read and written) or "out" (q_out, k_out written)."""
    if "roofline_in_place" in r:
        return "in" if r["roofline_in_place"] else "out"
    return "out" if r["variant"] == "copy" or r.get("place") == "out" else "in"


def frac_key(rows):
    """The ratio the plots show: the same-pattern roofline's when the file has it, else the copy's."""
    if rows and all("roofline_frac" in r for r in rows):
        return "roofline_frac", "fraction of the same-pattern roofline"
    return "frac_of_copy", "fraction of copy bandwidth (file without roofline_frac)"


def summary(ctx, rows, show_all=False, out=sys.stdout):
    print("# %s, %s threads, Kokkos %s, git %s, mode %s" % (
        ctx.get("kokkos_execution_space", "?"), ctx.get("kokkos_concurrency", "?"),
        ctx.get("kokkos_version", "?"), ctx.get("git_revision", "?")[:12], ctx.get("bench_mode", "?")), file=out)
    ggml = ctx.get("ggml_version", "?")
    if any(r["variant"].startswith("ggml") for r in rows):
        print("# ggml %s, backend %s, %s threads" % (ggml, ctx.get("ggml_backend", "?"),
                                                    ctx.get("ggml_threads", "?")), file=out)
    else:
        print("# ggml: %s: no ggml rows, x_ggml '-'" % ggml, file=out)
    print("# roofline: the same-pattern kernel's GB/s (in = in place, out = out of place); "
          "frac_roof = GB/s / roofline (the headline); frac_copy = GB/s / plain copy's GB/s", file=out)
    header = ("shape", "variant", "GB/s", "roofline", "frac_roof", "frac_copy", "x_seed", "x_ggml")
    table = []
    for r in rows:
        if not show_all and r["variant"] not in HEADLINE:
            continue
        roof = r.get("roofline_GB/s")
        table.append((shape_str(r), r["variant"], fmt(r.get("GB/s")),
                      "-" if roof is None else "%.2f %s" % (roof, pattern(r)), fmt(r.get("roofline_frac")),
                      fmt(r.get("frac_of_copy")), fmt(r.get("x_seed")), fmt(r.get("x_ggml"))))
    widths = [max(len(h), *(len(t[i]) for t in table)) if table else len(h) for i, h in enumerate(header)]
    line = "  ".join(h.ljust(w) if i < 2 else h.rjust(w) for i, (h, w) in enumerate(zip(header, widths)))
    print(line, file=out)
    print("-" * len(line), file=out)
    for t in table:
        print("  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(t, widths))), file=out)


def plot(path, ctx, rows, outdir):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    stem = os.path.splitext(os.path.basename(path))[0]
    os.makedirs(outdir, exist_ok=True)
    written = []
    title = "%s, %s threads (%s)" % (ctx.get("kokkos_execution_space", "?"), ctx.get("kokkos_concurrency", "?"),
                                      ctx.get("host_name", ""))
    variants = [v for v in HEADLINE]
    styles = {"bf16": "-", "f32": "--"}
    fkey, flabel = frac_key(rows)

    def sweep(sel, key, ticks, xlabel, gbps_label, suptitle, name, unity_line):
        """Plots GB/s (with the in-place roofline, the headline variants being in place) and the
        fraction of the roofline of the headline variants against `key` (seq or batch)."""
        fig, axes = plt.subplots(1, 2, figsize=(13, 5))
        for v in variants:
            for dt in ("bf16", "f32"):
                pts = sorted((r[key], r) for r in sel if r["variant"] == v and r["dtype"] == dt)
                if not pts:
                    continue
                xs = [p[0] for p in pts]
                axes[0].plot(xs, [p[1]["GB/s"] for p in pts], styles[dt], marker="o", color=color(v), label="%s %s" % (v, dt))
                if v != "copy":
                    axes[1].plot(xs, [p[1][fkey] for p in pts], styles[dt], marker="o",
                                 color=color(v), label="%s %s" % (v, dt))
        for dt in ("bf16", "f32"):  # the in-place roofline, from the rows of the in-place variants
            roof = {}
            for r in sel:
                if r["dtype"] == dt and r.get("roofline_GB/s") and pattern(r) == "in":
                    roof.setdefault(r[key], r["roofline_GB/s"])
            if roof:
                xs = sorted(roof)
                axes[0].plot(xs, [roof[x] for x in xs], styles[dt], marker="x", color="k", alpha=0.6,
                             label="roofline in place %s" % dt)
        for ax, yl in zip(axes, (gbps_label, flabel)):
            ax.set_xscale("log", base=2)
            ax.set_xticks([t for t, _ in ticks])
            ax.set_xticklabels([label for _, label in ticks])
            ax.set_xlabel(xlabel)
            ax.set_ylabel(yl)
            ax.grid(True, alpha=0.3)
        if unity_line:
            axes[1].axhline(1.0, color="k", lw=0.8)
        axes[0].legend(fontsize=7, ncol=2)
        fig.suptitle(suptitle)
        fig.tight_layout()
        out = os.path.join(outdir, name)
        fig.savefig(out, dpi=110)
        plt.close(fig)
        written.append(out)

    # Prefill: per model, GB/s and fraction of the roofline against sequence length.
    for model in sorted({r["model"] for r in rows if r["phase"] == "prefill"}):
        sel = [r for r in rows if r["phase"] == "prefill" and r["model"] == model and r["variant"] in variants]
        seqs = sorted({r["seq"] for r in sel})
        if len(seqs) < 2:
            continue
        sweep(sel, "seq", [(s, human(s)) for s in seqs], "sequence length (batch 1)", "GB/s (2 x (q + k) bytes / time)",
              "RoPE prefill, %s: %s" % (model, title), "%s-prefill-%s.png" % (stem, model), True)
    # Decode: GB/s and fraction of the roofline against batch.
    sel = [r for r in rows if r["phase"] == "decode" and r["variant"] in variants]
    batches = sorted({r["batch"] for r in sel})
    if len(batches) >= 2:
        sweep(sel, "batch", [(b, str(b)) for b in batches], "batch (one token each, offsets up to 128K)", "GB/s",
              "RoPE decode, %s: %s" % (sel[0]["model"], title), "%s-decode.png" % stem, False)
    # The variant matrix: fraction of the same-pattern roofline per variant on its shape.
    matrix = [r for r in rows if r["phase"] == "prefill" and r["variant"] != "copy"]
    counts = {}
    for r in matrix:
        counts[(r["model"], r["seq"])] = counts.get((r["model"], r["seq"]), 0) + 1
    if counts:
        (model, seq), n = max(counts.items(), key=lambda kv: kv[1])
        if n > 8:
            sel = sorted((r for r in matrix if r["model"] == model and r["seq"] == seq),
                         key=lambda r: (r["dtype"], r["variant"]))
            fig, ax = plt.subplots(figsize=(12, 0.28 * len(sel) + 1.5))
            labels = ["%s %s" % (r["variant"], r["dtype"]) for r in sel]
            ax.barh(range(len(sel)), [r[fkey] for r in sel],
                    color=["C0" if r["dtype"] == "bf16" else "C1" for r in sel])
            ax.set_yticks(range(len(sel)))
            ax.set_yticklabels(labels, fontsize=7)
            ax.axvline(1.0, color="k", lw=0.8)
            ax.set_xlabel(flabel)
            ax.set_title("Variants, prefill %s seq %s: %s" % (model, human(seq), title))
            fig.tight_layout()
            out = os.path.join(outdir, "%s-variants.png" % stem)
            fig.savefig(out, dpi=110)
            plt.close(fig)
            written.append(out)
    return written


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("summary")
    s.add_argument("results")
    s.add_argument("--all", action="store_true", help="every variant, not only the headline ones")
    g = sub.add_parser("plot")
    g.add_argument("results")
    g.add_argument("--outdir", default=None)
    a = p.parse_args()
    ctx, rows = load(a.results)
    if not rows:
        sys.exit("report.py: no benchmark rows in %s" % a.results)
    if a.cmd == "summary":
        summary(ctx, rows, a.all)
    else:
        try:
            import matplotlib  # noqa: F401  (optional: the sysroot's 'plots' group)
        except ImportError:
            print("report.py: plots NOT drawn: python3-matplotlib is not installed (optional)")
            return
        for f in plot(a.results, ctx, rows, a.outdir or os.path.dirname(os.path.abspath(a.results))):
            print("wrote " + f)


if __name__ == "__main__":
    main()
