"""Benchmark: one report per council through the batch runner against a plain papermill + nbconvert loop.

Side by side, on the same machine and notebook (personal_budgets with council_code):

* the batch runner: ``python -m analysis run personal_budgets --batch manifest.csv``
  (warm-kernel process pool, default workers = cores);
* the plain loop: for each council, ``papermill ... -p council_code X`` then
  ``jupyter nbconvert --to html``, one after another.

It prints per-report time, throughput and their ratio, peak memory (sum of the
resident memory of the process tree, sampled from /proc), and checks that both
produce the same headline numbers for the councils run both ways. The plain
loop costs about 10 s a report, so by default it runs on a sample of councils
and its per-report time is used for the ratio; pass ``--baseline-reports 150``
to run it in full. Run: ``python benchmarks/bench_batch.py``.
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reports", type=int, default=150)
    parser.add_argument("--baseline-reports", type=int, default=6)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--executor", default="processes", choices=["processes", "dask", "serial"])
    args = parser.parse_args()

    lookup = data.load("council_lookup")
    codes = lookup[lookup["last_year"] == lookup["last_year"].max()]["ons_code"].tolist()[: args.reports]
    env = {**os.environ, "MPLBACKEND": "Agg"}
    bin_dir = Path(sys.executable).parent
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as tmp:
        tmp = Path(tmp)
        manifest = tmp / "councils.csv"
        manifest.write_text("council_code\n" + "\n".join(codes) + "\n")
        cmd = [sys.executable, "-m", "analysis", "run", "personal_budgets", "--batch", str(manifest), "--out",
               str(tmp / "batch"), "--executor", args.executor, "--no-progress"]
        if args.workers:
            cmd += ["--workers", str(args.workers)]
        batch_seconds, batch_mem, proc = timed(cmd, env)
        if proc.returncode != 0:
            print(proc.stderr[-3000:])
            return 1
        run_dir = next(p for p in (tmp / "batch").iterdir() if p.is_dir() and not p.is_symlink())
        summary = json.loads((run_dir / "run.json").read_text())
        batch_numbers = {r["overrides"]["council_code"]: {h["key"]: h["value"] for h in r["headlines"]}
                         for r in summary["reports"]}

        base_times, base_mem, mismatches = [], 0, []
        for code in codes[: args.baseline_reports]:
            out_nb = tmp / f"plain-{code}.ipynb"
            t1, m1, p1 = timed([str(bin_dir / "papermill"), str(ROOT / "notebooks" / "personal_budgets.ipynb"),
                                str(out_nb), "-p", "council_code", code, "--no-progress-bar", "--log-level", "ERROR",
                                "--cwd", str(ROOT / "notebooks")], env)
            t2, m2, p2 = timed([str(bin_dir / "jupyter"), "nbconvert", "--to", "html", "--log-level", "ERROR",
                                str(out_nb)], env)
            if p1.returncode or p2.returncode:
                print(p1.stderr[-2000:], p2.stderr[-2000:])
                return 1
            base_times.append(t1 + t2)
            base_mem = max(base_mem, m1, m2)
            plain = headline_values(provenance_payload(nbformat.read(out_nb, as_version=4)) or {})
            if plain != batch_numbers.get(code):
                mismatches.append(code)

    n = len(codes)
    batch_per = batch_seconds / n
    base_per = statistics.mean(base_times)
    ratio = base_per / batch_per
    print(f"{'method':<42}{'reports':>8}{'wall (s)':>10}{'s/report':>10}{'reports/min':>13}{'peak RSS':>11}")
    print(f"{'batch runner (' + args.executor + ', warm kernels)':<42}{n:>8}{batch_seconds:>10.1f}{batch_per:>10.2f}"
          f"{60 / batch_per:>13.1f}{batch_mem / 2**30:>9.2f}GB")
    print(f"{'plain loop (papermill + nbconvert CLI)':<42}{len(base_times):>8}{sum(base_times):>10.1f}"
          f"{base_per:>10.2f}{60 / base_per:>13.1f}{base_mem / 2**30:>9.2f}GB")
    print(f"throughput ratio: {ratio:.1f}x (target at least 10x); plain loop per report: min "
          f"{min(base_times):.2f}s, max {max(base_times):.2f}s")
    print(f"same numbers: {'yes' if not mismatches else 'NO, differ for ' + ', '.join(mismatches)} "
          f"({len(base_times)} councils compared)")
    failed = [r["slug"] for r in summary["reports"] if r["status"] != "ok"]
    if failed:
        print(f"batch failures: {failed}")
    results = ROOT / "benchmarks" / "results"
    results.mkdir(exist_ok=True)
    (results / "bench_batch.json").write_text(json.dumps({
        "reports": n, "batch_seconds": batch_seconds, "baseline_reports": len(base_times),
        "baseline_seconds_per_report": base_per, "ratio": ratio, "batch_peak_rss": batch_mem,
        "baseline_peak_rss": base_mem, "mismatches": mismatches, "executor": args.executor}, indent=2))
    return 0 if not mismatches and not failed else 1


if __name__ == "__main__":
    raise SystemExit(main())
