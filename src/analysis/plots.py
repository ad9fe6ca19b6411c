"""Charts in one house style.

Every chart: an accessible colour-blind-safe palette (Okabe-Ito), a title
that states the finding (passed in by the caller, who knows the finding), and
a source line with n under the plot. Simulated data must say so in the title:
pass ``simulated=True`` and the title is prefixed "SIMULATED DATA:".

Functions return the matplotlib Figure and never call ``plt.show()``; in a
notebook the figure is displayed by the cell (``report.figure(fig)``).

**The chart's data travels with it.** Every function here records the data it
plotted on the figure (:func:`chart_data`), with its title and source
(:func:`chart_meta`); ``report.figure`` ships that table with the image, and the
rendered report links it as a CSV under the chart. Charts drawn elsewhere pass
their data explicitly: ``report.figure(fig, data=df)`` or :func:`attach_data`.

**Titles state a difference only when its interval supports it.** A title that
compares ("higher", "lower", "better", "worse", "more", "less", "cheaper", "more
expensive", ...) must record the estimate and interval it rests on, so the
reviewer's test (``analysis.report.review``, words in :data:`COMPARATIVE_WORDS`,
including superlatives such as "most" and "vs") can check it:

* build the title and its basis together, so they cannot disagree::

      title, basis = plots.difference_title("Burnout", "social enterprises", "NHS trusts",
                                            est, low, high, level=0.95)
      fig = plots.forest(df, ..., title=title, source=..., title_basis=basis)

  (``difference_title`` says "no clear difference between ..." when the interval
  includes zero, exactly like :func:`analysis.findings.difference_phrase`);
* or pass ``title_basis=(estimate, low, high)`` (or a dict with ``estimate``,
  ``low``, ``high``, ``level``) to any plot function, or call
  :func:`assert_difference` on a finished figure;
* a title whose comparative word is not a statistical comparison ("more than
  half of councils") records why: ``title_basis={"reason": "a share, not a
  comparison"}``. The reason is shown to the reviewer, so make it true.

**Forest plots say which side is better**: ``forest(..., better="left")`` (or
``"right"``) draws "← better" and "worse →" either side of the line of no
difference (``better="neither"`` for a quantity with no good direction; the
reviewer's test flags a forest plot that says nothing); ``bars_with_ci`` takes
the same argument around its reference line.
"""

from __future__ import annotations

import inspect
import math
import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib
import matplotlib.pyplot as plt  # noqa: E402  (backend chosen by the caller/kernel)
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from analysis import provenance

# Okabe & Ito (2008), safe for the common colour-vision deficiencies.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
GREY = "#6E6E6E"
OWNERSHIP_COLOURS = {"local authority": "#0072B2", "third sector": "#009E73", "for-profit": "#D55E00",
                     "all": GREY}

HOUSE_RC = {
    "figure.figsize": (8.0, 4.8),
    "figure.dpi": 100,
    "savefig.dpi": 150,
    "font.size": 10,
    "axes.labelsize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.prop_cycle": matplotlib.cycler(color=PALETTE),
    "legend.frameon": False,
}


def apply_house_style() -> None:
    """Reset matplotlib to its defaults, then apply the house style (no state carried over)."""
    matplotlib.rcdefaults()
    matplotlib.rcParams.update(HOUSE_RC)


META_ATTRIBUTE = "analysis_chart"  # the attribute of a Figure holding its title, source, basis and data

# Words by which a chart title compares (the reviewer's test looks for them; see the module docstring).
COMPARATIVE_WORDS = ("more expensive", "higher", "lower", "better", "worse", "more", "less", "cheaper", "fewer",
                     "greater", "smaller", "larger", "most", "least", "highest", "lowest", "best", "worst",
                     "outperform", "outperforms", "outperformed", "underperform", "underperforms", "vs", "versus")


def chart_meta(fig: Figure) -> dict[str, Any]:
    """What this module recorded about ``fig``: title, source, n, title basis, better side, data."""
    meta = getattr(fig, META_ATTRIBUTE, None)
    if meta is None:
        meta = {}
        setattr(fig, META_ATTRIBUTE, meta)
    return meta


