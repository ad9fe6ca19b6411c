"""One rounding rule for every number a reader sees.

Precision follows the data (ONS and Nuffield Trust practice): a number with an
interval is shown to the decimal place of the **second significant figure of its
interval's half-width** (a difference of 3.27 with interval 1.1 to 5.4 becomes
3.3, interval 1.1 to 5.4; a total of £2,437m with interval £1,210m to £3,905m
becomes £2,400m, £1,200m to £3,900m). A number without an interval keeps
**three significant figures** but never rounds away whole units (6,272 stays
6,272; 0.03214 becomes 0.0321), and a count is a whole number. Trailing zeros after the decimal point are never shown
for numbers without an interval; with an interval, estimate and bounds share
the same decimal places so they line up.

Two kinds of number have a rule of their own:

* **p-values** (:func:`fmt_p`) show two significant figures with no trailing zeros
  (0.0047, 0.021, 0.2), and "< 0.001" below 0.001: a p-value is a statement of how
  surprising the data would be, and more digits than that only suggest precision it
  does not have (ASA statement on p-values, 2016; BMJ and NEJM house style);
* **signed differences**: a "+" on a positive value in a column of differences is
  information, not precision ("+2.3 pp" says the direction), so tables name such
  columns (``signed_columns``) and the rule is otherwise the same.

:func:`decimals` is the rule; :func:`fmt`, :func:`fmt_interval` and :func:`fmt_p` apply it
with the unit. Tables use :func:`round_frame`; a domain module that builds a table for a
report says how to round it with :func:`table_format` (which columns are intervals,
counts, signed differences and p-values), and ``report.show`` applies it. The reviewer's
test checks rendered reports against the same rule and the same table formats.
"""

from __future__ import annotations

import decimal
import math

import pandas as pd

SIGNIFICANT_WITH_INTERVAL = 2
SIGNIFICANT_WITHOUT_INTERVAL = 3
P_SIGNIFICANT = 2
P_FLOOR = 0.001  # p-values below this are shown as "< 0.001"
FORMAT_ATTR = "display_format"  # the DataFrame.attrs key where table_format records a table's format


def _leading_exponent(x: float) -> int:
    return math.floor(math.log10(abs(x)))


def decimals(value: float | None, low: float | None = None, high: float | None = None, *,
             count: bool = False) -> int:
    """Decimal places to show (may be negative: -2 rounds to hundreds).

    With an interval: the place of the second significant figure of the half-width.
    Without: three significant figures of the value. Counts: 0 (or fewer for big counts
    only when an interval says so).
    """
    if low is not None and high is not None and all(_finite(v) for v in (low, high)):
        half = abs(float(high) - float(low)) / 2
        if half > 0:
            return SIGNIFICANT_WITH_INTERVAL - 1 - _leading_exponent(half)
    if count:
        return 0
    if value is None or not _finite(value) or value == 0:
        return 0
    d = max(0, SIGNIFICANT_WITHOUT_INTERVAL - 1 - _leading_exponent(value))
    return min(d, _own_decimals(value))


def is_number(v) -> bool:
    """True for a finite real number (not None, NaN, infinity or text)."""
    return _finite(v)


def _finite(v) -> bool:
    try:
        return v is not None and math.isfinite(float(v))
    except (TypeError, ValueError):
        return False


def _own_decimals(value: float) -> int:
    """Decimals the value itself needs (12.5 needs 1; 86.0 needs 0; 1e-08 needs 8), from its shortest
    exact representation, so that a small number is never shown as 0."""
    exponent = decimal.Decimal(repr(abs(float(value)))).normalize().as_tuple().exponent
    return max(0, -int(exponent))


def round_to(value: float, places: int) -> float:
    """Round half away from zero to ``places`` decimals (negative places round to tens, hundreds...)."""
    if not _finite(value):
        return value
    factor = 10.0 ** places
    return math.copysign(math.floor(abs(float(value)) * factor + 0.5) / factor, float(value))


def _plain(value: float, places: int, signed: bool = False) -> str:
    shown = round_to(value, places)
    if shown == 0:
        shown = 0.0  # no "-0"
    text = f"{shown:,.{max(places, 0)}f}"
    if signed and shown > 0:
        text = "+" + text
    return text


