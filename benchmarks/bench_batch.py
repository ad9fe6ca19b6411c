"""Benchmark: one report per council through the batch runner against plain papermill + nbconvert.

Everything runs in the same invocation, one method after another, on the same councils and notebook
(council_profile, one council each), so the ratios compare like with like on the same machine load:

* the batch runner, once per executor asked for (default ``processes`` and ``dask``):
  ``python -m analysis run council_profile --batch manifest.csv --executor E --workers N``
  (warm kernels; ``dask`` starts a LocalCluster with N single-threaded workers);
* the **parallel** plain loop, the fair baseline: for each council ``papermill ... -p council_code X``
  then ``jupyter nbconvert --to html``, N councils at a time (the same concurrency as the batch);
* the serial plain loop, one council after another (the old baseline, for comparison);
* the in-process floor: the notebook's code cells executed with ``exec`` in one warm Python process
  (the library's analysis and its figures rendered to PNG, no kernel, no export, no file written),
  one council after another; divided by N it is the best any executor could do on N cores.

It prints seconds per report, throughput, the ratios both ways (how many times faster the batch is,
and what fraction of the baseline's time it takes), how far the batch is from the floor, peak memory
(summed resident memory of the process tree, sampled from /proc), and checks that every method gives
the same headline numbers for the councils run more than one way. The plain loops cost several seconds
a report, so they run on a sample (``--baseline-reports``, ``--serial-reports``) and their per-report
time is used for the ratios. Run: ``python benchmarks/bench_batch.py`` (``--help`` for options).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from analysis import data  # noqa: E402
from analysis.report.export import provenance_payload  # noqa: E402


class TreeMemory:
    """Sample the summed RSS of a process and its descendants (Linux /proc)."""

    def __init__(self, pid: int, interval: float = 0.2):
        self.pid, self.interval, self.peak = pid, interval, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _children(self) -> dict[int, list[int]]:
        tree: dict[int, list[int]] = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                except (OSError, IndexError, ValueError):
                    continue
                tree.setdefault(ppid, []).append(int(entry.name))
        return tree

    def _rss(self, pid: int) -> int:
        try:
            for line in (Path("/proc") / str(pid) / "status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        except OSError:
            pass
        return 0

    def _run(self):
        while not self._stop.is_set():
            tree, total, stack = self._children(), 0, [self.pid]
            while stack:
                pid = stack.pop()
                total += self._rss(pid)
                stack.extend(tree.get(pid, []))
            self.peak = max(self.peak, total)
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def timed(cmd: list[str], env: dict) -> tuple[float, int, subprocess.CompletedProcess]:
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    with TreeMemory(proc.pid) as mem:
        out, err = proc.communicate()
    return time.perf_counter() - start, mem.peak, subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def headline_values(payload: dict) -> dict[str, float]:
    return {h["key"]: h["value"] for h in payload.get("headlines", [])}


def floor_main(codes: list[str]) -> int:
    """In this process: run the notebook's code cells for each council; print JSON timings and numbers.

    The first council is run once untimed, so imports, data loading and caches are warm as in a warm
    kernel. Figures are rendered to PNG by ``report.figure`` exactly as in the notebook; displayed
    output goes nowhere.
    """
    import contextlib
    import io

    from analysis import provenance

    notebook = nbformat.read(ROOT / "notebooks" / "council_profile.ipynb", as_version=4)
    code = [compile(c.source, f"cell-{i}", "exec") for i, c in enumerate(notebook.cells) if c.cell_type == "code"]
    os.chdir(ROOT / "notebooks")

    def one(council: str) -> tuple[float, float, dict]:
        namespace: dict = {"__name__": "__main__"}
        wall, cpu = time.perf_counter(), time.process_time()
        with contextlib.redirect_stdout(io.StringIO()):
            exec(code[0], namespace)
            namespace["council_code"] = council
            for cell in code[1:]:
                exec(cell, namespace)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        return wall, cpu, headline_values({"headlines": provenance.snapshot().get("headlines", [])})

    one(codes[0])
    out = {"wall": [], "cpu": [], "numbers": {}}
    for council in codes:
        wall, cpu, numbers = one(council)
        out["wall"].append(wall)
        out["cpu"].append(cpu)
        out["numbers"][council] = numbers
    print(json.dumps(out))
    return 0


def plain_report(code: str, tmp: Path, env: dict) -> tuple[float, int, dict]:
    """papermill then nbconvert for one council, as separate commands (a fresh kernel each time)."""
    bin_dir = Path(sys.executable).parent
    out_nb = tmp / f"plain-{code}-{threading.get_ident()}.ipynb"
    t1, m1, p1 = timed([str(bin_dir / "papermill"), str(ROOT / "notebooks" / "council_profile.ipynb"),
                        str(out_nb), "-p", "council_code", code, "--no-progress-bar", "--log-level", "ERROR",
                        "--cwd", str(ROOT / "notebooks")], env)
    t2, m2, p2 = timed([str(bin_dir / "jupyter"), "nbconvert", "--to", "html", "--log-level", "ERROR",
                        str(out_nb)], env)
    if p1.returncode or p2.returncode:
        raise RuntimeError(f"plain loop failed for {code}:\n{p1.stderr[-2000:]}\n{p2.stderr[-2000:]}")
    return t1 + t2, max(m1, m2), headline_values(provenance_payload(nbformat.read(out_nb, as_version=4)) or {})


def plain_loop(codes: list[str], concurrency: int, tmp: Path, env: dict) -> dict:
    start = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        done = list(pool.map(lambda code: plain_report(code, tmp, env), codes))
    wall = time.perf_counter() - start
    return {"reports": len(codes), "seconds": wall, "per_report": wall / len(codes),
            # an upper bound: the largest per-command peaks, as many as run at once, added up
            "peak_rss": sum(sorted((m for _, m, _ in done), reverse=True)[:concurrency]),
            "numbers": {code: numbers for code, (_, _, numbers) in zip(codes, done)}}


def batch(executor: str, workers: int, manifest: Path, out: Path, env: dict) -> dict:
    cmd = [sys.executable, "-m", "analysis", "run", "council_profile", "--batch", str(manifest), "--out", str(out),
           "--executor", executor, "--workers", str(workers), "--no-progress"]
    seconds, peak, proc = timed(cmd, env)
    if proc.returncode != 0:
        raise RuntimeError(f"batch ({executor}) failed:\n{proc.stderr[-3000:]}")
    run_dir = next(p for p in out.iterdir() if p.is_dir() and not p.is_symlink())
    summary = json.loads((run_dir / "run.json").read_text())
    n = len(summary["reports"])
    return {"reports": n, "seconds": seconds, "per_report": seconds / n, "peak_rss": peak,
            "failed": [r["slug"] for r in summary["reports"] if r["status"] != "ok"],
            "numbers": {r["overrides"]["council_code"]: {h["key"]: h["value"] for h in r["headlines"]}
                        for r in summary["reports"]}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reports", type=int, default=150, help="councils in each batch run")
    parser.add_argument("--baseline-reports", type=int, default=8, help="councils in the parallel plain loop")
    parser.add_argument("--serial-reports", type=int, default=3, help="councils in the serial plain loop (0: skip)")
    parser.add_argument("--floor-reports", type=int, default=12, help="councils timed in process")
    parser.add_argument("--workers", type=int, default=None, help="concurrency of every method (default: cores)")
    parser.add_argument("--executors", default="processes,dask", help="batch executors to run, comma-separated")
    parser.add_argument("--floor", nargs="+", help=argparse.SUPPRESS)  # internal: the in-process floor
    args = parser.parse_args()
    if args.floor:
        return floor_main(args.floor)

    workers = args.workers or len(os.sched_getaffinity(0))
    executors = [e for e in args.executors.split(",") if e]
    lookup = data.load("council_lookup")
    codes = lookup[lookup["last_year"] == lookup["last_year"].max()]["ons_code"].tolist()[: args.reports]
    env = {**os.environ, "MPLBACKEND": "Agg"}
    rows: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as tmp:
        tmp = Path(tmp)
        manifest = tmp / "councils.csv"
        manifest.write_text("council_code\n" + "\n".join(codes) + "\n")
        for executor in executors:
            rows[f"batch runner ({executor}, warm kernels)"] = batch(executor, workers, manifest,
                                                                     tmp / f"batch-{executor}", env)
        rows[f"plain loop, {workers} at a time"] = plain_loop(codes[: args.baseline_reports], workers, tmp, env)
        if args.serial_reports:
            rows["plain loop, serial"] = plain_loop(codes[: args.serial_reports], 1, tmp, env)
        seconds, peak, proc = timed([sys.executable, __file__, "--floor", *codes[: args.floor_reports]], env)
        if proc.returncode != 0:
            print(proc.stderr[-3000:])
            return 1
        floor = json.loads(proc.stdout.strip().splitlines()[-1])
    cpu = statistics.mean(floor["cpu"])
    rows[f"in-process floor (CPU / {workers})"] = {
        "reports": len(floor["cpu"]), "seconds": sum(floor["wall"]), "per_report": cpu / workers,
        "peak_rss": peak, "numbers": floor["numbers"], "cpu_per_report": cpu,
        "wall_per_report_one_core": statistics.mean(floor["wall"])}

    print(f"machine: {os.cpu_count()} cores visible, {len(os.sched_getaffinity(0))} usable; concurrency {workers}; "
          f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())} at the end")
    print(f"{'method':<42}{'reports':>8}{'wall (s)':>10}{'s/report':>10}{'reports/min':>13}{'peak RSS':>11}")
    for name, row in rows.items():
        print(f"{name:<42}{row['reports']:>8}{row['seconds']:>10.1f}{row['per_report']:>10.2f}"
              f"{60 / row['per_report']:>13.1f}{row['peak_rss'] / 2**30:>9.2f}GB")
    parallel = rows[f"plain loop, {workers} at a time"]["per_report"]
    serial = rows["plain loop, serial"]["per_report"] if args.serial_reports else None
    floor_row = rows[f"in-process floor (CPU / {workers})"]
    print(f"in-process floor: {floor_row['cpu_per_report']:.2f} s CPU a report "
          f"({floor_row['wall_per_report_one_core']:.2f} s wall on one core), so at best "
          f"{floor_row['per_report']:.2f} s a report on {workers} cores")
    for name, row in rows.items():
        if not name.startswith("batch"):
            continue
        per = row["per_report"]
        print(f"{name}:")
        print(f"  against the parallel plain loop: {parallel / per:.1f}x the throughput; "
              f"takes {per / parallel:.1%} of its time a report")
        if serial:
            print(f"  against the serial plain loop:   {serial / per:.1f}x the throughput; "
                  f"takes {per / serial:.1%} of its time a report")
        print(f"  against the in-process floor:    {per / floor_row['per_report']:.1f}x the floor's time "
              f"(executor overhead {per - floor_row['per_report']:.2f} s a report)")
        if row["failed"]:
            print(f"  FAILED reports: {row['failed']}")

    mismatches = []
    reference_name = next(iter(rows))
    reference = rows[reference_name]["numbers"]
    for name, row in rows.items():
        for code, numbers in row["numbers"].items():
            if code in reference and numbers != reference[code]:
                mismatches.append(f"{name}: {code}")
    compared = {name: sum(code in reference for code in row["numbers"]) for name, row in rows.items()}
    print(f"same headline numbers as {reference_name}: "
          f"{'yes' if not mismatches else 'NO, differ for ' + ', '.join(mismatches)} "
          f"(councils compared: {', '.join(f'{n} {c}' for n, c in compared.items())})")
    results = ROOT / "benchmarks" / "results"
    results.mkdir(exist_ok=True)
    (results / "bench_batch.json").write_text(json.dumps({
        "workers": workers, "cores_usable": len(os.sched_getaffinity(0)), "mismatches": mismatches,
        "methods": {name: {k: v for k, v in row.items() if k != "numbers"} for name, row in rows.items()}},
        indent=2))
    failed = any(row.get("failed") for row in rows.values())
    return 0 if not mismatches and not failed else 1


if __name__ == "__main__":
    raise SystemExit(main())
