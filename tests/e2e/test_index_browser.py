"""The run index in a real browser: clicking a column heading sorts the council table.

The index of a council batch is the page a reader clicks: its table sorts by any column through a
small inline script that the page's Content-Security-Policy allows by hash and nothing else. The
test renders three council profiles through the real runner, opens the published ``index.html``
from disk in Debian's headless Chromium (Selenium, no download), clicks a numeric heading twice and
a text heading once, and checks the row order against the numbers and names in the run's own
``run.json``. A policy that blocked the script, or a script that sorted text as numbers, fails it.

Under ``CI=true`` a missing browser is a failure; elsewhere the test skips with the install command.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.test_explore_browser import browser_paths, chromium_session, token  # noqa: F401 (fixture)

pytestmark = [pytest.mark.e2e, pytest.mark.data]

# Barnsley, Hartlepool and Wirral: direct payments 29.2%, 31.4% and 7.7% (2023-24), so sorting the numbers
# as text ("29.2" < "31.4" < "7.7") gives a different order from sorting them as numbers.
COUNCILS = ["E08000016", "E06000001", "E08000015"]


@pytest.fixture(scope="module")
def batch_run(tmp_path_factory) -> Path:
    """Three council profiles rendered by ``python -m analysis run --batch``; the published run folder."""
    root = tmp_path_factory.mktemp("index-browser")
    manifest = root / "councils.csv"
    manifest.write_text("council_code\n" + "\n".join(COUNCILS) + "\n", encoding="utf-8")
    out = root / "reports"
    proc = subprocess.run([sys.executable, "-m", "analysis", "run", "council_profile", "--batch", str(manifest),
                           "--out", str(out), "--workers", "1", "--no-progress"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return (out / "latest").resolve()


def _rows(session) -> list[list[str]]:
    from selenium.webdriver.common.by import By

    table = session.find_element(By.ID, "report-table")
    return [[cell.get_attribute("data-sort") or cell.text for cell in row.find_elements(By.TAG_NAME, "td")]
            for row in table.find_elements(By.CSS_SELECTOR, "tbody tr")]


def test_clicking_a_heading_sorts_the_council_table(batch_run, token, tmp_path):  # noqa: F811
    from selenium.webdriver.common.by import By

    chromium, driver = browser_paths()
    summary = json.loads((batch_run / "run.json").read_text(encoding="utf-8"))
    # The direct-payments share of each council, as the run recorded it (the column the test sorts by).
    uptake = {}
    for report in summary["reports"]:
        values = {h["key"]: h["value"] for h in report["headlines"]}
        uptake[report["overrides"]["council_code"]] = values["profile_dp_users"]
    assert len(uptake) == len(COUNCILS)
    as_text = sorted(uptake.values(), key=lambda v: f"{v:.1f}")
    assert as_text != sorted(uptake.values())  # the data can tell a numeric sort from a text sort

    session = chromium_session(chromium, driver, tmp_path / "chromium-profile")
    try:
        session.get((batch_run / "index.html").as_uri())
        headings = session.find_elements(By.CSS_SELECTOR, "#report-table th.sortable")
        names = [h.text for h in headings]
        column = next(i for i, name in enumerate(names) if "direct payments" in name)
        before = _rows(session)
        assert [r[0] for r in before] and len(before) == len(COUNCILS)

        headings[column].click()
        ascending = [float(r[column]) for r in _rows(session)]
        assert ascending == sorted(uptake.values())  # numbers, not text, in the run's own values
        headings[column].click()
        assert [float(r[column]) for r in _rows(session)] == sorted(uptake.values(), reverse=True)

        headings[0].click()  # the report column sorts by council name, alphabetically
        by_name = [r[0] for r in _rows(session)]
        assert by_name == sorted(by_name, key=str.lower) and by_name[0].startswith("Barnsley")
    finally:
        session.quit()
