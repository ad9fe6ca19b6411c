"""The dask executor's parts that need no cluster: what a job carries, the version check, teardown."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from analysis.report import cluster, environment
from analysis.report.execution import Job
from tests.conftest import ROOT


def _job(tmp_path: Path, **parameters) -> Job:
    notebook = ROOT / "tests" / "fixtures" / "notebooks" / "work.ipynb"
    return Job(notebook="fixture_work", title="Work", source=str(notebook), parameters=parameters, overrides={},
               slug="fixture_work", out_dir=str(tmp_path / "reports" / ".partial-x"), cwd=str(notebook.parent),
               context={"run_id": "x"}, redactions=[[str(tmp_path), "[tmp]"]])


def test_a_job_sent_to_a_worker_carries_the_notebook_and_input_files_but_no_client_path(tmp_path):
    notes = tmp_path / "private" / "notes.csv"
    notes.parent.mkdir()
    notes.write_text("a,b\n1,2\n")
    job = _job(tmp_path, label="x", notes_path=str(notes))
    sent = cluster.portable(job)
    assert sent.notebook_json == (ROOT / "tests" / "fixtures" / "notebooks" / "work.ipynb").read_text()
    assert sent.inputs == {"notes_path": ("notes.csv", b"a,b\n1,2\n")}
    assert sent.parameters == {"label": "x", "notes_path": "notes.csv"}
    wire = pickle.dumps(sent)
    for client_path in (str(tmp_path), str(ROOT), job.out_dir, job.cwd, job.source):
        assert client_path.encode() not in wire, client_path
    assert job.parameters["notes_path"] == str(notes)  # the client keeps its own job


def test_a_worker_writes_the_inputs_it_was_sent_into_its_scratch_folder(tmp_path):
    sent = cluster.portable(_job(tmp_path, label="x"))
    sent = sent.__class__(**{**sent.__dict__, "inputs": {"notes_path": ("notes.csv", b"x\n")},
                             "parameters": {"label": "x", "notes_path": "notes.csv"}})
    scratch = tmp_path / "worker"
    parameters = cluster._materialise_inputs(sent, scratch)
    assert Path(parameters["notes_path"]).read_bytes() == b"x\n"
    assert Path(parameters["notes_path"]).is_relative_to(scratch) and parameters["label"] == "x"


class _StubClient:
    def __init__(self, identities, versions_error=None):
        self.identities = identities
        self.versions_error = versions_error

    def get_versions(self, check=False):
        if self.versions_error:
            raise ValueError(self.versions_error)
        return {}

    def run(self, function):
        return self.identities


def test_the_version_check_names_the_worker_that_differs_and_how():
    mine = cluster.identity()
    other = {**mine, "fingerprint": "f" * 64}
    older = {**mine, "package_version": "0.0.9"}
    client = _StubClient({"tcp://10.0.0.1:1": mine, "tcp://10.0.0.2:1": other, "tcp://10.0.0.3:1": older})
    with pytest.raises(cluster.ClusterError) as err:
        cluster.check_versions(client, mine)
    text = str(err.value)
    assert "worker tcp://10.0.0.2:1: source fingerprint ffffffffffff (the client has " in text
    assert "worker tcp://10.0.0.3:1: package version 0.0.9" in text
    assert "tcp://10.0.0.1:1" not in text and "docs/cluster.md" in text
    assert cluster.check_versions(_StubClient({"tcp://10.0.0.1:1": mine}), mine) == {"tcp://10.0.0.1:1": mine}


def test_dask_s_own_version_check_becomes_a_cluster_error():
    with pytest.raises(cluster.ClusterError, match="software differs.*msgpack"):
        cluster.check_versions(_StubClient({}, versions_error="Mismatched versions found: msgpack"),
                               cluster.identity())


def test_a_cluster_error_exits_4():
    from analysis.errors import ExitCode, OutputError

    assert issubclass(cluster.ClusterError, OutputError)  # the command line maps OutputError to 4
    assert ExitCode.OUTPUT_ERROR == 4


def test_the_source_fingerprint_follows_the_package_source_and_the_evidence_register(tmp_path, monkeypatch):
    import shutil

    assert environment.source_fingerprint() == environment.source_fingerprint()
    copy = tmp_path / "checkout"
    shutil.copytree(ROOT / "data", copy / "data")
    (copy / "notebooks").mkdir()
    monkeypatch.setenv("ANALYSIS_PROJECT_ROOT", str(copy))
    same = environment.source_fingerprint()
    evidence = sorted((copy / "data" / "evidence").glob("*.csv"))[0]
    evidence.write_text(evidence.read_text() + "\n")
    assert environment.source_fingerprint() != same


def test_the_kernel_teardown_acts_only_when_the_worker_closes(monkeypatch):
    from distributed.core import Status

    killed = []
    monkeypatch.setattr(cluster, "kill_worker_kernels", lambda: killed.append(True))

    class Worker:
        status = Status.running

    plugin = cluster.KernelTeardown()
    plugin.teardown(Worker())  # a later run registered the plugin again: the kernels are in use
    assert killed == []
    Worker.status = Status.closing
    plugin.teardown(Worker())
    assert killed == [True]


def test_the_wait_for_workers_setting_is_checked(monkeypatch):
    from analysis.errors import ParameterError

    monkeypatch.setenv(cluster.WAIT_FOR_WORKERS_VARIABLE, "soon")
    with pytest.raises(ParameterError, match="ANALYSIS_DASK_WAIT_SECONDS"):
        cluster.wait_seconds()
    monkeypatch.setenv(cluster.WAIT_FOR_WORKERS_VARIABLE, "30")
    assert cluster.wait_seconds() == 30
