"""greatgame dashboard (sim.viz.dashboard): the data behind it, the page in headless Chromium."""

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import DATA, mini_results, mini_sweep_spec, serial_sweep
from test_report import _chromium  # the one rule for finding Chromium (GREATGAME_REQUIRE_CHROMIUM)

from sim.cli import main

CHROMEDRIVER = Path("/usr/bin/chromedriver")
SCREENSHOT = Path(__file__).resolve().parent.parent / "docs" / "figures" / "dashboard.png"
"""Written when GREATGAME_SCREENSHOT=1 (the README shows it)."""
STATES = ("Alpha", "Beta", "Gamma")  # the state names of tests/data/mini.yaml
SWEPT = "powers.north.strategy.threat_intensity"  # what conftest's mini sweep varies


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    return mini_results(tmp_path_factory.mktemp("dashboard") / "mini")


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    """A complete sweep folder of mini.yaml: 2 points of North's threat intensity, 2 replicates."""
    folder = tmp_path_factory.mktemp("dashboard-sweep")
    table = serial_sweep(mini_sweep_spec(folder, seed=5, samples=2), folder / "out")
    return folder / "out", table


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
    rows = event_rows(advanced(settings, 5))
    assert [e["id"] for e in rows if e["type"] != "decision"] == ["package"]  # dated 2022-05
    decisions = [e for e in rows if e["type"] == "decision"]
    assert all(e["who"] in ("alpha", "beta", "gamma") and e["why"] for e in decisions)


def _long(finals: list[float], steps: int = 3) -> pd.DataFrame:
    """A long table whose run k ends with alignment ``finals[k]`` of alpha to north.

    The earlier records run the other way round, and other pairs and variables get other
    values: only the last record of the pair may count.
    """
    rows = []
    for run, final in enumerate(finals):
        for step in range(steps):
            value = final if step == steps - 1 else 1.0 - final
            for state, power, variable, v in (
                ("alpha", "north", "alignment", value),
                ("alpha", "east", "alignment", 1.0 - value),
                ("beta", "north", "alignment", 0.5),
                ("alpha", "north", "trust", 1.0 - value),
                ("alpha", None, "hedging", 1.0 - value),
            ):
                rows.append(
                    (run, 100 + run, step, f"2022-{step + 1:02d}", state, power, variable, v)
                )
    table = pd.DataFrame(
        rows, columns=["run", "seed", "step", "date", "state", "power", "variable", "value"]
    )
    for col in ("date", "state", "power", "variable"):
        table[col] = table[col].astype("category")  # as in sim.results.tables.long_table
    return table


def test_the_edge_runs_of_a_fan_are_the_known_order_statistics_of_final_alignment():
    from sim.results.tables import COLUMNS
    from sim.viz.dashboard import Replay, edge_runs

    assert tuple(_long([0.5]).columns) == COLUMNS
    finals = [(5 * k % 21) / 20 for k in range(21)]  # a permutation: run 17 is second lowest
    runs = [Replay(f"run {k} (seed {100 + k})", 100 + k) for k in range(21)]
    edges = edge_runs(_long(finals), runs, "alpha", "north")
    assert [(label, run.seed, value) for label, run, value in edges] == [
        ("lowest", 100, 0.0),
        ("5th percentile", 117, 0.05),  # position round(0.05 * 20) = 1
        ("median", 102, 0.5),  # position 10
        ("95th percentile", 108, 0.95),  # position 19
        ("highest", 104, 1.0),
    ]
    # three runs: the percentiles fall on the extremes, and each run is listed once
    three = edge_runs(_long([0.7, 0.2, 0.4]), runs[:3], "alpha", "north")
    assert [(label, run.seed) for label, run, _ in three] == [
        ("lowest, 5th percentile", 101),
        ("median", 102),
        ("95th percentile, highest", 100),
    ]
    # the table's runs past the listed ones are left out; a pair without rows has no edges
    two = edge_runs(_long([0.7, 0.2, 0.4]), runs[:2], "alpha", "north")
    assert [run.seed for _, run, _ in two] == [101, 100]
    assert edge_runs(_long([0.7, 0.2]), runs[:2], "gamma", "north") == []


