"""greatgame dashboard (sim.viz.dashboard): the data behind it, the page in headless Chromium."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import DATA, mini_results
from test_report import _chromium  # the one rule for finding Chromium (GREATGAME_REQUIRE_CHROMIUM)

from sim.cli import main

CHROMEDRIVER = Path("/usr/bin/chromedriver")
SCREENSHOT = Path(__file__).resolve().parent.parent / "docs" / "figures" / "dashboard.png"
"""Written when GREATGAME_SCREENSHOT=1 (the README shows it)."""
STATES = ("Alpha", "Beta", "Gamma")  # the state names of tests/data/mini.yaml


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    return mini_results(tmp_path_factory.mktemp("dashboard") / "mini")


def test_without_the_dashboard_extra_it_says_what_to_install(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "solara", None)  # as if not installed: find_spec gives None
    assert main(["dashboard", str(DATA / "mini.yaml"), "--no-browser"]) == 2
    err = capsys.readouterr().err
    assert "install the dashboard extra: pip install 'greatgame[dashboard]'" in err
    assert "Traceback" not in err


def test_bad_input_fails_before_the_server_starts(tmp_path, capsys):
    assert main(["dashboard", str(tmp_path / "missing.yaml"), "--no-browser"]) == 2
    assert main(["dashboard", str(tmp_path), "--no-browser"]) == 2  # an empty folder
    assert "expected" in capsys.readouterr().err


def test_a_recorded_run_replays_from_its_seed(results):
    from sim.results.tables import long_table
    from sim.viz.dashboard import Settings, advanced, open_source

    source = open_source(results)
    assert source.kind == "results" and len(source.runs) == 3
    run = source.runs[1]
    model = advanced(Settings.replay(source, run), 10_000)  # to the end
    assert model.seed == run.seed and not model.running
    replayed = long_table(model.record())
    recorded = source.recorded[source.recorded["run"] == 1]
    for table in (replayed, recorded):
        assert set(table["seed"]) == {run.seed}
    a = replayed[replayed["variable"] == "alignment"]["value"].to_numpy()
    b = recorded[recorded["variable"] == "alignment"]["value"].to_numpy()
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-9)


def test_a_knob_reruns_the_scenario_and_the_month_shows_spending_and_events():
    from sim.viz.dashboard import Settings, advanced, event_rows, knobs, open_source, spending

    source = open_source(DATA / "mini.yaml")
    settings = Settings.first(source)
    assert settings.changed() == {}
    paths = [k.path for ks in knobs(source.loaded.scenario).values() for k in ks]
    assert set(paths) == set(settings.values)
    before = advanced(settings, 5)
    settings.values["powers.east.monthly_budget"] = 0.0
    after = advanced(settings, 5)
    assert settings.changed() == {"powers.east.monthly_budget": 0.0}
    assert after.spec.powers[1].monthly_budget == 0.0 and after.steps == 5
    assert not np.allclose(before.world.alignment, after.world.alignment)
    table = spending(advanced(settings, 3))  # 2022-03: no aid package (East's is in May)
    assert list(table.columns) == ["power", "lever", *STATES, "total"]
    east = table[(table["power"] == "East") & (table["lever"] != "threat level")]
    assert (east["total"] == 0).all()
    assert (table[table["power"] == "North"]["total"] > 0).any()
    assert [e["id"] for e in event_rows(advanced(settings, 5))] == ["package"]  # dated 2022-05


# --- the page in a browser ---------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_port(port: int, proc: subprocess.Popen, log: Path, limit: float = 90.0) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the dashboard exited ({proc.returncode}):\n{log.read_text()[-3000:]}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.25)
    pytest.fail(f"the dashboard did not listen on port {port} in {limit:.0f} s:\n{log.read_text()}")


def _stop(proc: subprocess.Popen) -> None:
    """End the server and everything it started (its own process group)."""
    for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 15)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(timeout=wait)
            break
        except subprocess.TimeoutExpired:
            continue


@pytest.fixture
def browser(tmp_path):
    chromium = _chromium()
    if chromium is None or not CHROMEDRIVER.exists():
        if os.environ.get("GREATGAME_REQUIRE_CHROMIUM") == "1":
            pytest.fail(f"GREATGAME_REQUIRE_CHROMIUM=1 but no chromium or no {CHROMEDRIVER}")
        pytest.skip(
            f"chromium or {CHROMEDRIVER} is not installed (apt-get install chromium "
            "chromium-driver; set GREATGAME_REQUIRE_CHROMIUM=1 to require them)"
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1400,1000",
        f"--user-data-dir={tmp_path / 'profile'}",
    ):
        options.add_argument(flag)
    # the driver given explicitly: selenium-manager (which downloads drivers) is never run
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    yield driver
    driver.quit()


@pytest.fixture
def dashboard(tmp_path):
    port = _free_port()
    log = tmp_path / "dashboard.log"
    command = [sys.executable, "-m", "sim.cli", "dashboard", str(DATA / "mini.yaml")]
    with log.open("w") as out:
        proc = subprocess.Popen(
            [*command, "--port", str(port), "--no-browser"],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: killed whole below
        )
    try:
        _wait_for_port(port, proc, log)
        yield f"http://127.0.0.1:{port}/"
    finally:
        _stop(proc)
    assert proc.poll() is not None


def _until(driver, what, limit: float = 60.0):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, limit, poll_frequency=0.25).until(lambda d: what(d))


def _src(driver, css: str) -> str | None:
    from selenium.common.exceptions import StaleElementReferenceException

    try:  # the page redraws while it is read: a stale element reads as not there yet
        found = driver.find_elements("css selector", f"img.{css}")
        return found[0].get_attribute("src") if found else None
    except StaleElementReferenceException:
        return None


def _status(driver) -> str:
    from selenium.common.exceptions import StaleElementReferenceException

    try:
        found = driver.find_elements("css selector", ".gg-status")
        return found[0].text if found else ""
    except StaleElementReferenceException:
        return ""


def test_the_page_shows_the_states_and_a_slider_changes_the_figures(browser, dashboard):
    from selenium.webdriver.common.keys import Keys

    driver = browser
    driver.get(dashboard)
    body = _until(
        driver,
        lambda d: (
            _src(d, "gg-heatmap")
            and all(s in d.find_element("tag name", "body").text for s in STATES)
            and d.find_element("tag name", "body")
        ),
    )
    assert _src(driver, "gg-heatmap").startswith("data:image/png;base64,")
    assert _src(driver, "gg-trajectories")
    for month in (1, 2, 3, 4):
        step = _until(driver, lambda d: d.find_element("xpath", "//button[.//*[text()='Step']]"))
        step.click()
        _until(driver, lambda d, m=month: f"(month {m} of 12)" in _status(d))
    heatmap, lines = _src(driver, "gg-heatmap"), _src(driver, "gg-trajectories")
    slider = driver.find_elements("css selector", ".gg-knobs [role='slider']")[-1]  # the noise
    before = slider.get_attribute("aria-valuenow")
    slider.send_keys(Keys.END)  # the most noise (a budget moves this small scenario too little)
    _until(driver, lambda d: _src(d, "gg-heatmap") not in (None, heatmap))
    assert "model.noise = 0.5" in _status(driver)
    assert "(month 4 of 12)" in _status(driver)  # rerun up to the month shown
    assert _src(driver, "gg-trajectories") != lines
    slider = driver.find_elements("css selector", ".gg-knobs [role='slider']")[-1]
    assert slider.get_attribute("aria-valuenow") != before
    assert "Events of 2022-04" in body.text or "Events of 2022-04" in driver.page_source
    if os.environ.get("GREATGAME_SCREENSHOT") == "1":
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(SCREENSHOT))
