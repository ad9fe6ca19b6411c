"""Widgets built from a notebook's parameter model, so a control can only offer what the model allows.

:func:`control` reads one field of a :class:`~analysis.report.params.NotebookParameters` model
(its JSON schema: type, bounds, choices, whether ``None`` is allowed, description) and returns a
widget whose ``value`` is what the model takes:

- a choice (``Literal``) becomes a drop-down; a list of choices a multiple selection;
- a number with both bounds a slider within them (an explorer may narrow the slider to a
  practical span, never widen it: :func:`control` raises if asked to); a number with an open
  bound a text box, checked by the model when it changes;
- a pair ``[low, high]`` a range slider;
- a field that may be ``None`` (meaning "the cited default") an :class:`OptionalControl`: a tick
  box "cited default" beside the control, which is greyed out while the box is ticked.

Every control carries the field's description as its tooltip, updates when released (not while
dragged), and has the CSS class ``explore-control-<name>`` (the browser test finds it by that).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import ipywidgets as widgets
import traitlets

from analysis.report.params import NotebookParameters

DESCRIPTION_STYLE = {"description_width": "15em"}
WIDE = widgets.Layout(width="98%")


def field_schema(model: type[NotebookParameters], name: str) -> dict[str, Any]:
    """The JSON schema of one field, with its ``None`` branch split off (``nullable``)."""
    props = model.model_json_schema().get("properties", {})
    if name not in props:
        raise KeyError(f"{model.__name__} has no field {name!r}")
    prop = dict(props[name])
    branches = prop.get("anyOf")
    nullable = False
    if branches:
        kept = [b for b in branches if b.get("type") != "null"]
        nullable = len(kept) < len(branches)
        if len(kept) != 1:
            raise TypeError(f"{model.__name__}.{name}: cannot build a control for a union of {kept}")
        prop = {**{k: v for k, v in prop.items() if k != "anyOf"}, **kept[0]}
    prop["nullable"] = nullable
    return prop


def bounds(prop: dict[str, Any], step: float) -> tuple[float | None, float | None]:
    """The closed range a slider may take inside the schema's bounds (exclusive bounds moved in by a step)."""
    low = prop.get("minimum")
    if low is None and "exclusiveMinimum" in prop:
        low = prop["exclusiveMinimum"] + step
    high = prop.get("maximum")
    if high is None and "exclusiveMaximum" in prop:
        high = prop["exclusiveMaximum"] - step
    return low, high


def label_for(name: str) -> str:
    """'annual_contract_value_gbp_m' -> 'Annual contract value (£m)'."""
    text = name.replace("_gbp_m", " (£m)").replace("_", " ")
    return text[:1].upper() + text[1:]


class OptionalControl(widgets.HBox):
    """A control for a parameter that may be ``None`` ("use the cited default").

    ``value`` is ``None`` while "cited default" is ticked, otherwise the inner control's value.
    Setting ``value`` (as a test does) ticks or unticks the box and moves the inner control.
    """

    value = traitlets.Any(allow_none=True)

    def __init__(self, inner: widgets.Widget, *, default_label: str = "cited default", default_help: str = "",
                 use_default: bool = True, **kwargs: Any):
        self.inner = inner
        self.use_default = widgets.Checkbox(value=use_default, description=default_label, indent=False,
                                            tooltip=default_help or "Use the default taken from a cited source",
                                            layout=widgets.Layout(width="10em", flex="0 0 auto"))
        inner.layout.flex = "1 1 auto"
        self._syncing = False
        super().__init__([inner, self.use_default], layout=widgets.Layout(width="98%"), **kwargs)
        self.inner.disabled = use_default
        self.value = None if use_default else model_value(inner.value)
        self.inner.observe(self._from_parts, names="value")
        self.use_default.observe(self._from_parts, names="value")
        self.observe(self._to_parts, names="value")

    def _from_parts(self, _change: Any = None) -> None:
        if self._syncing:
            return
        self._syncing = True
        try:
            self.inner.disabled = self.use_default.value
            self.value = None if self.use_default.value else model_value(self.inner.value)
        finally:
            self._syncing = False

    def _to_parts(self, change: dict) -> None:
        if self._syncing:
            return
        self._syncing = True
        try:
            new = change["new"]
            if new is not None:
                self.inner.value = tuple(new) if isinstance(new, list) else new
            self.use_default.value = new is None
            self.inner.disabled = new is None
        finally:
            self._syncing = False


def model_value(value: Any) -> Any:
    """A widget's value as the model takes it: tuples (range sliders, multiple selections) become lists."""
    return list(value) if isinstance(value, tuple) else value


