"""The install routes agree: pyproject.toml (pip, make), environment.yml (conda), the CI entry and the README.

A researcher who installs with conda must get the same packages, at the same
minimum versions, as one who runs `make`; CI must run the README's test command.
"""

from __future__ import annotations

import re
import tomllib

import yaml
from packaging.requirements import Requirement

from analysis import config

ROOT = config.project_root()


def _pyproject_requirements() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = [Requirement(r) for r in project["dependencies"] + project["optional-dependencies"]["dev"]]
    return {r.name.lower(): str(r.specifier) for r in reqs}


def _conda_requirements() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    out = {}
    for dep in env["dependencies"]:
        if isinstance(dep, dict) or dep.split("=")[0] in {"python", "pip"}:
            continue
        # conda's "name>=1.0" and pip's are the same grammar for these simple pins
        req = Requirement(dep)
        out[req.name.lower()] = str(req.specifier)
    return out


def test_environment_yml_and_pyproject_agree_on_every_package_and_minimum_version():
    pip, conda = _pyproject_requirements(), _conda_requirements()
    assert sorted(set(pip) - set(conda)) == [], "in pyproject.toml but not environment.yml"
    assert sorted(set(conda) - set(pip)) == [], "in environment.yml but not pyproject.toml"
    assert {k: v for k, v in pip.items() if conda[k] != v} == {}, "different version bounds"


def test_environment_yml_installs_this_package_and_pins_python():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert "python=3.11" in env["dependencies"]
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert "-e ." in pip_section


def test_ci_runs_the_test_command_the_readme_gives():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    commands = re.findall(r"^\s*(make test)\s*$", readme, flags=re.M)
    assert commands, "README must give `make test` as the test command"
    assert re.search(r"^make test\s*$", ci, flags=re.M), ".ci/run must run `make test`"
    assert "CI=true" in ci and "ANALYSIS_DATA_MIRROR" in ci


def test_constraints_pin_every_declared_package():
    pinned = {line.split("==")[0].lower().replace("_", "-")
              for line in (ROOT / "requirements" / "constraints.txt").read_text().splitlines() if "==" in line}
    missing = sorted(name for name in _pyproject_requirements() if name.replace("_", "-") not in pinned)
    assert missing == [], f"not pinned in requirements/constraints.txt: {missing} (run `make constraints`)"


def test_relative_links_in_the_readme_and_docs_point_at_files_that_exist():
    broken = []
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", doc.read_text()):
            if not re.match(r"[a-z]+://", target) and not (doc.parent / target).exists():
                broken.append(f"{doc.name}: {target}")
    assert broken == []


def test_readme_documents_every_command_and_environment_variable():
    readme = (ROOT / "README.md").read_text()
    config_doc = config.__doc__ or ""
    for var in re.findall(r"``(ANALYSIS_[A-Z_]+)``", config_doc) + ["ANALYSIS_EXTRA_NOTEBOOKS"]:
        assert var in readme, var
    from analysis.cli import build_parser

    commands = build_parser()._subparsers._group_actions[0].choices
    for command in commands:
        assert f"python -m analysis {command}" in readme, command
    for target in ("make reports", "make test", "make lab", "make council-reports", "make register", "make bench"):
        assert target in readme, target
