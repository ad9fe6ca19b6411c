"""Typed notebook parameters, validated before papermill runs and again inside the notebook.

papermill only *warns* about an unknown parameter and then runs with defaults,
and it turns tuples, dates and objects into strings. So every notebook has a
parameter model here (JSON-safe fields only); :func:`validate_parameters`
rejects unknown names, wrong types and out-of-range values with a message that
names the notebook, the parameter and what is allowed.
"""

from __future__ import annotations

import difflib
import functools
import importlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from analysis import config, limits
from analysis.errors import ParameterError

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


def resolve_relative_paths(notebook: str, values: Mapping[str, Any], base: Path | None = None) -> dict[str, Any]:
    """Make relative ``*_path`` values absolute against ``base`` (the directory the command was run
    from), so they do not silently resolve against the kernel's working folder (notebooks/)."""
    spec = get_spec(notebook)
    base = Path(base) if base else Path.cwd()
    out = dict(values)
    for name in path_fields(spec.parameters):
        value = out.get(name)
        if isinstance(value, str) and value and not Path(value).expanduser().is_absolute():
            out[name] = str((base / Path(value).expanduser()).resolve())
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
    needs_data: bool = True  # the runner fetches and verifies the data before rendering

    @property
    def path(self) -> Path:
        return self.source or config.notebooks_dir() / f"{self.name}.ipynb"

    @property
    def runs_with_defaults(self) -> bool:
        """False when a parameter has no default (a council profile needs its council): such a notebook
        is left out of a run of every notebook and runs only when named with its parameters."""
        return not required_fields(self.parameters)


def required_fields(model: type[NotebookParameters]) -> list[str]:
    """Parameters that have no default and must be given."""
    return [name for name, field in model.model_fields.items() if field.is_required()]


def field_defaults(model: type[NotebookParameters]) -> dict[str, Any]:
    """Each parameter's default as papermill would inject it (required parameters have none)."""
    return {name: field.default for name, field in model.model_fields.items() if not field.is_required()}


def _registry() -> dict[str, NotebookSpec]:
    # Imported here so that importing analysis.report does not import every domain.
    from analysis.budgets.params import CouncilProfileParameters, PersonalBudgetsParameters
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
                     "Effect sizes and meta-analysis of the pilots, cost-effectiveness, the ASCOF council panel "
                     "and claim verdicts (England)."),
        NotebookSpec("council_profile", "Council profile: adult social care outcomes against England and peers",
                     CouncilProfileParameters,
                     "One council's ASCOF measures year by year against England and councils of the same type, "
                     "with its ranks; the unit of the council batch (needs council_code)."),
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


def default_notebooks() -> dict[str, NotebookSpec]:
    """The notebooks a run of every notebook renders: those that run with their defaults."""
    return {name: spec for name, spec in notebooks().items() if spec.runs_with_defaults}


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
            if not loc:  # a check across fields or on a file: the message names the parameter
                lines.append(f"  - {_cut(err['msg'].removeprefix('Value error, '), 600)}")
                continue
            lines.append(f"  - parameter {where!r} = {_short(given)}: {err['msg']}. Allowed: "
                         f"{allowed.get(name, 'see analysis params ' + notebook)}")
    return "\n".join(lines)


def validate_parameters(notebook: str, values: Mapping[str, Any]) -> NotebookParameters:
    """Validate ``values`` for ``notebook``; raise ParameterError naming what is wrong."""
    spec = get_spec(notebook)
    try:
        return spec.parameters(**dict(values))
    except ValidationError as exc:
        raise ParameterError(_format_error(spec.name, spec.parameters, exc, values)) from None


class _StrictLoader(yaml.SafeLoader):
    """YAML for parameters: no anchors or aliases (a few bytes of aliases can expand to gigabytes),
    and a key given twice in one mapping is an error rather than silently the last value."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.constructor.ConstructorError(
                None, None, "YAML aliases (*name) are not allowed in parameters", event.start_mark)
        event = self.peek_event()
        if getattr(event, "anchor", None):
            raise yaml.constructor.ConstructorError(
                None, None, "YAML anchors (&name) are not allowed in parameters", event.start_mark)
        return super().compose_node(parent, index)

    def construct_mapping(self, node, deep=False):
        seen: dict[Any, Any] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    "while reading a mapping", node.start_mark, f"key {key!r} is given twice",
                    key_node.start_mark)
            seen[key] = True
        return super().construct_mapping(node, deep=deep)


def load_yaml(text: str, what: str) -> Any:
    """Parse parameter YAML safely (see ``_StrictLoader``) within the size limit; ParameterError if bad."""
    max_kb = limits.MAX_PARAMS_FILE_KB.value()
    if len(text.encode("utf-8", "surrogatepass")) > max_kb * 1024:
        raise ParameterError(f"{what} is {len(text):,} characters, above the limit of {max_kb} KB; "
                             + limits.MAX_PARAMS_FILE_KB.how_to_raise())
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.YAMLError as exc:
        raise ParameterError(f"{what} is not valid YAML: {_cut(str(exc), 400)}") from None


def parse_cli_pairs(pairs: list[str]) -> dict[str, Any]:
    """Parse ``-p name=value`` pairs; values are YAML scalars/lists (``3``, ``0.5``, ``[a, b]``)."""
    out: dict[str, Any] = {}
    for pair in pairs:
        if "=" not in pair:
            raise ParameterError(f"Parameter {_short(pair)} must look like name=value")
        name, raw = pair.split("=", 1)
        name = name.strip()
        if not name.isidentifier():
            raise ParameterError(f"Parameter name {_short(name)} is not a valid name")
        if name in out:
            raise ParameterError(f"Parameter {name!r} is given twice (-p {name}=...)")
        out[name] = load_yaml(raw, f"Parameter {name!r}") if raw.strip() else ""
    return out


def read_params_file(path: Path) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise ParameterError(f"Parameters file not found: {path}")
    size = path.stat().st_size
    max_kb = limits.MAX_PARAMS_FILE_KB.value()
    if size > max_kb * 1024:
        raise ParameterError(f"Parameters file {path} is {size:,} bytes, above the limit of {max_kb} KB; "
                             + limits.MAX_PARAMS_FILE_KB.how_to_raise())
    try:
        text = path.read_text(encoding="utf-8-sig")  # a byte-order mark (Windows editors) is dropped
    except (OSError, UnicodeDecodeError) as exc:
        raise ParameterError(f"Parameters file {path} cannot be read as UTF-8 text: {exc}") from None
    data = load_yaml(text, f"Parameters file {path}") or {}
    if not isinstance(data, dict):
        raise ParameterError(f"Parameters file {path} must hold a mapping of name: value")
    return data


def parameters_from_namespace(notebook: str, namespace: Mapping[str, Any]) -> NotebookParameters:
    """Re-validate inside a notebook: take the model's fields from the notebook's globals."""
    spec = get_spec(notebook)
    values = {name: namespace[name] for name in spec.parameters.model_fields if name in namespace}
    return validate_parameters(notebook, values)