def control(model: type[NotebookParameters], name: str, *, value: Any = ..., minimum: float | None = None,
            maximum: float | None = None, step: float | None = None, options: Sequence[Any] | None = None,
            labels: dict[Any, str] | None = None, percent: bool = False, label: str | None = None,
            inner_value: Any = None, default_help: str = "", single: bool = False) -> widgets.Widget:
    """A widget for field ``name`` of ``model`` (see the module docstring).

    ``value`` is the starting value (default: the model's default); ``minimum``/``maximum`` narrow
    a slider inside the model's bounds; ``options`` narrow a choice (each must be allowed);
    ``labels`` name the choices; ``percent`` shows a fraction as a percentage; ``inner_value`` is
    where the inner control of an optional field starts (e.g. the cited default's value); ``single``
    offers one choice of a list-of-choices field (a drop-down; the explorer passes ``[value]``).
    """
    prop = field_schema(model, name)
    field = model.model_fields[name]
    default = field.default if value is ... else value
    description = label or label_for(name)
    tooltip = field.description or ""
    common = {"description": description, "tooltip": tooltip, "style": DESCRIPTION_STYLE, "layout": WIDE}

    start = default if default is not None else inner_value
    if single:
        if prop.get("type") != "array" or "enum" not in prop.get("items", {}):
            raise TypeError(f"{model.__name__}.{name}: single= needs a list of choices")
        prop = {**prop["items"], "nullable": prop["nullable"]}
    widget = _base_control(model, name, prop, start, minimum, maximum, step, options, labels, percent, common)
    if prop["nullable"]:
        widget.layout = widgets.Layout(width="auto")
        widget = OptionalControl(widget, use_default=default is None, default_help=default_help or tooltip)
    widget.add_class("explore-control")
    widget.add_class(f"explore-control-{name.replace('_', '-')}")
    return widget


def _choices(options: Sequence[Any], labels: dict[Any, str] | None) -> list[tuple[str, Any]]:
    return [((labels or {}).get(o, str(o)), o) for o in options]


def _base_control(model, name, prop, start, minimum, maximum, step, options, labels, percent, common):
    kind = prop.get("type")
    if "enum" in prop:
        allowed = list(prop["enum"])
        chosen = list(options) if options is not None else allowed
        _check_subset(model, name, chosen, allowed)
        return widgets.Dropdown(options=_choices(chosen, labels), value=start, **common)
    if kind == "boolean":
        return widgets.Checkbox(value=bool(start), indent=False, **{k: v for k, v in common.items() if k != "style"})
    if kind in ("integer", "number"):
        integer = kind == "integer"
        step = step or (1 if integer else 0.01)
        low, high = _narrow(model, name, prop, step, minimum, maximum)
        if options is not None:
            _check_range(model, name, min(options), max(options), *bounds(prop, step))
            return widgets.Dropdown(options=_choices(options, labels), value=start, **common)
        if low is None or high is None:
            box = widgets.IntText if integer else widgets.FloatText
            return box(value=start, continuous_update=False, **common)
        slider = widgets.IntSlider if integer else widgets.FloatSlider
        extra = {} if integer else {"readout_format": _readout(step, percent)}
        return slider(value=_clip(start, low, high), min=low, max=high, step=step, continuous_update=False,
                      **extra, **common)
    if kind == "array":
        item = prop.get("items", {})
        if "enum" in item:
            allowed = list(item["enum"])
            chosen = list(options) if options is not None else allowed
            _check_subset(model, name, chosen, allowed)
            return widgets.SelectMultiple(options=_choices(chosen, labels), value=tuple(start or ()),
                                          rows=min(8, len(chosen)), **common)
        if prop.get("minItems") == prop.get("maxItems") == 2 and item.get("type") in ("integer", "number"):
            integer = item["type"] == "integer"
            step = step or (1 if integer else 0.01)
            low, high = _narrow(model, name, item, step, minimum, maximum)
            if low is None or high is None:
                raise TypeError(f"{model.__name__}.{name}: a range control needs bounds; pass minimum= and maximum=")
            slider = widgets.IntRangeSlider if integer else widgets.FloatRangeSlider
            extra = {} if integer else {"readout_format": _readout(step, percent)}
            pair = tuple(_clip(v, low, high) for v in (start or (low, high)))
            return slider(value=pair, min=low, max=high, step=step, continuous_update=False, **extra, **common)
    if kind == "string":
        if options is not None:
            return widgets.Dropdown(options=_choices(options, labels), value=start, **common)
        return widgets.Text(value=start or "", continuous_update=False, **common)
    raise TypeError(f"{model.__name__}.{name}: no control for schema {prop}")


def _readout(step: float, percent: bool) -> str:
    places = max(0, -int(math.floor(math.log10(step)))) if step < 1 else 0
    return f".{max(places - 2, 0)}%" if percent else f".{places}f"


def _clip(value: Any, low: float, high: float) -> Any:
    return value if value is None else min(max(value, low), high)


def _narrow(model, name, prop, step, minimum, maximum) -> tuple[float | None, float | None]:
    """The slider's span: the model's bounds, narrowed by the explorer where it asks (never widened)."""
    low, high = bounds(prop, step)
    _check_range(model, name, minimum, maximum, low, high)
    return (minimum if minimum is not None else low), (maximum if maximum is not None else high)


def _check_range(model, name, minimum, maximum, low, high) -> None:
    if minimum is not None and low is not None and minimum < low:
        raise ValueError(f"{model.__name__}.{name}: control minimum {minimum} is below the model's {low}")
    if maximum is not None and high is not None and maximum > high:
        raise ValueError(f"{model.__name__}.{name}: control maximum {maximum} is above the model's {high}")


def _check_subset(model, name, chosen, allowed) -> None:
    extra = [c for c in chosen if c not in allowed]
    if extra:
        raise ValueError(f"{model.__name__}.{name}: options {extra} are not allowed by the model ({allowed})")
