#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Plots the logit envelope written by the long_context example.

usage: plot_long_context.py long_context_envelope.csv out.png
"""
import csv
import sys
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

ORIGINAL, EXTENDED = 8192, 131072
LABELS = {
    "none": "no scaling (plain RoPE)",
    "linear": "linear (PI), factor 8",
    "ntk": "NTK-aware, factor 8",
    "yarn": "YaRN, factor 8",
    "llama3": "Llama 3 (checkpoint config)",
}
COLORS = {"none": "tab:red", "linear": "tab:blue", "ntk": "tab:orange", "yarn": "tab:green", "llama3": "tab:purple"}


def main(csv_path, png_path):
    rows = defaultdict(list)
    with open(csv_path, newline="") as f:
        for r in csv.DictReader(f):
            rows[(r["variant"], r["vectors"])].append(
                (int(r["distance_lo"]), int(r["distance_hi"]), float(r["max_logit"]), float(r["min_logit"])))
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.8), constrained_layout=True)
    for ax, vectors in zip(axes, ("constant", "random")):
        for variant in LABELS:
            data = sorted(rows[(variant, vectors)])
            if len(data) > 2 and data[-1][1] - data[-1][0] < (data[-2][1] - data[-2][0]) / 4:
                data = data[:-1]  # a sliver of a last bin (up to m) would be a misleading spike
            x = [max(hi, 1) for lo, hi, _, _ in data]
            if vectors == "constant":
                y = [mx for _, _, mx, _ in data]
            else:
                y = [max(abs(mx), abs(mn)) for _, _, mx, mn in data]
            ax.plot(x, y, color=COLORS[variant], lw=1.4, label=LABELS[variant])
        for pos, text in ((ORIGINAL, "pretraining context 8K"), (EXTENDED, "128K")):
            ax.axvline(pos, color="0.3", ls="--", lw=0.9)
            ax.text(pos * 0.93, 0.97, text, rotation=90, ha="right", va="top", fontsize=8,
                    transform=ax.get_xaxis_transform(), color="0.3")
        ax.set_xscale("log")
        ax.set_xlabel("relative distance m - n (tokens)")
        ax.grid(True, which="major", alpha=0.3)
        if vectors == "constant":
            ax.set_title("q = k = 1 (RoPE paper's long-term decay): max logit per distance bin")
            ax.set_ylabel("logit / head_dim")
        else:
            ax.set_title("random q, k (seed 2024): max |logit| per distance bin")
            ax.set_ylabel("|logit| / head_dim")
    axes[0].legend(fontsize=8, loc="lower left")
    fig.suptitle("Llama 3.1 8B RoPE: one query at m = 131072 against keys at 0..m (KokkosRope + KokkosBlas::gemv)",
                 fontsize=11)
    fig.savefig(png_path, dpi=110)
    print("wrote", png_path)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
