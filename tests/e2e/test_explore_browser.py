"""The dashboard in a real browser: Voila serves the VfM explorer, headless Chromium moves a control.

The test starts ``python -m analysis.explore serve``'s Voila on a free port on 127.0.0.1, drives
Debian's ``chromium`` through its ``chromedriver`` with Selenium (no browser is downloaded: both
paths are given), waits for the headline, changes the scenario and checks that the page then
shows the library's own headline for that scenario, computed here in the test process. Voila, its
kernels, chromedriver and Chromium carry a token in their environment, and none may be left
running afterwards.

Under ``CI=true`` a missing browser is a failure; elsewhere the test skips and says how to install
it (``make browser``). With ``ANALYSIS_SCREENSHOT=docs/explore.png`` (``make screenshot``) it also
saves the page as a small PNG for the README.
"""

from __future__ import annotations

import os
import shutil
import signal
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

from analysis import config
from tests.faults.harness import assert_no_stray_processes

pytestmark = [pytest.mark.e2e, pytest.mark.data]

INSTALL = "make browser  (Debian/Ubuntu: sudo apt-get install chromium chromium-driver)"
HEADLINE = ".explore-headline"
PAGE_TIMEOUT = 420  # first load: a kernel starts, imports the library, loads the data and simulates
UPDATE_TIMEOUT = 120
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                  "--window-size=1280,1500")


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def browser_paths() -> tuple[str, str]:
    """Chromium and chromedriver from the system; fail under CI, otherwise skip, when either is missing."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if chromium and driver:
        return chromium, driver
    missing = " and ".join(n for n, p in (("chromium", chromium), ("chromedriver", driver)) if not p)
    if _in_ci():
        pytest.fail(f"CI=true and {missing} not installed; install with: {INSTALL}")
    pytest.skip(f"{missing} not installed; install with: {INSTALL}")


@pytest.fixture
def token(monkeypatch):
    value = uuid.uuid4().hex
    monkeypatch.setenv("ANALYSIS_FAULT_TOKEN", value)  # inherited by Voila, its kernels, the driver and Chromium
    monkeypatch.setenv("SE_OFFLINE", "true")  # Selenium Manager never downloads anything
    yield value
    assert_no_stray_processes(value, timeout=60)


@pytest.fixture
def dashboard(token, tmp_path):
    """Voila serving the VfM explorer on a free port on 127.0.0.1; stopped (with its kernels) afterwards."""
    from analysis.explore import serve

    chromium_driver = browser_paths()  # before starting anything
    log = (tmp_path / "voila.log").open("w")
    process, url = serve.start("value_for_money", stdout=log, stderr=log)
    try:
        assert url.startswith("http://127.0.0.1:")
        deadline = time.monotonic() + 180
        while True:
            try:
                urllib.request.urlopen(url, timeout=5).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    pytest.fail("Voila did not start:\n" + (tmp_path / "voila.log").read_text()[-3000:])
                time.sleep(0.5)
        yield url, chromium_driver
    finally:
        try:
            os.killpg(process.pid, signal.SIGTERM)  # Voila shuts its kernels down on SIGTERM
            process.wait(timeout=60)
        except ProcessLookupError:
            pass
        except Exception:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
        log.close()


def chromium_session(chromium: str, driver: str, profile: Path):
    """A Selenium session on the system's headless Chromium through its chromedriver, with its own profile."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(executable_path=driver, env=dict(os.environ)), options=options)


@pytest.fixture
def browser(dashboard, tmp_path):
    url, (chromium, driver) = dashboard
    session = chromium_session(chromium, driver, tmp_path / "chromium-profile")
    try:
        yield session, url
    finally:
        session.quit()


def _headline(session) -> str:
    from selenium.webdriver.common.by import By

    found = session.find_elements(By.CSS_SELECTOR, HEADLINE)
    return found[0].text.strip() if found else ""


def _expected_headline(scenario: str) -> tuple[str, str]:
    """The report's headline label and number for ``scenario`` at the default parameters (the library's)."""
    from analysis.explore.vfm import headline_text
    from analysis.vfm import analysis as vfm
    from analysis.vfm.params import VfmParameters

    results = vfm.analyse(VfmParameters(scenario=scenario))
    return vfm.headline_total(results)["label"], headline_text(results)


def test_dashboard_shows_the_library_headline_and_follows_a_control(browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    from analysis.explore.vfm import SCENARIO_LABELS

    session, url = browser
    session.get(url)
    WebDriverWait(session, PAGE_TIMEOUT).until(lambda s: _headline(s), "the headline never appeared")
    label, number = _expected_headline("achieved")  # the default scenario
    first = _headline(session)
    assert first.splitlines() == [label, number]
    assert "explore.value_for_money()" not in session.page_source, "the dashboard must not show code"

    scenario = Select(session.find_element(By.CSS_SELECTOR, ".explore-control-scenario select"))
    started = time.monotonic()
    scenario.select_by_visible_text(SCENARIO_LABELS["match"])
    WebDriverWait(session, UPDATE_TIMEOUT).until(lambda s: _headline(s) not in ("", first),
                                                 "the headline did not change")
    seconds = time.monotonic() - started
    label, number = _expected_headline("match")
    assert _headline(session).splitlines() == [label, number]
    print(f"browser round trip for a scenario change: {seconds:.2f} s")

    links = session.find_elements(By.PARTIAL_LINK_TEXT, "Download the data")
    assert links and all(a.get_attribute("href").startswith("data:text/csv") for a in links)

    target = os.environ.get("ANALYSIS_SCREENSHOT")
    if target:
        time.sleep(2)  # let the charts arrive after the headline
        save_screenshot(session, config.project_root() / target)


def save_screenshot(session, path: Path, width: int = 960) -> Path:
    """The visible page, scaled to ``width`` pixels and reduced to a palette (a small PNG for the README)."""
    import io

    from PIL import Image

    image = Image.open(io.BytesIO(session.get_screenshot_as_png())).convert("RGB")
    height = round(image.height * width / image.width)
    small = image.resize((width, height), Image.LANCZOS).quantize(colors=64, method=Image.Quantize.MEDIANCUT)
    path.parent.mkdir(parents=True, exist_ok=True)
    small.save(path, optimize=True)
    return path
