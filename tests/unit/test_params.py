"""Typed notebook parameters: validation before papermill and inside the notebook."""

from __future__ import annotations

import ast
import os

import nbformat
import pytest

from analysis.errors import ParameterError
from analysis.report import params as P


def test_unknown_parameter_is_rejected_with_a_suggestion():
    with pytest.raises(ParameterError) as err:
        P.validate_parameters("nao_vfm_risk", {"dicount_rate": 0.03})
    text = str(err.value)
    assert "nao_vfm_risk" in text and "dicount_rate" in text and "did you mean 'discount_rate'" in text


@pytest.mark.parametrize("name,value,needle", [
    ("discount_rate", 1.5, "less than or equal to 0.2"),
    ("n_simulations", 0, "greater than or equal to 1000"),
    ("n_simulations", "many", "valid integer"),
    ("annual_contract_value_gbp_m", -5, "greater than 0"),
    ("contracted_savings_rate", 1.2, "less than or equal to 1"),
    ("failure_proxy_ownership", "charity", "third sector"),
    ("inhouse_efficiency_range", [0.05, 0.01], "low 0.05 is above high 0.01"),
    ("inhouse_efficiency_range", [0.01, 1.5], "rates are fractions"),
    ("contracted_savings_range", [0.02, 0.01], "low 0.02 is above high 0.01"),
    ("scenario", "central", "'match', 'achieved', 'target'"),
    ("failure_proxy_measure", "some closures", "not chosen by the commissioner"),
    ("inhouse_proxy_ownership", "charity", "local authority"),
    ("failure_proxy_years", [2016, 2011], "first year 2016 is after last year 2011"),
    ("failure_proxy_years", [2011], "at least 2 items"),
    ("setup_cost_gbp_m", -8, "greater than or equal to 0"),
])
def test_wrong_type_or_out_of_range_names_parameter_and_allowed(name, value, needle):
    with pytest.raises(ParameterError) as err:
        P.validate_parameters("nao_vfm_risk", {name: value})
    assert needle in str(err.value)
    assert "nao_vfm_risk" in str(err.value)


def test_unknown_notebook_is_rejected():
    with pytest.raises(ParameterError, match="Did you mean 'nao_vfm_risk'"):
        P.get_spec("nao_vfm_risks")


def test_cli_pairs_are_parsed_as_yaml_scalars():
    assert P.parse_cli_pairs(["a=3", "b=0.5", "c=[1, 2]", "d=third sector", "e=null"]) == {
        "a": 3, "b": 0.5, "c": [1, 2], "d": "third sector", "e": None}
    with pytest.raises(ParameterError, match="name=value"):
        P.parse_cli_pairs(["oops"])
    with pytest.raises(ParameterError, match="not a valid name"):
        P.parse_cli_pairs(["1x=3"])


