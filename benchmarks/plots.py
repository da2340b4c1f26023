"""The accuracy benchmark's PNG: score distributions of matches vs non-matches, one panel per
verdict (style per dev set, content on the copy set)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


def score_plot(results: dict[str, Any], path: Path) -> None:
    """Overlaid histograms of each panel's two score samples, written to `path`."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [(f"style: {name}", s["scores"]) for name, s in results["style"].items()]
    if "copy" in results:
        panels.append(("content: copy set", results["copy"]["scores"]))
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 3.6))
    for ax, (title, samples) in zip(np.atleast_1d(axes), panels, strict=True):
        values = [np.asarray(v, float) for v in samples.values()]
        finite = np.concatenate([v[np.isfinite(v)] for v in values])
        bins = np.linspace(finite.min(), finite.max(), 40)
        for (label, _), v in zip(samples.items(), values, strict=True):
            ax.hist(v, bins=bins, alpha=0.55, density=True, label=f"{label} (n={len(v)})")
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("score")
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def scale_plot(rows: list[list[Any]], path: Path) -> None:
    """Query latency (p50 and p99) and bytes per vector against index size, one line per
    kind of index; rows as benchmarks/index_scale.py writes them."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    kinds: dict[str, list[list[Any]]] = {}
    for row in rows:
        kinds.setdefault("flat (exact)" if row[0].startswith("flat") else "IVF", []).append(row)
    fig, (lat, mem) = plt.subplots(1, 2, figsize=(10, 3.8))
    for kind, kind_rows in kinds.items():
        sizes = [r[1] for r in kind_rows]
        lat.plot(sizes, [r[4] for r in kind_rows], marker="o", label=f"{kind} p50")
        lat.plot(sizes, [r[5] for r in kind_rows], marker="x", linestyle="--", label=f"{kind} p99")
        mem.plot(sizes, [r[3] for r in kind_rows], marker="o", label=kind)
    lat.set(xscale="log", yscale="log", xlabel="vectors", ylabel="query latency, ms")
    mem.set(xscale="log", xlabel="vectors", ylabel="bytes per vector (saved index)")
    lat.set_title("latency against index size", fontsize=10)
    mem.set_title("memory against index size", fontsize=10)
    for ax in (lat, mem):
        ax.legend(fontsize=7)
        ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
