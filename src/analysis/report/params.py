"""The notebook registry and parameter validation, before papermill runs and again inside the notebook.

Each notebook has a parameter model (a :class:`analysis.parameters.NotebookParameters`, defined
beside its domain: ``analysis.<domain>.params``); :func:`validate_parameters` rejects unknown
names, wrong types and out-of-range values with a message that names the notebook, the parameter
and what is allowed. Parameter files, ``-p`` values and manifest cells are read as strict YAML.

The base model lives in :mod:`analysis.parameters` (re-exported here) so that the domain
parameter modules, which this registry imports, never import ``analysis.report``.
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
from pydantic import ValidationError

from analysis import config, limits
from analysis.errors import ParameterError
from analysis.parameters import PATH_SUFFIX, NotebookParameters, _cut, _short, check_input_file, path_fields  # noqa: F401

__all__ = ["PATH_SUFFIX", "NotebookParameters", "NotebookSpec", "check_input_file", "default_notebooks",
           "field_defaults", "get_spec", "load_yaml", "notebooks", "parameters_from_namespace", "parse_cli_pairs",
           "path_fields", "read_params_file", "required_fields", "resolve_relative_paths", "validate_parameters"]


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
            raise ParameterError(f"ANALYSIS_EXTRA_NOTEBOOKS names {module_name!r}, which cannot be imported: "
                                 f"{exc}") from None
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
