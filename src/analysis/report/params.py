"""Typed notebook parameters, validated before papermill runs and again inside the notebook.

papermill only *warns* about an unknown parameter and then runs with defaults,
and it turns tuples, dates and objects into strings. So every notebook has a
parameter model here (JSON-safe fields only); :func:`validate_parameters`
rejects unknown names, wrong types and out-of-range values with a message that
names the notebook, the parameter and what is allowed.
"""

from __future__ import annotations

import difflib
import importlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from analysis import config
from analysis.errors import ParameterError


class NotebookParameters(BaseModel):
    """Base for every notebook's parameters: unknown names are errors; values are JSON-safe."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)

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
            text += f"; default {field.default!r}"
            out[name] = text + (f". {field.description}" if field.description else "")
        return out


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


@dataclass(frozen=True)
class NotebookSpec:
    """A notebook the runner knows: its file, title and parameter model."""

    name: str
    title: str
    parameters: type[NotebookParameters]
    description: str
    source: Path | None = None  # only for test fixtures; real notebooks live in notebooks/

    @property
    def path(self) -> Path:
        return self.source or config.notebooks_dir() / f"{self.name}.ipynb"


def _registry() -> dict[str, NotebookSpec]:
    # Imported here so that importing analysis.report does not import every domain.
    from analysis.budgets.params import PersonalBudgetsParameters
    from analysis.costs.params import ProvisionCostsParameters
    from analysis.mutuals.params import MutualsParameters
    from analysis.vfm.params import VfmParameters

    specs = [
        NotebookSpec("mutuals_vs_inhouse", "Mutuals and social enterprises against in-house provision",
                     MutualsParameters,
                     "NHS Staff Survey, CQC ratings by ownership and council externalisation; "
                     "panel methods for a researcher's own spin-out data; verdicts on ministers' claims."),
        NotebookSpec("nao_vfm_risk", "NAO value-for-money risk: Right to Request social enterprises",
                     VfmParameters,
                     "Assessment against the NAO criteria, foregone-savings Monte Carlo, provider-failure "
                     "hazard from CQC closures, risk register and claim verdicts."),
        NotebookSpec("personal_budgets", "Personal budgets: pilot evidence, cost-effectiveness and council outcomes",
                     PersonalBudgetsParameters,
                     "Effect sizes and meta-analysis of the pilots, cost-effectiveness, ASCOF council panel, "
                     "single-council profiles and claim verdicts."),
        NotebookSpec("provision_costs", "In-house against external provision: council unit costs, quality beside "
                     "them, and NHS-funded CICs", ProvisionCostsParameters,
                     "Council unit costs 2008-09 to 2014-15 (England, across and within councils), CQC ratings by "
                     "ownership, councils that closed their care homes (staggered adoption), NHS payments to CICs, "
                     "and verdicts on the productivity and value claims."),
    ]
    for module_name in filter(None, os.environ.get("ANALYSIS_EXTRA_NOTEBOOKS", "").split(",")):
        try:
            module = importlib.import_module(module_name.strip())
        except ImportError as exc:
            raise ParameterError(f"ANALYSIS_EXTRA_NOTEBOOKS names {module_name!r}, which cannot be imported: {exc}") from None
        specs.extend(getattr(module, "NOTEBOOKS", []))
    return {s.name: s for s in specs}


def notebooks() -> dict[str, NotebookSpec]:
    return _registry()


def get_spec(name: str) -> NotebookSpec:
    specs = notebooks()
    if name.endswith(".ipynb"):
        name = Path(name).stem
    if name not in specs:
        hint = difflib.get_close_matches(name, specs, n=1)
        raise ParameterError(f"Unknown notebook {name!r}." + (f" Did you mean {hint[0]!r}?" if hint else "")
                             + f" Notebooks: {', '.join(sorted(specs))}")
    return specs[name]


def _format_error(notebook: str, model: type[NotebookParameters], exc: ValidationError,
                  values: Mapping[str, Any]) -> str:
    allowed = model.allowed()
    lines = [f"Notebook {notebook!r}: invalid parameters:"]
    for err in exc.errors():
        loc = err.get("loc", ())
        name = str(loc[0]) if loc else "?"
        if err["type"] == "extra_forbidden":
            hint = difflib.get_close_matches(name, list(allowed), n=1)
            lines.append(f"  - unknown parameter {name!r}" + (f" (did you mean {hint[0]!r}?)" if hint else "")
                         + f". Allowed: {', '.join(allowed)}")
        else:
            where = ".".join(str(p) for p in loc)
            given = values.get(name, "<missing>")
            lines.append(f"  - parameter {where!r} = {given!r}: {err['msg']}. Allowed: "
                         f"{allowed.get(name, 'see analysis params ' + notebook)}")
    return "\n".join(lines)


def validate_parameters(notebook: str, values: Mapping[str, Any]) -> NotebookParameters:
    """Validate ``values`` for ``notebook``; raise ParameterError naming what is wrong."""
    spec = get_spec(notebook)
    try:
        return spec.parameters(**dict(values))
    except ValidationError as exc:
        raise ParameterError(_format_error(spec.name, spec.parameters, exc, values)) from None


def parse_cli_pairs(pairs: list[str]) -> dict[str, Any]:
    """Parse ``-p name=value`` pairs; values are YAML scalars/lists (``3``, ``0.5``, ``[a, b]``)."""
    out: dict[str, Any] = {}
    for pair in pairs:
        if "=" not in pair:
            raise ParameterError(f"Parameter {pair!r} must look like name=value")
        name, raw = pair.split("=", 1)
        name = name.strip()
        if not name.isidentifier():
            raise ParameterError(f"Parameter name {name!r} is not a valid name")
        try:
            out[name] = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError as exc:
            raise ParameterError(f"Parameter {name!r}: cannot read value {raw!r}: {exc}") from None
    return out


def read_params_file(path: Path) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise ParameterError(f"Parameters file not found: {path}")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ParameterError(f"Parameters file {path} is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ParameterError(f"Parameters file {path} must hold a mapping of name: value")
    return data


def parameters_from_namespace(notebook: str, namespace: Mapping[str, Any]) -> NotebookParameters:
    """Re-validate inside a notebook: take the model's fields from the notebook's globals."""
    spec = get_spec(notebook)
    values = {name: namespace[name] for name in spec.parameters.model_fields if name in namespace}
    return validate_parameters(notebook, values)