def test_the_edge_runs_of_recorded_runs_end_where_the_recording_does(results):
    from sim.viz.dashboard import edge_runs, open_source

    source = open_source(results)
    edges = edge_runs(source.recorded, list(source.runs), "beta", "east")
    table = source.recorded
    final = table[
        (table["variable"] == "alignment")
        & (table["state"] == "beta")
        & (table["power"] == "east")
        & (table["step"] == table["step"].max())
    ].set_index("run")["value"]
    assert [label for label, _, _ in edges] == [
        "lowest, 5th percentile",
        "median",
        "95th percentile, highest",
    ]
    order = final.sort_values().index.tolist()
    assert [run for _, run, _ in edges] == [source.runs[k] for k in order]
    assert [value for _, _, value in edges] == final.loc[order].tolist()


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
def start_dashboard(tmp_path):
    """``start(source)`` runs ``greatgame dashboard SOURCE`` and gives its URL once it listens.

    Every server started is stopped at the end, with all it started (its process group).
    """
    started: list[subprocess.Popen] = []

    def start(source: Path) -> str:
        port = _free_port()
        log = tmp_path / f"dashboard-{len(started)}.log"
        command = [sys.executable, "-m", "sim.cli", "dashboard", str(source)]
        with log.open("w") as out:
            proc = subprocess.Popen(
                [*command, "--port", str(port), "--no-browser"],
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: killed whole below
            )
        started.append(proc)
        _wait_for_port(port, proc, log)
        return f"http://127.0.0.1:{port}/"

    try:
        yield start
    finally:
        for proc in started:
            _stop(proc)
    assert all(proc.poll() is not None for proc in started)


@pytest.fixture
def dashboard(start_dashboard):
    """The dashboard on tests/data/mini.yaml."""
    return start_dashboard(DATA / "mini.yaml")


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


def _texts(driver, css: str) -> list[str] | None:
    """The texts of the elements matching ``css`` as written, not as styled (Vuetify writes tab
    labels in capitals); None while the page redraws them."""
    from selenium.common.exceptions import StaleElementReferenceException

    try:
        found = driver.find_elements("css selector", css)
        return [" ".join(e.get_attribute("textContent").split()) for e in found]
    except StaleElementReferenceException:
        return None


def _tab(driver) -> str | None:
    """The label of the tab shown."""
    texts = _texts(driver, "[role='tab'][aria-selected='true']")
    return texts[0] if texts else None


def _click(driver, xpath: str) -> None:
    """Click the element at ``xpath`` once it is there (again if the page redrew it)."""
    from selenium.common.exceptions import StaleElementReferenceException

    def click(d) -> bool:
        try:
            found = d.find_elements("xpath", xpath)
            if not found or not found[0].is_enabled():
                return False
            found[0].click()
            return True
        except StaleElementReferenceException:
            return False

    _until(driver, click)


def _step(driver) -> None:
    _click(driver, "//button[.//*[text()='Step']]")


def _open_ensemble(driver) -> None:
    _click(driver, "//*[@role='tab'][normalize-space()='Ensemble']")
    _until(driver, lambda d: _tab(d) == "Ensemble" and _src(d, "gg-fan"))