def fmt(value: float | None, unit: str = "", *, low: float | None = None, high: float | None = None,
        places: int | None = None, count: bool = False, signed: bool | None = None) -> str:
    """A number with its unit, rounded by the rule (``places`` forces the decimals, e.g. to match an interval).

    ``signed`` puts a "+" on a positive value (a difference); by default only percentage points are signed.
    """
    if not _finite(value):
        return "no data"
    strip = places is None and not (_finite(low) and _finite(high))
    if places is None:
        places = decimals(value, low, high, count=count)
    signed = unit == "pp" if signed is None else signed
    number = _plain(value, places, signed=signed)
    if strip and "." in number:
        number = number.rstrip("0").rstrip(".")
    if unit == "%":
        return f"{number}%"
    if unit == "pp":
        return f"{number} pp"
    if unit in ("£m", "£bn", "£k"):
        sign = "-" if number.startswith("-") else ""
        return f"{sign}£{number.lstrip('-+')}{unit[1:]}"
    if unit == "£":
        sign = "-" if number.startswith("-") else ""
        return f"{sign}£{number.lstrip('-+')}"
    return f"{number}{(' ' + unit) if unit else ''}"


def fmt_interval(value: float | None, low: float | None, high: float | None, unit: str = "", *,
                 level: float | None = None, word: str = "interval", signed: bool | None = None) -> str:
    """'3.3 pp (95% interval -1.1 to +7.7 pp)': estimate and bounds to the same decimal places."""
    if not _finite(value):
        return "no data"
    if not (_finite(low) and _finite(high)):
        return fmt(value, unit, signed=signed)
    places = decimals(value, low, high)
    lvl = f"{level:.0%} " if level else ""
    return (f"{fmt(value, unit, places=places, signed=signed)} ({lvl}{word} "
            f"{fmt(low, unit, places=places, signed=signed)} to {fmt(high, unit, places=places, signed=signed)})")


def fmt_p(p: float | None) -> str:
    """A p-value by its rule: two significant figures, no trailing zeros, "< 0.001" below 0.001.

    0.09412 -> "0.094", 0.2 -> "0.2", 0.0047 -> "0.0047", 0.00003 -> "< 0.001", 0.9996 -> "1";
    missing -> "no data". A value outside 0-1 is an error, not a p-value.
    """
    if not _finite(p):
        return "no data"
    p = float(p)
    if not 0 <= p <= 1:
        raise ValueError(f"{p} is not a p-value (0 to 1)")
    if p < P_FLOOR:
        return f"< {P_FLOOR:g}"
    places = P_SIGNIFICANT - 1 - _leading_exponent(p)
    text = _plain(p, places)
    return text.rstrip("0").rstrip(".") if "." in text else text


def _is_real(v) -> bool:
    """A float-like cell the rule should round (not a bool, not an integer, not text)."""
    import numbers

    return isinstance(v, numbers.Real) and not isinstance(v, (bool, numbers.Integral))


def _year_like(name, values: pd.Series) -> bool:
    finite = values.dropna()
    return "year" in str(name).lower() and len(finite) > 0 and bool(
        ((finite % 1 == 0) & (finite >= 1800) & (finite <= 2200)).all())