def chart_data(fig: Figure) -> pd.DataFrame | None:
    """The data the chart plotted (None for a figure drawn outside this module without :func:`attach_data`)."""
    return chart_meta(fig).get("data")


def attach_data(fig: Figure, data: pd.DataFrame | Mapping[str, pd.DataFrame]) -> Figure:
    """Record the data behind ``fig`` (one table, or several by name: stacked with a ``series`` column)."""
    chart_meta(fig)["data"] = _as_frame(data)
    return fig


def _as_frame(data: pd.DataFrame | Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    if isinstance(data, pd.DataFrame):
        return data.copy()
    if isinstance(data, Mapping):
        parts = [pd.DataFrame(part).assign(series=name) for name, part in data.items() if part is not None]
        if not parts:
            raise ValueError("attach_data: no tables given")
        frame = pd.concat(parts, ignore_index=True, sort=False)
        return frame[["series"] + [c for c in frame.columns if c != "series"]]
    raise TypeError(f"chart data must be a DataFrame or a mapping of DataFrames, not {type(data).__name__}")


def normalise_basis(basis: Any) -> dict[str, Any] | list[dict[str, Any]] | None:
    """Normalise a title basis: (estimate, low, high[, level]), a dict, a reason, or a list of these."""
    if basis is None:
        return None
    if isinstance(basis, list):
        return [normalise_basis(b) for b in basis]
    if isinstance(basis, str):
        basis = {"reason": basis}
    if isinstance(basis, tuple):
        if len(basis) not in (3, 4):
            raise ValueError("title_basis as a tuple is (estimate, low, high) or (estimate, low, high, level)")
        basis = dict(zip(("estimate", "low", "high", "level"), basis))
    if not isinstance(basis, Mapping):
        raise TypeError("title_basis must be a tuple, a dict, a reason (str) or a list of these")
    if "reason" in basis and not {"estimate", "low", "high"} & set(basis):
        reason = str(basis["reason"]).strip()
        if not reason:
            raise ValueError("title_basis: a reason must not be empty")
        return {"reason": reason}
    out = {}
    for key in ("estimate", "low", "high"):
        value = basis.get(key)
        if value is None or not math.isfinite(float(value)):
            raise ValueError(f"title_basis needs a finite {key!r} (got {value!r})")
        out[key] = float(value)
    if out["low"] > out["high"]:
        raise ValueError(f"title_basis: low {out['low']} exceeds high {out['high']}")
    if basis.get("level") is not None:
        out["level"] = float(basis["level"])
    return out


def assert_difference(fig: Figure, estimate: float, low: float, high: float, level: float | None = None) -> Figure:
    """Record the estimate and interval that the chart's title rests on (checked by the reviewer's test)."""
    chart_meta(fig)["title_basis"] = normalise_basis((estimate, low, high, level))
    return fig


def difference_title(what: str, group: str, reference: str, estimate: float, low: float, high: float, *,
                     unit: str = "pp", level: float | None = None, higher: str = "higher",
                     lower: str = "lower", directional: bool = False) -> tuple[str, dict[str, float]]:
    """A chart title and its basis: states the difference only when the interval excludes zero.

    Returns ``(title, basis)`` for ``title=`` and ``title_basis=`` of any plot function; the
    wording is :func:`analysis.findings.difference_phrase` (``directional=True`` words the interval in the
    sentence's direction: '... 4.6 pp lower than ... (95% interval 1.6 to 7.3 pp lower)').
    """
    from analysis.findings import difference_phrase

    title = difference_phrase(what, group, reference, estimate, low, high, unit=unit, level=level, higher=higher,
                              lower=lower, directional=directional)
    return title, normalise_basis((estimate, low, high, level))


def _title(ax, title: str, simulated: bool, basis: Any = None) -> None:
    """The finding, as a left-aligned figure title (so long titles are not clipped by the axes)."""
    if simulated:
        title = "SIMULATED DATA: " + title
        provenance.record_simulated(title)
    fig = ax.figure
    meta = chart_meta(fig)
    meta["title"] = title
    if basis is not None:
        meta["title_basis"] = normalise_basis(basis)
    width_chars = int(fig.get_figwidth() * 9.5)
    wrapped = textwrap.wrap(title, width_chars)
    fig.suptitle("\n".join(wrapped), x=0.01, y=0.995, ha="left", va="top", fontsize=12, fontweight="bold")


def _source(fig: Figure, source: str, n: str | int | None) -> None:
    text = f"Source: {source}"
    if n is not None:
        text += f"  |  n = {n}"
    fig.text(0.01, 0.005, "\n".join(textwrap.wrap(text, 115)), ha="left", va="bottom", fontsize=8, color=GREY)


def _finish(fig: Figure, source: str, n, data: pd.DataFrame | Mapping[str, pd.DataFrame] | None = None, *,
            margins: Mapping[str, float] | None = None) -> Figure:
    """Lay out the figure leaving room for the title above and the source line below, and record
    its source, the plot function and the data it plotted (shipped as a CSV beside the report).

    ``margins`` (``subplots_adjust`` arguments, without ``bottom``) lays out a figure whose shape is known
    without measuring every label (tight_layout is the slowest step of a many-panel figure)."""
    caller = inspect.currentframe().f_back  # the public plot function that drew the chart

    meta = chart_meta(fig)
    meta["plot"] = caller.f_code.co_name if caller is not None else None
    meta["source"] = source
    meta["n"] = None if n is None else str(n)
    if data is not None:
        meta["data"] = _as_frame(data)
    lines = 1 + len(source) // 115
    height = fig.get_figheight()
    bottom = (0.16 * lines + 0.1) / height
    if margins is None:
        fig.tight_layout(rect=(0, bottom, 1, 1))  # tight_layout makes room for the suptitle itself
    else:
        fig.subplots_adjust(bottom=bottom + 0.55 / height, **margins)
    _source(fig, source, n)
    return fig


def _check_columns(df: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"{what}: missing columns {missing}")


def _columns(df: pd.DataFrame, columns: Sequence[str | None]) -> pd.DataFrame:
    """The plotted columns of ``df``, each once, in order (the chart's CSV)."""
    seen: list[str] = []
    for c in columns:
        if c is not None and c in df.columns and c not in seen:
            seen.append(c)
    return df[seen].reset_index(drop=True)


BETTER_SIDES = ("left", "right", "neither")


def _better_annotation(ax, better: str | None, at: float, better_label: str = "better",
                       worse_label: str = "worse", sides: tuple[str, str] | None = None) -> None:
    """'← better' and 'worse →' (or the reverse) either side of the line of no difference, above the plot.

    ``"neither"`` says explicitly that no side is better (a neutral quantity): the chart records
    the choice so the reviewer's test does not ask for it, and ``sides=(left, right)`` names what
    each side means without calling either better ("← own provision cheaper", "dearer →").
    """
    if better is None:
        if sides is not None:
            raise ValueError("sides names what each side means when neither is better: pass better='neither'")
        return
    if better not in BETTER_SIDES:
        raise ValueError(f"better must be 'left', 'right', 'neither' or None, not {better!r}")
    chart_meta(ax.figure)["better"] = better
    if better == "neither":
        if sides is None:
            return
        left, right = sides
        bold = None
    else:
        left, right = (better_label, worse_label) if better == "left" else (worse_label, better_label)
        bold = better
    transform = matplotlib.transforms.blended_transform_factory(ax.transData, ax.transAxes)
    style = {"transform": transform, "va": "bottom", "fontsize": 9, "color": GREY, "clip_on": False}
    ax.text(at, 1.01, f"\u2190 {left}  ", ha="right", fontweight="bold" if bold == "left" else None, **style)
    ax.text(at, 1.01, f"  {right} \u2192", ha="left", fontweight="bold" if bold == "right" else None, **style)


def line_with_band(df: pd.DataFrame, x: str, y: str, group: str, title: str, source: str, *,
                   low: str | None = None, high: str | None = None, ylabel: str = "", xlabel: str = "",
                   n: str | int | None = None, colours: dict | None = None, simulated: bool = False,
                   percent: bool = False, title_basis: Any = None) -> Figure:
    """Lines per group with an optional confidence band."""
    _check_columns(df, [x, y, group] + [c for c in (low, high) if c], "line_with_band")
    fig, ax = plt.subplots()
    for i, (key, part) in enumerate(df.groupby(group, observed=True, sort=False)):
        part = part.sort_values(x)
        colour = (colours or {}).get(key, PALETTE[i % len(PALETTE)])
        ax.plot(part[x], part[y], marker="o", ms=3, color=colour, label=str(key))
        if low and high:
            ax.fill_between(part[x], part[low], part[high], color=colour, alpha=0.15, linewidth=0)
    ax.set_xlabel(xlabel or x)
    ax.set_ylabel(ylabel or y)
    if percent:
        ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(xmax=100))
    if pd.api.types.is_integer_dtype(df[x]):
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    ax.legend(loc="best")
    _title(ax, title, simulated, title_basis)
    return _finish(fig, source, n, _columns(df, [group, x, y, low, high]))


