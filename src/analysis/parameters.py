"""The base of every notebook's parameter model: typed, JSON-safe, validated before anything runs.

papermill only *warns* about an unknown parameter and then runs with defaults,
and it turns tuples, dates and objects into strings. So every notebook has a
parameter model (JSON-safe fields only) derived from :class:`NotebookParameters`:
unknown names, wrong types and out-of-range values are errors, numbers are finite,
``true``/``false`` is not a number, and ``*_path`` parameters name readable files
within the input limits.

This module sits below both the domain parameter modules (``analysis.<domain>.params``) and the
report machinery (``analysis.report.params``, which keeps the notebook registry and re-exports
these names): a domain's parameters never import ``analysis.report``, so there is no import circle.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator

from analysis import limits

PATH_SUFFIX = "_path"  # a text parameter whose name ends so names an input file, checked before the run


class NotebookParameters(BaseModel):
    """Base for every notebook's parameters: unknown names are errors; values are JSON-safe.

    Beyond each field's type and range: numbers must be finite (no NaN or infinity, also inside
    lists), ``true``/``false`` is not accepted as a number, and every ``*_path`` parameter must
    name a readable file within the input limits (``analysis.limits``).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _no_booleans_as_numbers(cls, values: Any) -> Any:
        if isinstance(values, Mapping):
            props = _schema_properties(cls)
            for name, value in values.items():
                if name in props and _bool_where_number(value, props[name]):
                    raise ValueError(f"{name}: true/false is not a number (got {_short(value)})")
        return values

    @model_validator(mode="after")
    def _input_files_exist(self) -> NotebookParameters:
        for name in path_fields(type(self)):
            value = getattr(self, name)
            if value:
                check_input_file(name, value)
        return self

    def as_papermill(self) -> dict[str, Any]:
        """Plain JSON-safe values for papermill to inject (no tuples, dates or objects)."""
        return self.model_dump(mode="json")

    @classmethod
    def allowed(cls) -> dict[str, str]:
        """Name -> 'type (constraints); default ...' for error messages and `analysis params`."""
        out = {}
        props = cls.model_json_schema().get("properties", {})
        for name, field in cls.model_fields.items():
            prop = props.get(name, {})
            branches = prop.get("anyOf", [prop])
            kinds, bounds = [], []
            for branch in branches:
                kinds.append(_describe_type(branch))
                bounds += _describe_bounds(branch)
            text = " or ".join(dict.fromkeys(kinds))
            if bounds:
                text += f" ({', '.join(bounds)})"
            text += "; required" if field.is_required() else f"; default {field.default!r}"
            out[name] = text + (f". {field.description}" if field.description else "")
        return out


@functools.lru_cache(maxsize=64)
def _schema_properties(model: type[BaseModel]) -> dict[str, Any]:
    return model.model_json_schema().get("properties", {})


def _bool_where_number(value: Any, prop: dict) -> bool:
    """True if ``value`` holds a bool where the schema ``prop`` expects a number (pydantic would take it)."""
    branches = prop.get("anyOf", [prop])
    if isinstance(value, bool):
        kinds = {b.get("type") for b in branches}
        return "boolean" not in kinds and bool(kinds & {"integer", "number"})
    if isinstance(value, list):
        items = [b.get("items", {}) for b in branches if b.get("type") == "array"]
        return any(_bool_where_number(v, item) for item in items for v in value)
    return False


def _cut(text: str, limit: int = 120) -> str:
    """``text`` cut to ``limit`` characters, so a huge rejected value is not echoed whole."""
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text):,} characters)"


def _short(value: Any, limit: int = 120) -> str:
    return _cut(repr(value), limit)


def path_fields(model: type[NotebookParameters]) -> list[str]:
    return [name for name in model.model_fields if name.endswith(PATH_SUFFIX)]


def check_input_file(name: str, value: str) -> None:
    """Raise ValueError unless ``value`` is a readable regular file within the input limits."""
    path = Path(value).expanduser()
    where = "" if path.is_absolute() else f" (relative paths are resolved against {Path.cwd()})"
    if not path.exists():
        raise ValueError(f"{name}: file not found: {value}{where}")
    if not path.is_file():
        raise ValueError(f"{name}: {value} is not a file{where}")
    if not os.access(path, os.R_OK):
        raise ValueError(f"{name}: {value} is not readable by this user")
    size = path.stat().st_size
    max_mb = limits.MAX_INPUT_MB.value()
    if size > max_mb * 1_000_000:
        raise ValueError(f"{name}: {value} is {size / 1e6:,.1f} MB, above the input limit of {max_mb} MB; "
                         + limits.MAX_INPUT_MB.how_to_raise())
    max_rows = limits.MAX_INPUT_ROWS.value()
    lines = 0
    try:
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                lines += block.count(b"\n")
                if lines > max_rows + 1:  # + the header line
                    raise ValueError(f"{name}: {value} has more than {max_rows:,} rows, the input limit; "
                                     + limits.MAX_INPUT_ROWS.how_to_raise())
    except OSError as exc:
        raise ValueError(f"{name}: {value} cannot be read: {exc.strerror}") from None


def _describe_type(prop: dict) -> str:
    if "enum" in prop:
        return "one of " + ", ".join(map(repr, prop["enum"]))
    kind = prop.get("type", "value")
    if kind == "null":
        return "None"
    if kind == "array":
        item = prop.get("items", {})
        size = ""
        if prop.get("minItems") == prop.get("maxItems") and "minItems" in prop:
            size = f"{prop['minItems']} "
        return f"list of {size}{_describe_type(item)}" + "".join(f" [{b}]" for b in _describe_bounds(item))
    return {"number": "number", "integer": "whole number", "string": "text", "boolean": "true/false"}.get(kind, kind)


def _describe_bounds(prop: dict) -> list[str]:
    out = []
    for key, sym in (("minimum", ">="), ("exclusiveMinimum", ">"), ("maximum", "<="), ("exclusiveMaximum", "<"),
                     ("pattern", "matching")):
        if key in prop:
            out.append(f"{sym} {prop[key]}")
    return out
