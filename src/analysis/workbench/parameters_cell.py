"""Each report's parameters cell, written from its typed parameter model.

The cell tagged ``parameters`` holds one line per field of the report's
:class:`~analysis.report.params.NotebookParameters` model, in the model's order::

    scenario: str = "match"  # Scenario for the headline, tornado and fan chart (...). One of 'match', ...
    annual_contract_value_gbp_m: Optional[float] = None  # Annual value of ... None: NAO-006 (£900m a year)

The annotations are plain Python types (``int``, ``float``, ``str``, ``bool``, ``list[str]``,
``Optional[...]``), because papermill reads them (``papermill --help-notebook`` prints each
parameter's type, default and the comment as its help) and does not read ``X | None`` or
``Literal[...]``; the comment says what the values mean and, for a choice, the choices. The model
stays the authority: it checks every value before anything runs.

``python -m analysis.workbench param-cells`` (``make param-cells``) rewrites the cells; only the
source of the parameters cell changes (its id, tags and every other cell are left alone). A test
and ``make lint`` check that the committed cells are what the models give.
"""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path
from typing import Any

import nbformat

from analysis.report.params import NotebookParameters, NotebookSpec, notebooks

HELP_LIMIT = 150  # characters of a description kept (cut at a word) before its "None: ..." part


def report_specs() -> list[NotebookSpec]:
    """The registered report notebooks that live in this checkout (test fixtures have their own source)."""
    return [spec for spec in notebooks().values() if spec.source is None and spec.path.is_file()]


def python_type(prop: dict[str, Any]) -> str:
    """A JSON-schema property as a plain Python annotation papermill can read."""
    branches = prop.get("anyOf")
    if branches:
        kept = [b for b in branches if b.get("type") != "null"]
        inner = " | ".join(python_type(b) for b in kept) if len(kept) > 1 else python_type(kept[0])
        return f"Optional[{inner}]" if len(kept) < len(branches) else inner
    if "enum" in prop:
        kinds = {type(v).__name__ for v in prop["enum"]}
        return kinds.pop() if len(kinds) == 1 else "str"
    kind = prop.get("type")
    if kind == "array":
        return f"list[{python_type(prop.get('items', {}))}]"
    return {"integer": "int", "number": "float", "string": "str", "boolean": "bool", "object": "dict"}.get(kind, "str")


def literal(value: Any) -> str:
    """A JSON-safe default as Python source: strings in double quotes, lists inline."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    return repr(value)


def _choices(prop: dict[str, Any]) -> list[Any]:
    for branch in prop.get("anyOf", [prop]):
        if "enum" in branch:
            return list(branch["enum"])
        if "enum" in branch.get("items", {}):
            return list(branch["items"]["enum"])
    return []


def first_sentence(text: str) -> str:
    """Up to the first full stop outside brackets (so "(e.g. E08000016)" does not end a sentence)."""
    depth = 0
    for i, ch in enumerate(text):
        depth += ch in "(["
        depth -= ch in ")]"
        if ch == "." and depth == 0 and (i + 1 == len(text) or text[i + 1] == " ") \
                and not text[max(0, i - 3):i + 1].lower().endswith(("e.g.", "i.e.")):
            return text[:i]
    return text


def _clause_end(text: str, shortest: int = 40) -> int | None:
    """Where the first clause (up to ': ' or '; ' outside brackets) ends, if it is long enough to stand alone."""
    depth = 0
    for i, ch in enumerate(text[:HELP_LIMIT]):
        depth += ch in "(["
        depth -= ch in ")]"
        if depth == 0 and ch in ":;" and text[i + 1:i + 2] == " " and i >= shortest:
            return i
    return None


def short_help(description: str, prop: dict[str, Any], allowed: str) -> str:
    """The field's description: its first sentence (shortened at a word if long), its "None: ..." default
    and, for a choice among a few, the choices; a field without a description gets its type and range."""
    text = " ".join((description or "").split())
    first = first_sentence(text)
    if len(first) > HELP_LIMIT:
        clause = _clause_end(first)
        first = first[:clause] if clause else textwrap.shorten(first, HELP_LIMIT, placeholder=" (...)")
    parts = [first] if first else []
    if "None: " in text and "None: " not in first:
        parts.append("None: " + first_sentence(text.split("None: ", 1)[1]))
    choices = _choices(prop)
    if 1 < len(choices) <= 6:
        parts.append("One of " + ", ".join(repr(c) for c in choices))
    if not parts:
        parts.append(allowed.split("; default")[0])
    return papermill_safe(". ".join(parts))


def papermill_safe(text: str) -> str:
    """Help without '=' (papermill skips a parameter whose line holds a second '=', comment included)."""
    for sign, words in ((">=", "at least"), ("<=", "at most"), (">", "above"), ("<", "below")):
        text = text.replace(f"{sign} ", f"{words} ")
    return re.sub(r"\s*=\s*", ": ", text)


def cell_source(spec: NotebookSpec) -> str:
    """The parameters cell of ``spec``'s notebook, from its parameter model."""
    model: type[NotebookParameters] = spec.parameters
    props = model.model_json_schema().get("properties", {})
    allowed = model.allowed()
    lines = [f"# Parameters, checked against {model.__name__} before anything runs.",
             f"# `python -m analysis params {spec.name}` gives every range; None = the default in the comment.",
             "# Rates, shares and levels are fractions (0.04 = 4%). "
             "`make param-cells` rewrites this cell from the model."]
    annotations = {name: cell_annotation(model, name, props) for name in model.model_fields}
    if any("Optional[" in a for a in annotations.values()):
        lines.append("from typing import Optional")
    lines.append("")
    for name, field in model.model_fields.items():
        help_text = short_help(field.description or "", props[name], allowed[name])
        if field.is_required():
            # No default to show: None in the notebook, and the model refuses None with a message that says
            # what to pass (papermill or `python -m analysis run NAME -p name=...` supplies the value).
            lines.append(f"{name}: {annotations[name]} = None  # required: {help_text}")
        else:
            lines.append(f"{name}: {annotations[name]} = {literal(field.default)}  # {help_text}")
    return "\n".join(lines)


def cell_annotation(model: type[NotebookParameters], name: str, props: dict | None = None) -> str:
    """The type a parameters cell declares for ``name``: the model's type, Optional when the parameter is
    required (the cell holds None until a value is passed)."""
    props = props if props is not None else model.model_json_schema().get("properties", {})
    annotation = python_type(props[name])
    if model.model_fields[name].is_required() and not annotation.startswith("Optional["):
        annotation = f"Optional[{annotation}]"
    return annotation


def parameters_cell(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    cells = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    if len(cells) != 1:
        raise ValueError(f"expected one cell tagged 'parameters', found {len(cells)}")
    return cells[0]


def stale(spec: NotebookSpec) -> bool:
    nb = nbformat.read(spec.path, as_version=4)
    return parameters_cell(nb).source != cell_source(spec)


def write(spec: NotebookSpec) -> bool:
    """Rewrite the parameters cell of ``spec``'s notebook; True if it changed."""
    path = Path(spec.path)
    nb = nbformat.read(path, as_version=4)
    cell = parameters_cell(nb)
    source = cell_source(spec)
    if cell.source == source:
        return False
    cell.source = source
    nbformat.write(nb, path)
    return True


def problems() -> list[str]:
    return [f"{spec.path.name}: the parameters cell differs from {spec.parameters.__name__} "
            "(run `make param-cells`)" for spec in report_specs() if stale(spec)]