def forest(df: pd.DataFrame, label: str, estimate: str, low: str, high: str, title: str, source: str, *,
           pooled: dict | None = None, prediction: tuple[float, float] | None = None, xlabel: str = "Effect",
           null: float = 0.0, weight: str | None = None, n: str | int | None = None, log_scale: bool = False,
           simulated: bool = False, better: str | None = None, better_label: str = "better",
           worse_label: str = "worse", sides: tuple[str, str] | None = None, title_basis: Any = None) -> Figure:
    """Forest plot: one row per study/organisation with its CI, optional pooled diamond.

    ``better="left"`` or ``"right"`` says which side of the line of no difference (``null``)
    is better for the reader, drawn as "← better" / "worse →" above the plot; ``"neither"``
    says the quantity has no good direction (``sides=`` then names each side neutrally). The
    reviewer's test asks every forest plot to say.
    """
    _check_columns(df, [label, estimate, low, high], "forest")
    rows = len(df) + (2 if pooled else 0)
    fig, ax = plt.subplots(figsize=(8.0, max(2.5, 0.38 * rows + 1.6)))
    ys = np.arange(len(df))[::-1] + (2 if pooled else 0)
    sizes = 30 if weight is None else 20 + 200 * df[weight] / df[weight].max()
    ax.hlines(ys, df[low], df[high], color=PALETTE[0], lw=1.5)
    ax.scatter(df[estimate], ys, s=sizes, marker="s", color=PALETTE[0], zorder=3)
    labels = list(df[label])
    ticks = list(ys)
    data = _columns(df, [label, estimate, low, high, weight])
    if pooled:
        y0 = 0.5
        est, lo, hi = pooled["estimate"], pooled["low"], pooled["high"]
        ax.fill([lo, est, hi, est], [y0, y0 + 0.3, y0, y0 - 0.3], color=PALETTE[3], zorder=3)
        if prediction:
            ax.hlines(y0, prediction[0], prediction[1], color=PALETTE[3], lw=1, linestyles="dotted")
        labels.append(pooled.get("label", "Pooled"))
        ticks.append(y0)
        pooled_row = {label: pooled.get("label", "Pooled"), estimate: est, low: lo, high: hi}
        if prediction:
            pooled_row.update({"prediction_low": prediction[0], "prediction_high": prediction[1]})
        data = pd.concat([data, pd.DataFrame([pooled_row])], ignore_index=True, sort=False)
    ax.axvline(null, color=GREY, lw=1, ls="--")
    ax.set_yticks(ticks)
    ax.set_yticklabels(labels)
    ax.set_xlabel(xlabel)
    if log_scale:
        ax.set_xscale("log")
    ax.grid(axis="y", visible=False)
    _better_annotation(ax, better, null, better_label, worse_label, sides)
    _title(ax, title, simulated, title_basis)
    return _finish(fig, source, n if n is not None else len(df), data)