def _replay_edge(driver, label: str) -> str:
    """Click Replay on the first edge run whose label starts with ``label``; its run's label."""
    rows = _until(driver, lambda d: _texts(d, ".gg-edge-label"))
    index = next(i for i, row in enumerate(rows) if row.startswith(label))
    found = re.search(r": (run .*\(seed \d+\)), final alignment", rows[index])
    assert found, rows[index]
    row = "//*[contains(concat(' ', normalize-space(@class), ' '), ' gg-edge ')]"
    _click(driver, f"({row})[{index + 1}]//button")
    return found[1]


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
    # our tabs and cards, not SolaraViz's "Page 0", "Page 1" and its empty "Model Parameters"
    assert _texts(driver, "[role='tab']") == ["Single run", "Ensemble"]
    assert _tab(driver) == "Single run"
    written = _texts(driver, "body")[0]
    for text in ("Page 0", "Page 1", "Model Parameters", "Information"):
        assert text not in written
    assert "greatgame dashboard: mini" in driver.title
    assert "Controls" in written and "Knobs (rerun at once)" in written
    assert _src(driver, "gg-heatmap").startswith("data:image/png;base64,")
    assert _src(driver, "gg-trajectories")
    for month in (1, 2, 3, 4):
        _step(driver)
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
    assert "Events and decisions of 2022-04" in (body.text + driver.page_source)
    if os.environ.get("GREATGAME_SCREENSHOT") == "1":
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(SCREENSHOT))


def test_an_edge_run_of_the_fan_replays_in_the_single_run_tab(browser, dashboard):
    from sim.input.scenario import load_scenario
    from sim.model.engines import simulate
    from sim.results.runner import replicate_seeds
    from sim.results.tables import long_table
    from sim.viz.dashboard import Replay, edge_runs

    driver = browser
    driver.get(dashboard)
    _until(driver, lambda d: _src(d, "gg-heatmap"))
    for month in range(1, 13):  # to the end (Step is disabled then): the replay goes back
        _step(driver)
        _until(driver, lambda d, m=month: f"(month {m} of 12)" in _status(d))
    _open_ensemble(driver)
    # the edges of the first state and power over the 50 replicates of root seed 0
    seeds = replicate_seeds(0, 50)
    batch = simulate([load_scenario(DATA / "mini.yaml").scenario] * 50, seeds, engine="ensemble")
    runs = [Replay(f"run {i} (seed {s})", s) for i, s in enumerate(seeds)]
    expected = edge_runs(long_table(batch), runs, "alpha", "north")
    rows = _until(driver, lambda d: _texts(d, ".gg-edge-label"))
    assert rows == [f"{lab}: {run.label}, final alignment {v:.3f}" for lab, run, v in expected]
    assert len(rows) == 5  # 50 runs: five distinct edges
    label = _replay_edge(driver, "median")
    median = next(run for lab, run, _ in expected if lab == "median")
    assert label == median.label == f"run {runs.index(median)} (seed {median.seed})"
    _until(driver, lambda d: _tab(d) == "Single run" and f"replay of {label}" in _status(d))
    assert "(month 0 of 12)" in _status(driver)
    _step(driver)
    _until(driver, lambda d: "(month 1 of 12)" in _status(d))
    assert f"replay of {label}" in _status(driver)


def test_a_sweep_point_shows_its_fan_and_replays_with_its_values(browser, start_dashboard, sweep):
    folder, table = sweep
    values = table.groupby("point")[SWEPT].first()
    assert values[0] != values[1]
    driver = browser
    driver.get(start_dashboard(folder))
    _until(driver, lambda d: f"{SWEPT} = {values[0]:g}" in _status(d))  # run 0 to begin with
    _open_ensemble(driver)
    assert "the 2 replicates of sweep point 0" in _texts(driver, ".gg-note")[0]
    _click(
        driver,
        "//*[contains(@class, 'v-select')][.//label[text()='sweep point']]//*[@role='button']",
    )
    menu = "//*[contains(@class, 'menuable__content__active')]"
    _click(driver, f"{menu}//*[contains(@class, 'v-list-item')][normalize-space()='1']")
    _until(
        driver,
        lambda d: "sweep point 1" in ((_texts(d, ".gg-note") or [""])[0]) and _src(d, "gg-fan"),
    )
    label = _replay_edge(driver, "lowest")
    run = int(re.match(r"run (\d+)", label)[1])
    assert table.loc[table["run"] == run, "point"].item() == 1
    _until(driver, lambda d: _tab(d) == "Single run" and f"replay of {label}" in _status(d))
    status = _status(driver)
    assert f"{SWEPT} = {values[1]:g}" in status and "(month 0 of 12)" in status