def format_cell(value, *, signed: bool = False) -> object:
    """One table cell by the rule: real numbers rounded (three significant figures), missing said,
    anything else (integers, text, booleans) unchanged."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "no data"
    if _is_real(value):
        return fmt(value, signed=signed)
    return value


def table_format(df: pd.DataFrame, *, intervals: dict[str, tuple[str, str]] | None = None,
                 counts: tuple[str, ...] | list[str] = (), signed: tuple[str, ...] | list[str] = (),
                 p_values: tuple[str, ...] | list[str] = (), aligned: dict[str, str] | None = None) -> pd.DataFrame:
    """Record on ``df`` how a report shows it, and return it: ``report.show`` rounds it so.

    A domain module builds a table of numbers (never pre-formatted strings) and says here which
    columns are an estimate with its interval (``intervals={est: (low, high)}``), counts, signed
    differences (a "+" on positive values; an interval's bounds follow its estimate), p-values, and
    columns ``aligned`` to an estimate's interval (``{column: estimate}``: the median and the
    deterministic case of the same simulated total are rounded to the total's interval).
    The names are the table's own column names. Raises ValueError for a column the table lacks.
    """
    named = [c for est, pair in (intervals or {}).items() for c in (est, *pair)]
    named += [*counts, *signed, *p_values, *(aligned or {}), *(aligned or {}).values()]
    missing = [c for c in named if c not in df.columns]
    if missing:
        raise ValueError(f"table_format names columns the table does not have: {missing}")
    unpaired = [e for e in (aligned or {}).values() if e not in (intervals or {})]
    if unpaired:
        raise ValueError(f"table_format: aligned columns must follow an estimate with an interval, not {unpaired}")
    df.attrs[FORMAT_ATTR] = {"intervals": {k: tuple(v) for k, v in (intervals or {}).items()},
                             "counts": tuple(counts), "signed": tuple(signed), "p_values": tuple(p_values),
                             "aligned": dict(aligned or {})}
    return df


def format_of(df: pd.DataFrame) -> dict:
    """The format :func:`table_format` recorded on ``df`` (empty if none)."""
    return dict(df.attrs.get(FORMAT_ATTR) or {})


def round_frame(df: pd.DataFrame, *, interval_columns: dict[str, tuple[str, str]] | None = None,
                count_columns: tuple[str, ...] = (), signed_columns: tuple[str, ...] = (),
                p_columns: tuple[str, ...] = (), aligned_columns: dict[str, str] | None = None) -> pd.DataFrame:
    """Round a table for display by the rule.

    ``interval_columns`` maps an estimate column to its (low, high) columns: the three are rounded
    row by row to the interval's precision. ``count_columns`` become whole numbers.
    ``signed_columns`` show a "+" on positive values (differences; when an estimate is signed its
    interval's bounds are too). ``p_columns`` follow the p-value rule (:func:`fmt_p`).
    ``aligned_columns`` maps a column to an estimate in ``interval_columns``: it is rounded to that
    estimate's interval, row by row (a median beside its mean and range). Other float
    columns keep three significant figures per value (a float column holding only whole numbers is
    shown as whole numbers; years without a thousands separator); real numbers in mixed (object)
    columns are rounded the same way; integers are never rounded (shown with a thousands separator,
    except years).
    Returns display strings; the unrounded table is what goes into the downloadable CSV.
    """
    out = df.copy()
    interval_columns = interval_columns or {}
    aligned_columns = aligned_columns or {}
    signed = set(signed_columns)
    for est, (lo, hi) in interval_columns.items():
        if est in signed:
            signed.update((lo, hi))
    done: set[str] = set()
    for col in p_columns:
        out[col] = [v if isinstance(v, str) else fmt_p(v) for v in df[col]]
        done.add(col)
    for est, (lo, hi) in interval_columns.items():
        places = [decimals(v, a, b) for v, a, b in zip(df[est], df[lo], df[hi])]
        companions = [c for c, e in aligned_columns.items() if e == est]
        for col in (est, lo, hi, *companions):
            out[col] = [v if isinstance(v, str) else fmt(v, places=p, signed=col in signed)
                        for v, p in zip(df[col], places)]
            done.add(col)
    for col in df.columns:
        if col in done:
            continue
        values = df[col]
        if col in count_columns:
            out[col] = [fmt(v, count=True, signed=col in signed) for v in values]
        elif pd.api.types.is_float_dtype(values):
            if _year_like(col, values):
                out[col] = ["no data" if pd.isna(v) else str(int(v)) for v in values]
            else:
                out[col] = [fmt(v, signed=col in signed) for v in values]
        elif pd.api.types.is_integer_dtype(values) and not pd.api.types.is_bool_dtype(values):
            if not _year_like(col, values.astype(float)):
                out[col] = ["no data" if pd.isna(v) else (("+" if col in signed and v > 0 else "") + f"{int(v):,}")
                            for v in values]
        elif pd.api.types.is_object_dtype(values):
            out[col] = [format_cell(v, signed=col in signed) for v in values]
    return out