def tornado(df: pd.DataFrame, title: str, source: str, *, label: str = "label", low: str = "npv_at_low",
            high: str = "npv_at_high", base: float, xlabel: str = "Value at risk (£m, present value)",
            title_basis: Any = None) -> Figure:
    """Tornado chart of one-way sensitivity, largest swing on top."""
    _check_columns(df, [label, low, high], "tornado")
    fig, ax = plt.subplots(figsize=(8.0, 0.5 * len(df) + 1.8))
    ys = np.arange(len(df))[::-1]
    for y, row in zip(ys, df.itertuples()):
        lo, hi = getattr(row, low), getattr(row, high)
        ax.barh(y, lo - base, left=base, color=PALETTE[0], height=0.6, label="input at low" if y == ys[0] else None)
        ax.barh(y, hi - base, left=base, color=PALETTE[1], height=0.6, label="input at high" if y == ys[0] else None)
    ax.axvline(base, color="black", lw=1)
    ax.set_yticks(ys)
    ax.set_yticklabels(["\n".join(textwrap.wrap(t, 34)) for t in df[label]])
    ax.set_xlabel(xlabel)
    ax.legend(loc="lower right")
    ax.grid(axis="y", visible=False)
    _title(ax, title, False, title_basis)
    return _finish(fig, source, None, _columns(df, [label, low, high]).assign(base=base))


