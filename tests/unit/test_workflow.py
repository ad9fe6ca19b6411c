"""The GitHub workflow runs as written: current actions, least privilege, tests on push and PR."""

from __future__ import annotations

import re

import yaml

from analysis import config

WORKFLOW = config.project_root() / ".github" / "workflows" / "reports.yml"
# The first majors that run on Node 24 (older ones are deprecated on GitHub's runners).
MINIMUM_MAJOR = {"actions/checkout": 6, "actions/setup-python": 6, "actions/cache": 5, "actions/upload-artifact": 7}


def _workflow() -> dict:
    text = WORKFLOW.read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as True
    return data


def _steps(data: dict):
    for name, job in data["jobs"].items():
        for step in job["steps"]:
            yield name, step


def test_actions_are_on_current_majors():
    for job, step in _steps(_workflow()):
        if "uses" not in step:
            continue
        action, _, ref = step["uses"].partition("@")
        major = int(re.match(r"v(\d+)", ref).group(1))
        assert major >= MINIMUM_MAJOR.get(action, 0), f"{job}: {step['uses']} is older than v{MINIMUM_MAJOR[action]}"


def test_least_privilege_and_no_always():
    data = _workflow()
    assert data["permissions"] == {"contents": "read"}
    text = WORKFLOW.read_text(encoding="utf-8")
    assert "always()" not in text, "use !cancelled() so a cancelled run does not upload or render"


def test_tests_run_on_push_and_pull_request_with_the_readme_command():
    data = _workflow()
    assert {"push", "pull_request", "schedule", "workflow_dispatch"} <= set(data["on"])
    test_job = data["jobs"]["test"]
    assert any(step.get("run", "").strip() == "make test" for step in test_job["steps"])
    assert "push" in test_job["if"] and "pull_request" in test_job["if"]


def test_pip_cache_and_rerun_safe_artifact_names():
    data = _workflow()
    setups = [s for _, s in _steps(data) if s.get("uses", "").startswith("actions/setup-python")]
    assert setups and all(s["with"].get("cache") == "pip" for s in setups)
    uploads = [s for _, s in _steps(data) if s.get("uses", "").startswith("actions/upload-artifact")]
    assert uploads and all("github.run_attempt" in s["with"]["name"] for s in uploads)
