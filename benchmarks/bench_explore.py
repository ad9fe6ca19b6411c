"""Benchmark: an explorer's update after its first load, against re-running the report for the same change.

For each explorer, side by side in one run on this machine:

* **in process**: the explorer is built (first load: imports, data, first computation), then its
  controls are moved as a researcher would (each move is one update: validation, the library
  computation and every table and chart redrawn); wall-clock and CPU seconds per update;
* **baseline**: what a researcher does today for the same change: re-run the whole report notebook
  with papermill (``papermill.execute_notebook`` with the changed parameter, a fresh kernel);
* **in the browser** (when Chromium and chromedriver are installed): Voila serves the VfM explorer,
  headless Chromium changes the scenario, and the time until the new headline shows is measured.

It prints, for each explorer, the median time to the **answer** (the headline numbers, words and
tables, which reach the page as soon as they are set) and to the **complete** update (charts
redrawn last), the CPU seconds of an update, the baseline and the ratio of the baseline to the
complete update; and the machine's load average (the machine may be shared: CPU seconds say what an
update costs regardless). It exits 1 if an explorer's median answer takes a second or more.
Run: ``python benchmarks/bench_explore.py`` (``--no-baseline``, ``--no-browser``,
``--explorers value_for_money unit_costs``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("MPLBACKEND", "Agg")

from analysis import explore  # noqa: E402

# Each explorer: its factory, the report notebook and parameter for the baseline, and the moves.
PLANS = {
    "value_for_money": {
        "notebook": "nao_vfm_risk", "baseline": {"scenario": "achieved"},
        "moves": [("scenario", "achieved"), ("scenario", "target"), ("scenario", "match"),
                  ("annual_contract_value_gbp_m", 600.0), ("annual_contract_value_gbp_m", 1200.0),
                  ("annual_contract_value_gbp_m", None), ("seed", 1), ("seed", 20110624),
                  ("failure_proxy_measure", "involuntary closures"), ("failure_proxy_measure", "every measure"),
                  ("contract_value_uncertainty", 0.2), ("contract_value_uncertainty", 0.1)],
    },
    "council_profile": {
        "notebook": "council_profile", "baseline": {"council_code": "E08000035"},
        "moves": [("council", "Leeds (E08000035)"), ("council", "Cornwall (E06000052)"), ("council", "Camden"),
                  ("council", "E08000016"), ("years", (2020, 2024)), ("years", (2018, 2024)),
                  ("measures", ("dp_users", "feel_safe", "control_daily_life")),
                  ("measures", ("control_daily_life", "scrqol", "satisfaction_users", "dp_users", "sds_users"))],
    },
    "staff_survey": {
        "notebook": "mutuals_vs_inhouse", "baseline": {"focus_organisation": "RX3"},
        "moves": [("item", "enough_staff"), ("item", "autonomy"), ("organisation", "RX3"), ("organisation", "NQL"),
                  ("comparison", "mental health"), ("comparison", "community"), ("item", "burnout"),
                  ("item", "stress")],
    },
    "unit_costs": {
        "notebook": "provision_costs", "baseline": {"services": ["home_care"]},
        "moves": [("service", "home_care"), ("service", "day_ld"), ("years", ("2010-11", "2013-14")),
                  ("years", ("2008-09", "2013-14")), ("real_terms_base", "2020-21"), ("real_terms_base", "2013-14"),
                  ("service", "residential_older"), ("include_2014_15", False)],
    },
}


def load_average() -> str:
    try:
        return " ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def in_process(name: str) -> dict:
    started_wall, started_cpu = time.perf_counter(), time.process_time()
    explorer = explore.EXPLORERS[name]()
    first = time.perf_counter() - started_wall, time.process_time() - started_cpu
    walls, cpus, answers = [], [], []
    for control, value in PLANS[name]["moves"]:
        wall, cpu = time.perf_counter(), time.process_time()
        explorer.controls[control].value = value
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
        answers.append(explorer.answer_seconds)
        if explorer.error:
            raise SystemExit(f"{name}: moving {control} to {value!r} was rejected: {explorer.error}")
    return {"first": first, "walls": walls, "cpus": cpus, "answers": answers}


def baseline(name: str) -> float:
    import papermill

    plan = PLANS[name]
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        papermill.execute_notebook(str(ROOT / "notebooks" / f"{plan['notebook']}.ipynb"),
                                   str(Path(folder) / "out.ipynb"), parameters=plan["baseline"],
                                   kernel_name="python3", progress_bar=False, cwd=str(ROOT / "notebooks"))
        return time.perf_counter() - started


def browser_round_trips(changes: int = 6) -> list[float] | str:
    """Seconds from choosing a scenario in headless Chromium to the new headline on the page."""
    import shutil
    import signal
    import urllib.request

    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver):
        return "skipped: chromium/chromedriver not installed (make browser)"
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    from analysis.explore import serve
    from analysis.explore.vfm import SCENARIO_LABELS

    os.environ["SE_OFFLINE"] = "true"
    process, url = serve.start("value_for_money", stdout=open(os.devnull, "w"), stderr=open(os.devnull, "w"))
    session = None
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                urllib.request.urlopen(url, timeout=5).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    return "skipped: Voila did not start"
                time.sleep(0.5)
        options = webdriver.ChromeOptions()
        options.binary_location = chromium
        for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                     f"--user-data-dir={tempfile.mkdtemp(prefix='bench-chromium-')}"):
            options.add_argument(flag)
        session = webdriver.Chrome(service=Service(executable_path=driver), options=options)

        def headline() -> str:
            found = session.find_elements(By.CSS_SELECTOR, ".explore-headline")
            return found[0].text if found else ""

        session.get(url)
        WebDriverWait(session, 420).until(lambda s: headline())
        times = []
        order = ["achieved", "target", "match"]
        for i in range(changes):
            before = headline()
            select = Select(session.find_element(By.CSS_SELECTOR, ".explore-control-scenario select"))
            started = time.perf_counter()
            select.select_by_visible_text(SCENARIO_LABELS[order[i % 3]])
            WebDriverWait(session, 120, poll_frequency=0.02).until(
                lambda s, before=before: headline() not in ("", before))
            times.append(time.perf_counter() - started)
            time.sleep(1.5)  # let the charts of this update arrive before the next move
        return times
    finally:
        if session is not None:
            session.quit()
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=60)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--explorers", nargs="*", default=list(PLANS), choices=list(PLANS))
    parser.add_argument("--no-baseline", action="store_true", help="skip the papermill re-runs")
    parser.add_argument("--no-browser", action="store_true", help="skip the Chromium round trip")
    args = parser.parse_args()
    print(f"Load average at start (1, 5, 15 min): {load_average()} on {os.cpu_count()} cores")
    slow = []
    for name in args.explorers:
        result = in_process(name)
        walls, cpus, answers = result["walls"], result["cpus"], result["answers"]
        median = statistics.median(walls)
        answer = statistics.median(answers)
        line = (f"{name:16s} first load {result['first'][0]:5.1f} s | {len(walls)} updates, median: answer "
                f"{answer:.2f} s, complete {median:.2f} s wall ({statistics.median(cpus):.2f} s CPU); slowest "
                f"complete {max(walls):.2f} s")
        if not args.no_baseline:
            base = baseline(name)
            line += f" | papermill re-run of {PLANS[name]['notebook']}: {base:5.1f} s, {base / median:4.0f}x"
        print(line, flush=True)
        if answer >= 1.0:
            slow.append(name)
    if not args.no_browser:
        trips = browser_round_trips()
        if isinstance(trips, str):
            print(f"Browser round trip: {trips}")
        else:
            print(f"Browser round trip (VfM scenario change to new headline, headless Chromium + Voila): median "
                  f"{statistics.median(trips):.2f} s, slowest {max(trips):.2f} s over {len(trips)} changes")
    print(f"Load average at end: {load_average()}")
    if slow:
        print(f"Median answer a second or more: {', '.join(slow)}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