def fan(df: pd.DataFrame, title: str, source: str, *, x: str = "year", n: str | int | None = None,
        ylabel: str = "Cumulative value at risk (£m, present value)", level_label: str = "90%",
        title_basis: Any = None) -> Figure:
    """Fan chart from quantile columns q05, q25, q50, q75, q95."""
    _check_columns(df, [x, "q05", "q25", "q50", "q75", "q95"], "fan")
    fig, ax = plt.subplots()
    ax.fill_between(df[x], df["q05"], df["q95"], color=PALETTE[0], alpha=0.18, label=f"{level_label} interval")
    ax.fill_between(df[x], df["q25"], df["q75"], color=PALETTE[0], alpha=0.35, label="50% interval")
    ax.plot(df[x], df["q50"], color=PALETTE[0], lw=2, label="median")
    ax.axhline(0, color=GREY, lw=1)
    ax.set_xlabel("Contract year")
    ax.set_ylabel(ylabel)
    ax.set_xticks(df[x])
    ax.legend(loc="upper left")
    _title(ax, title, False, title_basis)
    return _finish(fig, source, n, _columns(df, [x, "q05", "q25", "q50", "q75", "q95"]))


def bars_with_ci(df: pd.DataFrame, label: str, estimate: str, low: str, high: str, title: str, source: str, *,
                 colours: dict | None = None, xlabel: str = "", n: str | int | None = None, percent: bool = False,
                 simulated: bool = False, reference: float | None = None, better: str | None = None,
                 better_label: str = "better", worse_label: str = "worse", title_basis: Any = None) -> Figure:
    """Horizontal bars with confidence intervals (e.g. rates by ownership).

    ``better="left"``/``"right"`` labels the better side of ``reference`` (0 when not given,
    drawn as a line) for bars that are differences or have a good direction.
    """
    _check_columns(df, [label, estimate, low, high], "bars_with_ci")
    fig, ax = plt.subplots(figsize=(8.0, 0.55 * len(df) + 1.8))
    ys = np.arange(len(df))[::-1]
    cols = [(colours or {}).get(k, PALETTE[i % len(PALETTE)]) for i, k in enumerate(df[label])]
    ax.barh(ys, df[estimate], color=cols, height=0.6)
    ax.errorbar(df[estimate], ys, xerr=[df[estimate] - df[low], df[high] - df[estimate]], fmt="none",
                ecolor="black", capsize=3, lw=1)
    if better is not None and reference is None:
        reference = 0.0
    if reference is not None:
        ax.axvline(reference, color=GREY, ls="--", lw=1)
    ax.set_yticks(ys)
    ax.set_yticklabels(df[label])
    ax.set_xlabel(xlabel)
    if percent:
        ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(xmax=100))
    ax.grid(axis="y", visible=False)
    if better is not None:
        _better_annotation(ax, better, reference, better_label, worse_label)
    _title(ax, title, simulated, title_basis)
    return _finish(fig, source, n, _columns(df, [label, estimate, low, high]))