def test_params_file_must_be_a_mapping(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("- 1\n- 2\n")
    with pytest.raises(ParameterError, match="mapping"):
        P.read_params_file(path)
    with pytest.raises(ParameterError, match="not found"):
        P.read_params_file(tmp_path / "missing.yaml")


def test_papermill_values_are_json_safe():
    values = P.validate_parameters("nao_vfm_risk", {}).as_papermill()
    import json

    assert json.loads(json.dumps(values)) == values


@pytest.mark.parametrize("name", sorted(P.notebooks()))
def test_notebook_parameter_cell_matches_the_model(name):
    """The parameters cell is plain literals, first, tagged, and equal to the model's defaults."""
    spec = P.get_spec(name)
    nb = nbformat.read(spec.path, as_version=4)
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    cell = code_cells[0]
    assert "parameters" in cell.metadata.get("tags", []), "first code cell must be tagged 'parameters'"
    values = {}
    for node in ast.parse(cell.source).body:
        if isinstance(node, ast.ImportFrom):  # the annotations' Optional, nothing else
            assert node.module == "typing" and [a.name for a in node.names] == ["Optional"], ast.unparse(node)
            continue
        assert isinstance(node, (ast.Assign, ast.AnnAssign)), f"only assignments of literals: {ast.unparse(node)}"
        target = node.targets[0] if isinstance(node, ast.Assign) else node.target
        assert isinstance(target, ast.Name) and (isinstance(node, ast.AnnAssign) or len(node.targets) == 1)
        values[target.id] = ast.literal_eval(node.value)
    defaults = P.field_defaults(spec.parameters)
    # A required parameter (council_profile's council_code) has no default: its cell holds None, which the model
    # rejects with a message saying it is required.
    assert values == {**defaults, **{name: None for name in P.required_fields(spec.parameters)}}
    assert any("provenance" in c.metadata.get("tags", []) and "report.finish" in c.source for c in code_cells)


def test_in_notebook_revalidation_gives_the_same_error():
    namespace = {"discount_rate": 1.5, "unrelated": object()}
    with pytest.raises(ParameterError, match="discount_rate"):
        P.parameters_from_namespace("nao_vfm_risk", namespace)


# --- hostile and sloppy input (issue: nothing wrong published) -----------------------------------

@pytest.mark.parametrize("values,needle", [
    ({"cea_inputs": [float("nan"), 1, 1, 1, 0]}, "finite number"),
    ({"wtp_range": [0, float("inf")]}, "finite number"),
    ({"confidence_level": float("nan")}, "finite number"),
    ({"n_simulations": True}, "true/false is not a number"),
    ({"years": [True, 2024]}, "true/false is not a number"),
])
def test_nan_infinity_and_booleans_are_not_numbers(values, needle):
    with pytest.raises(ParameterError, match=needle):
        P.validate_parameters("personal_budgets", values)


def test_booleans_are_still_booleans():
    assert P.validate_parameters("personal_budgets", {"simulated_cea": True}).simulated_cea is True


def test_yaml_duplicate_keys_aliases_and_huge_values_are_rejected(tmp_path):
    dup = tmp_path / "dup.yaml"
    dup.write_text("seed: 1\nseed: 2\n")
    with pytest.raises(ParameterError, match="key 'seed' is given twice"):
        P.read_params_file(dup)
    bomb = tmp_path / "bomb.yaml"  # a few hundred bytes that would expand to gigabytes
    bomb.write_text("a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
                    "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nuser_groups: [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n")
    with pytest.raises(ParameterError, match="anchors"):
        P.read_params_file(bomb)
    with pytest.raises(ParameterError, match="aliases|anchors"):
        P.parse_cli_pairs(["user_groups=[*a]"])
    with pytest.raises(ParameterError, match="given twice"):
        P.parse_cli_pairs(["seed=1", "seed=2"])
    with pytest.raises(ParameterError, match="ANALYSIS_MAX_PARAMS_FILE_KB"):
        P.parse_cli_pairs(["user_groups=" + "x" * 300_000])


def test_a_rejected_value_is_not_echoed_whole():
    with pytest.raises(ParameterError) as err:
        P.validate_parameters("personal_budgets", {"user_groups": ["x" * 10_000_000, 1]})
    assert len(str(err.value)) < 2000 and "characters)" in str(err.value)


def test_params_file_with_a_byte_order_mark_is_read(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_bytes("\ufeffseed: 7\n".encode("utf-8"))
    assert P.read_params_file(path) == {"seed": 7}


def test_input_file_parameters_are_checked_before_the_run(tmp_path, monkeypatch):
    def check(value):
        P.validate_parameters("personal_budgets", {"pilot_data_path": str(value)})

    with pytest.raises(ParameterError, match="file not found"):
        check(tmp_path / "missing.csv")
    with pytest.raises(ParameterError, match="is not a file"):
        check(tmp_path)
    big = tmp_path / "big.csv"
    big.write_text("a\n" + "1\n" * 50)
    monkeypatch.setenv("ANALYSIS_MAX_INPUT_ROWS", "10")
    with pytest.raises(ParameterError, match="more than 10 rows.*ANALYSIS_MAX_INPUT_ROWS"):
        check(big)
    monkeypatch.setenv("ANALYSIS_MAX_INPUT_ROWS", "1000")
    monkeypatch.setenv("ANALYSIS_MAX_INPUT_MB", "0")
    with pytest.raises(ParameterError, match="above the input limit of 0 MB.*ANALYSIS_MAX_INPUT_MB"):
        check(big)
    monkeypatch.setenv("ANALYSIS_MAX_INPUT_MB", "1")
    check(big)  # within the limits
    if os.geteuid() != 0:  # root reads anything: permission bits cannot make it unreadable
        big.chmod(0)
        with pytest.raises(ParameterError, match="not readable"):
            check(big)


def test_relative_input_paths_resolve_against_the_given_directory(tmp_path):
    resolved = P.resolve_relative_paths("personal_budgets", {"pilot_data_path": "x.csv", "seed": 1}, tmp_path)
    assert resolved == {"pilot_data_path": str(tmp_path / "x.csv"), "seed": 1}


def _domain_params_modules() -> list[str]:
    """Every ``analysis.<domain>.params`` module (found on disk, so a new domain is covered too)."""
    import pkgutil

    import analysis

    return sorted(f"analysis.{m.name}.params" for m in pkgutil.iter_modules(analysis.__path__)
                  if m.ispkg and m.name != "report"
                  and pkgutil.importlib.util.find_spec(f"analysis.{m.name}.params") is not None)


def test_every_domain_has_a_params_module_to_check():
    assert {"analysis.budgets.params", "analysis.costs.params", "analysis.mutuals.params",
            "analysis.vfm.params"} <= set(_domain_params_modules())


@pytest.mark.parametrize("module", _domain_params_modules())
def test_domain_parameters_do_not_import_the_report_package(module):
    """The registry in analysis.report.params imports the domain parameter modules; if they imported
    analysis.report back, that would be an import circle. They build on analysis.parameters instead."""
    import subprocess
    import sys

    code = (f"import sys, {module}; "
            "print(sorted(m for m in sys.modules if m == 'analysis.report' or m.startswith('analysis.report.')))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]", f"{module} imports {proc.stdout.strip()}"


def test_report_params_re_exports_the_base_model():
    from analysis.parameters import NotebookParameters

    assert P.NotebookParameters is NotebookParameters
