"""Charts the explorers need that the reports do not draw, in the house style of :mod:`analysis.plots`.

Like every chart in :mod:`analysis.plots`, each records its title, source and the data it plotted
(:func:`analysis.plots.chart_meta`), so the explorer ships the data as a CSV under the chart; and a
title that compares records the interval it rests on (``title_basis``).

- :func:`distribution`: the simulated distribution of one total (the VfM headline);
- :func:`organisation_strip`: each organisation's rate on one staff-survey item, by group.
"""

from __future__ import annotations

import textwrap
from typing import Any

import matplotlib
import numpy as np
import pandas as pd

from analysis import plots


def _decorate(fig, title: str, source: str, n: str | int | None, data: pd.DataFrame, basis: Any = None,
              plot: str = "", left: float | None = None) -> Any:
    """Title above, source and n below, and the chart's record (title, source, data, basis).

    With ``left`` (the left margin as a fraction of the width) the margins are set directly
    instead of by ``tight_layout``, which draws the figure once more (the explorer redraws on
    every change, so that matters there).
    """
    meta = plots.chart_meta(fig)
    meta.update(title=title, source=source, n=None if n is None else str(n), plot=plot)
    if basis is not None:
        meta["title_basis"] = plots.normalise_basis(basis)
    plots.attach_data(fig, data)
    width = int(fig.get_figwidth() * 9.5)
    fig.suptitle("\n".join(textwrap.wrap(title, width)), x=0.01, y=0.995, ha="left", va="top", fontsize=12,
                 fontweight="bold")
    text = f"Source: {source}" + (f"  |  n = {n}" if n is not None else "")
    lines = textwrap.wrap(text, 115)
    height = fig.get_figheight()
    bottom = (0.16 * len(lines) + 0.1) / height
    if left is None:
        fig.tight_layout(rect=(0, bottom, 1, 1))
    else:
        title_lines = len(textwrap.wrap(title, width))
        fig.subplots_adjust(left=left, right=0.98, bottom=bottom + 0.45 / height,
                            top=1 - (0.22 * title_lines + 0.15) / height)
    fig.text(0.01, 0.005, "\n".join(lines), ha="left", va="bottom", fontsize=8, color=plots.GREY)
    return fig


def distribution(values: np.ndarray, title: str, source: str, *, mean: float, low: float, high: float,
                 level: float, xlabel: str, n: str | int | None = None, bins: int = 60,
                 title_basis: Any = None) -> Any:
    """Histogram of simulated values with the mean and the central ``level`` range marked.

    The CSV holds the histogram (bin edges and counts) and the summary, not every draw.
    """
    values = np.asarray(values, dtype=float)
    fig, ax = plots.plt.subplots(figsize=(8.0, 3.8))
    counts, edges = np.histogram(values, bins=bins)
    share = counts / max(len(values), 1)
    ax.stairs(100 * share, edges, fill=True, color=plots.PALETTE[0], alpha=0.75)
    ax.axvspan(low, high, color=plots.PALETTE[1], alpha=0.15, label=f"central {level:.0%} of simulations")
    ax.axvline(mean, color=plots.PALETTE[3], lw=2, label="mean (the headline)")
    ax.axvline(0, color=plots.GREY, lw=1, ls="--")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("Share of simulations (%)")
    ax.legend(loc="upper right")
    data = pd.DataFrame({"bin_low": edges[:-1], "bin_high": edges[1:], "simulations": counts,
                         "share_percent": 100 * share})
    summary = pd.DataFrame({"bin_low": [np.nan], "bin_high": [np.nan], "simulations": [len(values)],
                            "share_percent": [100.0], "mean": [mean], "low": [low], "high": [high], "level": [level]})
    return _decorate(fig, title, source, n, pd.concat([data, summary], ignore_index=True), title_basis,
                     "distribution", left=0.08)


def organisation_strip(spread: pd.DataFrame, title: str, source: str, *, groups: dict[int, str],
                       highlight: str | None = None, xlabel: str = "Percent of staff",
                       title_basis: Any = None) -> Any:
    """Each organisation's rate as a dot, one row per group, sized by responses; ``highlight`` (an ODS
    code) ringed and named. ``spread`` is :func:`analysis.mutuals.staff.organisation_spread` output."""
    fig, ax = plots.plt.subplots(figsize=(8.0, 3.2))
    rng = np.random.default_rng(0)  # vertical jitter only, so overlapping dots stay visible
    ticks, labels = [], []
    for row, (flag, name) in enumerate(sorted(groups.items())):
        part = spread[spread["social_enterprise"] == flag]
        y = row + rng.uniform(-0.12, 0.12, len(part))
        sizes = 15 + 120 * part["base"] / max(float(spread["base"].max()), 1.0)
        ax.scatter(part["rate"], y, s=sizes, color=plots.PALETTE[1 if flag else 0], alpha=0.75, linewidths=0)
        ticks.append(row)
        labels.append(f"{name}\n({len(part)} organisations)")
        if highlight is not None and (part["ods_code"] == highlight).any():
            hit = part["ods_code"].to_numpy() == highlight
            ax.scatter(part["rate"][hit], y[hit], s=180, facecolors="none", edgecolors="black", linewidths=1.5)
            name_text = str(part.loc[hit, "organisation_latest"].iloc[0])
            ax.annotate(textwrap.shorten(name_text, 40), (float(part["rate"][hit].iloc[0]), float(y[hit][0])),
                        xytext=(0, 12), textcoords="offset points", ha="center", fontsize=8)
    ax.set_yticks(ticks)
    ax.set_yticklabels(labels)
    ax.set_ylim(-0.6, len(groups) - 0.4)
    ax.set_xlabel(xlabel)
    ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(xmax=100))
    ax.grid(axis="y", visible=False)
    return _decorate(fig, title, source, len(spread), spread.reset_index(drop=True), title_basis,
                     "organisation_strip")