def scatter_fit(df: pd.DataFrame, x: str, y: str, title: str, source: str, *, highlight: str | None = None,
                xlabel: str = "", ylabel: str = "", n: str | int | None = None, simulated: bool = False,
                highlight_label: str = "highlighted", label: str | None = None, title_basis: Any = None) -> Figure:
    """Scatter with an OLS line; optional boolean column to highlight a subgroup.

    ``label`` names a column that identifies each point (a council) in the chart's CSV.
    """
    _check_columns(df, [x, y] + ([highlight] if highlight else []) + ([label] if label else []), "scatter_fit")
    data = df.dropna(subset=[x, y])
    fig, ax = plt.subplots()
    if highlight:
        rest = data[~data[highlight].astype(bool)]
        sel = data[data[highlight].astype(bool)]
        ax.scatter(rest[x], rest[y], s=14, color=PALETTE[5], alpha=0.6, label="other")
        ax.scatter(sel[x], sel[y], s=30, color=PALETTE[3], label=highlight_label, zorder=3)
        ax.legend(loc="best")
    else:
        ax.scatter(data[x], data[y], s=14, color=PALETTE[0], alpha=0.6)
    plotted = _columns(data, [label, x, y, highlight])
    if len(data) >= 3 and data[x].nunique() > 1:
        slope, intercept = np.polyfit(data[x], data[y], 1)
        xs = np.linspace(data[x].min(), data[x].max(), 50)
        ax.plot(xs, intercept + slope * xs, color="black", lw=1)
        plotted = plotted.assign(ols_fitted=intercept + slope * data[x].to_numpy())
    ax.set_xlabel(xlabel or x)
    ax.set_ylabel(ylabel or y)
    _title(ax, title, simulated, title_basis)
    return _finish(fig, source, n if n is not None else len(data), plotted)


def close_all() -> None:
    plt.close("all")


def event_study(df: pd.DataFrame, title: str, source: str, *, x: str = "event_time", estimate: str = "estimate",
                low: str = "ci_low", high: str = "ci_high", series: str | None = None, n: str | int | None = None,
                simulated: bool = False, ylabel: str = "Effect on outcome", band_critical: float | None = None,
                se: str = "se", title_basis: Any = None) -> Figure:
    """Coefficients by event time with CIs; optional simultaneous band; reference line before adoption."""
    _check_columns(df, [x, estimate, low, high], "event_study")
    fig, ax = plt.subplots()
    groups = [(None, df)] if series is None else list(df.groupby(series, sort=False))
    width = 0.15 * (len(groups) - 1)
    for i, (name, part) in enumerate(groups):
        offset = -width / 2 + (0.3 * i if len(groups) > 1 else 0)
        xs = part[x] + offset
        ax.errorbar(xs, part[estimate], yerr=[part[estimate] - part[low], part[high] - part[estimate]], fmt="o",
                    color=PALETTE[i % len(PALETTE)], capsize=2, label=None if name is None else str(name))
        if band_critical is not None and se in part:
            ax.fill_between(part[x], part[estimate] - band_critical * part[se],
                            part[estimate] + band_critical * part[se],
                            color=PALETTE[i % len(PALETTE)], alpha=0.12, step="mid",
                            label="simultaneous band" if i == 0 else None)
    ax.axhline(0, color=GREY, lw=1)
    ax.axvline(-0.5, color=GREY, lw=1, ls=":")
    ax.set_xlabel("Periods relative to adoption (0 = first treated period)")
    ax.set_ylabel(ylabel)
    if series is not None or band_critical is not None:
        ax.legend(loc="best")
    _title(ax, title, simulated, title_basis)
    data = _columns(df, [series, x, estimate, low, high, se if band_critical is not None else None])
    if band_critical is not None and se in df:
        data = data.assign(band_low=df[estimate].to_numpy() - band_critical * df[se].to_numpy(),
                           band_high=df[estimate].to_numpy() + band_critical * df[se].to_numpy())
    return _finish(fig, source, n, data)


