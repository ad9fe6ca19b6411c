"""The workbench: typed parameters cells, jupytext pairs, pre-commit, lint, the named kernel, the scratch folder."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import nbformat
import pytest
import yaml

from analysis import config
from analysis.errors import ParameterError
from analysis.report.params import get_spec, validate_parameters
from analysis.workbench import notebooks, pairs, parameters_cell

ROOT = config.project_root()
REPORTS = parameters_cell.report_specs()
REQUIRED_EXAMPLES = {"council_code": "E08000016"}  # a value for each required parameter


def _pinned(package: str) -> str:
    for line in (ROOT / "requirements" / "constraints.txt").read_text().splitlines():
        name, _, version = line.partition("==")
        if name.lower().replace("_", "-") == package:
            return version
    raise AssertionError(f"{package} is not pinned")


# --- Parameters cells -------------------------------------------------------------------------------

def test_every_report_notebook_has_its_parameters_cell_from_its_model():
    assert {s.name for s in REPORTS} >= {"nao_vfm_risk", "mutuals_vs_inhouse", "personal_budgets", "provision_costs"}
    assert parameters_cell.problems() == [], "run `make param-cells`"


@pytest.mark.parametrize("spec", REPORTS, ids=lambda s: s.name)
def test_parameters_cell_runs_and_gives_the_model_defaults_with_annotations(spec):
    namespace: dict = {}
    source = parameters_cell.cell_source(spec)
    exec(compile(source, spec.name, "exec"), namespace)  # noqa: S102 (our own generated cell)
    required = [name for name, field in spec.parameters.model_fields.items() if field.is_required()]
    defaults = spec.parameters(**{name: REQUIRED_EXAMPLES[name] for name in required}).as_papermill()
    assert {name: namespace[name] for name in defaults if name not in required} == {
        name: value for name, value in defaults.items() if name not in required}
    assert all(namespace[name] is None for name in required)  # a required parameter has no default to show
    assert set(namespace["__annotations__"]) == set(defaults)


def test_a_required_parameter_is_none_in_the_cell_and_the_model_says_what_to_pass():
    spec = get_spec("council_profile")
    source = parameters_cell.cell_source(spec)
    assert re.search(r"^council_code: Optional\[str\] = None  # required: ", source, re.MULTILINE)
    with pytest.raises(ParameterError, match="council_code is required"):
        validate_parameters("council_profile", {"council_code": None})


@pytest.mark.parametrize("spec", REPORTS, ids=lambda s: s.name)
def test_papermill_help_shows_every_parameter_with_its_type(spec):
    from papermill.translators import PythonTranslator

    nb = nbformat.read(spec.path, as_version=4)
    found = {p.name: p for p in PythonTranslator.inspect(parameters_cell.parameters_cell(nb))}
    props = spec.parameters.model_json_schema()["properties"]
    assert set(found) == set(spec.parameters.model_fields)
    for name, parameter in found.items():
        assert parameter.inferred_type_name == parameters_cell.cell_annotation(spec.parameters, name, props), name
        assert parameter.inferred_type_name != "None" and parameter.help, name


def test_papermill_help_notebook_command_prints_the_types():
    spec = get_spec("nao_vfm_risk")
    out = subprocess.run([sys.executable, "-m", "papermill", "--help-notebook", str(spec.path)], capture_output=True,
                         text=True, timeout=120, check=True).stdout
    assert re.search(r"annual_contract_value_gbp_m: Optional\[float\] \(default None\)", out)
    assert re.search(r"scenario: str \(default \"achieved\"\)", out)
    assert "Unknown type" not in out


def test_python_types_are_what_papermill_can_read():
    assert parameters_cell.python_type({"anyOf": [{"type": "number"}, {"type": "null"}]}) == "Optional[float]"
    assert parameters_cell.python_type({"type": "array", "items": {"type": "integer"}}) == "list[int]"
    assert parameters_cell.python_type({"enum": ["a", "b"], "type": "string"}) == "str"
    assert parameters_cell.literal(["a", 1.5, None, True]) == '["a", 1.5, None, True]'


def test_write_changes_only_the_parameters_cell(tmp_path, monkeypatch):
    spec = get_spec("nao_vfm_risk")
    copy = tmp_path / "nao_vfm_risk.ipynb"
    nb = nbformat.read(spec.path, as_version=4)
    parameters_cell.parameters_cell(nb).source = "scenario = 'match'"
    nbformat.write(nb, copy)
    moved = type(spec)(spec.name, spec.title, spec.parameters, spec.description, source=copy)
    assert parameters_cell.stale(moved)
    assert parameters_cell.write(moved) and not parameters_cell.write(moved)
    assert copy.read_bytes() == spec.path.read_bytes()


# --- jupytext pairs --------------------------------------------------------------------------------

def test_every_committed_notebook_has_a_paired_script_that_agrees():
    assert pairs.problems() == [], "run `make pair`"
    config_text = (ROOT / "notebooks" / "jupytext.toml").read_text()
    assert tomllib.loads(config_text)["formats"] == "ipynb,py:percent"


def test_a_stale_or_missing_script_is_reported(tmp_path):
    source = notebooks.committed_notebooks()[0]
    notebook = tmp_path / source.name
    shutil.copy(source, notebook)
    shutil.copy(ROOT / "notebooks" / "jupytext.toml", tmp_path / "jupytext.toml")
    assert "no paired script" in " ".join(pairs.problems([notebook]))
    assert pairs.write_pairs([notebook]) == [pairs.script_path(notebook)]
    assert pairs.problems([notebook]) == []
    script = pairs.script_path(notebook)
    script.write_text(script.read_text().replace("report", "rapport", 1))
    assert "disagrees" in " ".join(pairs.problems([notebook]))
    (tmp_path / "orphan.py").write_text("# %%\nx = 1\n")
    assert "without its notebook" in " ".join(pairs.problems([notebook]))


def test_scripts_carry_cells_and_tags_but_no_metadata_header():
    script = (ROOT / "notebooks" / "nao_vfm_risk.py").read_text()
    assert script.startswith("# %% [markdown]") and '# %% tags=["parameters"]' in script
    assert "kernelspec" not in script and "jupytext_version" not in script


# --- Scratch folder, lint, pre-commit ---------------------------------------------------------------

def test_the_scratch_folder_is_git_ignored_but_documented():
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    ignored = subprocess.run(["git", "check-ignore", "-q", "notebooks/scratch/my_analysis.ipynb"], cwd=ROOT)
    assert ignored.returncode == 0
    kept = subprocess.run(["git", "check-ignore", "-q", "notebooks/scratch/README.md"], cwd=ROOT)
    assert kept.returncode == 1 and (ROOT / "notebooks" / "scratch" / "README.md").is_file()
    assert "notebooks/scratch" in (ROOT / "Makefile").read_text()


def test_pre_commit_config_is_valid_and_pins_the_tools_we_pin():
    pre_commit = shutil.which("pre-commit", path=str(Path(sys.executable).parent))
    assert pre_commit, "pre-commit is a dev dependency"
    subprocess.run([pre_commit, "validate-config", ".pre-commit-config.yaml"], cwd=ROOT, check=True, timeout=120,
                   capture_output=True)
    hooks = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())["repos"]
    revs = {r["repo"].rsplit("/", 1)[-1]: r.get("rev") for r in hooks}
    assert revs["ruff-pre-commit"] == f"v{_pinned('ruff')}"
    assert revs["jupytext"] == f"v{_pinned('jupytext')}"
    ids = {h["id"] for r in hooks for h in r["hooks"]}
    assert {"nbstripout", "ruff", "jupytext", "notebook-checks"} <= ids


def test_the_local_hooks_commands_pass_on_the_committed_notebooks():
    hooks = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())["repos"]
    local = [h for r in hooks if r["repo"] == "local" for h in r["hooks"]]
    assert local
    for hook in local:
        command = hook["entry"].split()
        assert command[0] == "python"
        result = subprocess.run([sys.executable, *command[1:]], cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr


def test_make_test_runs_lint_first_and_lint_runs_ruff_and_the_notebook_checks():
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^test: install lint$", makefile, flags=re.M)
    lint = re.search(r"^lint:.*\n((?:\t.*\n)+)", makefile, flags=re.M).group(1)
    assert "ruff check" in lint and "analysis.workbench check" in lint


def test_ruff_passes():
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent))
    assert ruff, "ruff is a dev dependency"
    result = subprocess.run([ruff, "check", "--no-cache", "."], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:]


# --- Kernel -----------------------------------------------------------------------------------------

def test_kernel_is_registered_with_this_python_and_the_project_root(tmp_path):
    from analysis.workbench import kernel

    where = kernel.install(prefix=str(tmp_path))
    spec = json.loads((where / "kernel.json").read_text())
    assert where == tmp_path / "share" / "jupyter" / "kernels" / kernel.NAME
    assert spec["display_name"] == kernel.DISPLAY_NAME
    assert Path(spec["argv"][0]).resolve() == Path(sys.executable).resolve()
    assert spec["env"]["ANALYSIS_PROJECT_ROOT"] == str(ROOT)
    assert "kernel" in (ROOT / "Makefile").read_text()


def test_readme_documents_the_workbench_and_the_explorers():
    readme = (ROOT / "README.md").read_text()
    for target in ("make explore", "make lint", "make lab", "make kernel", "make pair", "make param-cells",
                   "make browser", "make screenshot", "pre-commit install", "notebooks/scratch/",
                   "papermill --help-notebook"):
        assert target in readme, target
    assert "](docs/explore.png)" in readme and (ROOT / "docs" / "explore.png").stat().st_size < 200_000
    makefile = (ROOT / "Makefile").read_text()
    for target in ("explore", "lint", "kernel", "pair", "param-cells", "browser", "screenshot"):
        assert re.search(rf"^{re.escape(target)}:", makefile, flags=re.M), target
