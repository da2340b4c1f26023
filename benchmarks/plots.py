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