def paths(df: pd.DataFrame, x: str, lines: dict[str, str], title: str, source: str, *, vline: float | None = None,
          ylabel: str = "", n: str | int | None = None, simulated: bool = False, background: pd.DataFrame | None = None,
          background_y: str | None = None, background_group: str | None = None, title_basis: Any = None) -> Figure:
    """Several series against x (e.g. treated vs synthetic), optional grey background lines (placebos)."""
    _check_columns(df, [x, *lines], "paths")
    fig, ax = plt.subplots()
    shown_background = background is not None and background_y and background_group
    if shown_background:
        for _, part in background.groupby(background_group):
            ax.plot(part[x], part[background_y], color=GREY, alpha=0.25, lw=0.8)
    for i, (column, label) in enumerate(lines.items()):
        ax.plot(df[x], df[column], color=PALETTE[i % len(PALETTE)], lw=2, ls="-" if i == 0 else "--", label=label)
    if vline is not None:
        ax.axvline(vline, color=GREY, lw=1, ls=":")
    ax.set_xlabel(x)
    ax.set_ylabel(ylabel)
    ax.legend(loc="best")
    _title(ax, title, simulated, title_basis)
    main = _columns(df, [x, *lines]).rename(columns=lines)
    data = {"shown": main, "background": _columns(background, [background_group, x, background_y])} \
        if shown_background else main
    return _finish(fig, source, n, data)


def ce_plane(delta_effect: np.ndarray, delta_cost: np.ndarray, title: str, source: str, *, wtp: float | None = None,
             n: str | int | None = None, simulated: bool = False, max_points: int = 3000,
             title_basis: Any = None) -> Figure:
    """Cost-effectiveness plane: incremental effect (x) against incremental cost (y).

    The chart's CSV holds the plotted draws (every ``step``-th when there are more than ``max_points``).
    """
    fig, ax = plt.subplots()
    step = max(1, len(delta_effect) // max_points)
    ax.scatter(delta_effect[::step], delta_cost[::step], s=4, alpha=0.3, color=PALETTE[0])
    ax.scatter([np.mean(delta_effect)], [np.mean(delta_cost)], s=60, color=PALETTE[3], zorder=3, label="mean")
    ax.axhline(0, color=GREY, lw=1)
    ax.axvline(0, color=GREY, lw=1)
    if wtp is not None:
        xs = np.linspace(*ax.get_xlim(), 10)
        ax.plot(xs, wtp * xs, color=PALETTE[1], ls="--", label=f"willingness to pay £{wtp:,.0f}")
    ax.set_xlabel("Incremental effect")
    ax.set_ylabel("Incremental cost (£)")
    ax.legend(loc="best")
    _title(ax, title, simulated, title_basis)
    draws = pd.DataFrame({"incremental_effect": np.asarray(delta_effect)[::step],
                          "incremental_cost": np.asarray(delta_cost)[::step]})
    mean = pd.DataFrame({"incremental_effect": [float(np.mean(delta_effect))],
                         "incremental_cost": [float(np.mean(delta_cost))]})
    return _finish(fig, source, n, {"draw": draws, "mean of all draws": mean})


def bars(df: pd.DataFrame, label: str, value: str, title: str, source: str, *, xlabel: str = "",
         n: str | int | None = None, colour: str = PALETTE[0], simulated: bool = False,
         title_basis: Any = None) -> Figure:
    """Horizontal bars in one colour, largest on top, for totals that have no sampling interval (a census)."""
    _check_columns(df, [label, value], "bars")
    fig, ax = plt.subplots(figsize=(8.0, 0.45 * len(df) + 1.8))
    ys = np.arange(len(df))[::-1]
    ax.barh(ys, df[value], color=colour, height=0.6)
    ax.set_yticks(ys)
    ax.set_yticklabels(df[label])
    ax.set_xlabel(xlabel)
    ax.grid(axis="y", visible=False)
    _title(ax, title, simulated, title_basis)
    return _finish(fig, source, n, _columns(df, [label, value]))


def small_multiples(df: pd.DataFrame, panel: str, x: str, y: str, group: str, title: str, source: str, *,
                    low: str | None = None, high: str | None = None, panel_titles: Mapping[str, str] | None = None,
                    ncols: int = 3, colours: Mapping[str, str] | None = None,
                    dashed: Sequence[str] = (), xlabel: str = "", n: str | int | None = None,
                    x_labels: Mapping[Any, str] | None = None, simulated: bool = False,
                    title_basis: Any = None) -> Figure:
    """One small panel per value of ``panel`` (a measure), the same series in each, x shared, each panel on its
    own y scale (the measures differ in unit). ``low``/``high`` draw a band where given (a peer group's middle
    half); ``dashed`` series are drawn dashed; one legend for the whole figure. ``x_labels`` names the x ticks
    (year 2024 -> "2023-24"). The chart's CSV is the long table it plotted.
    """
    _check_columns(df, [panel, x, y, group] + [c for c in (low, high) if c], "small_multiples")
    panels = list(dict.fromkeys(df[panel]))
    if not panels:
        raise ValueError("small_multiples: no panels to draw")
    ncols = max(1, min(ncols, len(panels)))
    nrows = math.ceil(len(panels) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(9.0, 2.4 * nrows + 1.5), squeeze=False, sharex=True)
    groups = list(dict.fromkeys(df[group]))
    colour_of = {g: (colours or {}).get(g, PALETTE[i % len(PALETTE)]) for i, g in enumerate(groups)}
    handles: dict[str, Any] = {}
    for ax, key in zip(axes.flat, panels):
        part = df[df[panel] == key]
        for name in groups:
            line = part[part[group] == name].sort_values(x)
            if line.empty:
                continue
            colour = colour_of[name]
            if low and high and line[low].notna().any():
                ax.fill_between(line[x], line[low], line[high], color=colour, alpha=0.15, linewidth=0)
            (handle,) = ax.plot(line[x], line[y], marker="o", ms=3, color=colour, lw=1.8 if name == groups[0] else 1.2,
                                ls="--" if name in dashed else "-", label=str(name))
            handles.setdefault(str(name), handle)
        # A fixed title height: placing it automatically measures every tick label of every panel at each draw.
        ax.set_title("\n".join(textwrap.wrap(str((panel_titles or {}).get(key, key)), 38)), fontsize=9, loc="left",
                     y=1.0, pad=4)
        ax.tick_params(labelsize=8)
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(nbins=4, integer=True))
        ax.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(nbins=4, steps=[1, 2, 2.5, 5, 10]))
        if x_labels:
            ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(
                lambda value, _pos: x_labels.get(int(round(value)), "") if float(value).is_integer() else ""))
    for ax in list(axes.flat)[len(panels):]:
        ax.axis("off")
    for i, ax in enumerate(axes.flat[:len(panels)]):  # a panel with no panel below it shows its own x labels
        if i + ncols >= len(panels):
            ax.xaxis.set_tick_params(labelbottom=True)
    spare = list(axes.flat)[len(panels):]
    legend_host = spare[0] if spare else axes.flat[0]  # an empty panel holds the legend, else the first panel
    legend_host.legend(list(handles.values()), ["\n".join(textwrap.wrap(k, 26)) for k in handles],
                       fontsize=8 if spare else 7, loc="center left" if spare else "best")
    if xlabel:
        for i, ax in enumerate(axes.flat[:len(panels)]):
            if i + ncols >= len(panels):
                ax.set_xlabel(xlabel, fontsize=8)
    _title(axes.flat[0], title, simulated, title_basis)
    height = fig.get_figheight()
    title_lines = len(textwrap.wrap(chart_meta(fig)["title"], int(fig.get_figwidth() * 9.5)))
    margins = {"left": 0.07, "right": 0.98, "top": 1 - (0.3 * title_lines + 0.5) / height, "hspace": 0.55,
               "wspace": 0.28}
    return _finish(fig, source, n, _columns(df, [panel, group, x, y, low, high]), margins=margins)
