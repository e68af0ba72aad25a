"""The HTML report (sim.viz.report, greatgame report), rendered in headless Chromium."""

import base64
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser

import pytest
import yaml
from conftest import DATA, mini_results, write_yaml

from sim.cli import main


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    return mini_results(tmp_path_factory.mktemp("report") / "mini")


@pytest.fixture(scope="module")
def report(results):
    path = results.parent / "mini.html"
    assert main(["report", str(results), "-o", str(path), "-q"]) == 0
    return path


def test_report_is_self_contained_with_question_parameters_events_and_manifest(report):
    text = report.read_text(encoding="utf-8")
    assert "Does a threat from one power push a small state toward the other?" in text
    images = re.findall(r'<img [^>]*src="data:image/png;base64,([^"]+)"', text)
    assert len(images) == 5  # alignment, influence, hedging, responses, heatmaps
    for data in images:
        assert base64.b64decode(data)[:8] == b"\x89PNG\r\n\x1a\n"
    # no external resource of any kind
    assert not re.search(r'(src|href)="(https?:)?//', text)
    assert "<link" not in text and "<script" not in text
    for heading in ("Observables", "Event log", "Parameters and their provenance", "Manifest"):
        assert f"<h2>{heading}</h2>" in text
    assert "powers.north.credibility" in text  # parameters listed by path
    assert (
        "alpha asks north: honoured" in text or "alpha asks north: refused" in text
    )  # the event log
    assert "&quot;root_seed&quot;: 2" in text  # the manifest (escaped)


def test_report_refuses_to_overwrite_without_force(results, report, capsys):
    before = report.read_bytes()
    assert main(["report", str(results), "-o", str(report)]) == 2
    assert "--force" in capsys.readouterr().err
    assert report.read_bytes() == before
    assert main(["report", str(results), "-o", str(report), "--force", "-q"]) == 0
    assert not [p for p in report.parent.iterdir() if p.name.startswith(".tmp-")]


def test_report_needs_a_results_folder(tmp_path, capsys):
    assert main(["report", str(tmp_path)]) == 2
    assert "expected a results folder" in capsys.readouterr().err


def _chromium() -> str | None:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None and os.environ.get("GREATGAME_REQUIRE_CHROMIUM") == "1":
        pytest.fail("GREATGAME_REQUIRE_CHROMIUM=1 but no chromium on PATH")
    return found


def _flags(tmp_path) -> list[str]:
    """Headless Chromium with a throwaway profile, nothing fetched from the network."""
    chromium = _chromium()
    if chromium is None:
        pytest.skip("chromium is not installed (set GREATGAME_REQUIRE_CHROMIUM=1 to require it)")
    return [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--run-all-compositor-stages-before-draw",
        "--virtual-time-budget=5000",
    ]


def test_report_renders_in_headless_chromium(report, tmp_path):
    flags = _flags(tmp_path)
    url = report.resolve().as_uri()
    # an image that decoded has a natural width; the script writes it into the title
    probe = tmp_path / "probe.html"
    probe.write_text(
        report.read_text(encoding="utf-8").replace(
            "</body>",
            "<script>window.onload=()=>{const w=[...document.images].map(i=>i.naturalWidth);"
            "document.title='widths:'+w.join(',');}</script></body>",
        ),
        encoding="utf-8",
    )
    dom = subprocess.run(
        [*flags, "--dump-dom", probe.resolve().as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    widths = re.search(r"<title>widths:([\d,]*)</title>", dom)
    assert widths, dom[:500]
    values = [int(w) for w in widths.group(1).split(",")]
    assert len(values) == 5 and min(values) > 300  # every figure decoded and has its size
    shot = tmp_path / "shot.png"
    subprocess.run(
        [*flags, f"--screenshot={shot}", "--window-size=1200,1600", url],
        capture_output=True,
        timeout=120,
        check=True,
    )
    import matplotlib.image as mpimg

    pixels = mpimg.imread(shot)
    assert pixels.shape[0] == 1600 and pixels.shape[1] == 1200
    assert pixels[..., :3].std() > 0.05  # not blank: text and figures were painted
    colourful = (pixels[..., :3].max(axis=-1) - pixels[..., :3].min(axis=-1)) > 0.3
    assert colourful.mean() > 0.001  # the coloured lines of the figures are on screen


class _Tables(HTMLParser):
    """The cells of every table with a class, by class, as the browser rendered them."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.items: list[str] = []
        self._table: str | None = None
        self._cell: list[str] | None = None
        self._in_li = False

    def handle_starttag(self, tag, attrs):
        classes = (dict(attrs).get("class") or "").split()
        if tag == "table" and classes:
            self._table = classes[-1]
            self.tables[self._table] = []
        elif tag == "tr" and self._table:
            self.tables[self._table].append([])
        elif tag in ("td", "th") and self._table:
            self._cell = []
        elif tag == "li":
            self._in_li, self._cell = True, []

    def handle_endtag(self, tag):
        if tag == "table":
            self._table = None
        elif tag in ("td", "th") and self._table and self._cell is not None:
            self.tables[self._table][-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "li" and self._in_li:
            self.items.append("".join(self._cell or []).strip())
            self._in_li, self._cell = False, None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def test_the_findings_read_in_a_browser_match_the_runs(results, tmp_path):
    from sim.results import findings
    from sim.results.folder import read_run_folder

    raw = yaml.safe_load((DATA / "mini.yaml").read_text())
    raw["meta"]["name"] = "no_menace"
    raw["events"] = [e for e in raw["events"] if e["id"] != "menace"]
    (tmp_path / "cf.yaml").write_text(yaml.safe_dump(raw))
    other = tmp_path / "no_menace"
    args = ["run", str(tmp_path / "cf.yaml"), "-r", "3", "--seed", "2", "-o", str(other), "-q"]
    assert main(args) == 0
    page = tmp_path / "full.html"
    args = ["report", str(results), "-o", str(page), "--attribution", "--compare", str(other)]
    assert main([*args, "-q"]) == 0
    dom = subprocess.run(
        [*_flags(tmp_path), "--dump-dom", page.resolve().as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    seen = _Tables()
    seen.feed(dom)
    table = read_run_folder(results).table
    infl = findings.influence_changes(table)
    rows = seen.tables["influence"]
    assert rows[0] == ["Power", "Influence at the start", "At the end", "Change (median)",
                       "90% of runs"]  # fmt: skip
    assert [r[0] for r in rows[1:]] == [p.capitalize() for p in infl["power"]]
    for shown, (_, want) in zip(rows[1:], infl.iterrows(), strict=True):
        assert float(shown[1]) == pytest.approx(want["start"], abs=5e-4)
        assert float(shown[3]) == pytest.approx(want["change"], abs=5e-4)
        low, high = (float(x) for x in shown[4].split(" to "))
        assert low == pytest.approx(want["change_p5"], abs=5e-4)
        assert high == pytest.approx(want["change_p95"], abs=5e-4)
    patrons = findings.patron_changes(table)
    changed = [f"{round(100 * x)}%" for x in patrons["changed_share"]]
    assert [r[3] for r in seen.tables["patrons"][1:]] == changed
    assert seen.items[: len(findings.summary(table))] == findings.summary(table)
    channels = seen.tables["attribution-channel"][1:]
    assert len(channels) >= 5 and all(r[1][0] in "+-" for r in channels)
    assert len(seen.tables["counterfactual"]) > 1


def test_report_lists_the_states_decisions_as_events_csv_has_them(results, report):
    import pandas as pd

    from sim.results.folder import read_events

    log = read_events(results)
    decisions = log[log["type"] == "decision"]
    assert not decisions.empty  # the mini scenario's war makes its states take stances
    text = report.read_text(encoding="utf-8")
    assert '<h2 id="decisions">Decisions of the states</h2>' in text
    section = text.split('<h2 id="decisions">')[1].split("<h2")[0]
    runs = log["run"].nunique()
    for (who, what), group in decisions.groupby(["who", "outcome"]):
        first = group.groupby("run")["step"].min()
        step = int(pd.Series(first).median())
        date = pd.Period("2022-01", "M") + step  # mini starts 2022-01: step t is that month
        row = f"<td>{who}</td><td>{what}</td><td>{first.size} of {runs}</td><td>{date}</td>"
        assert row in re.sub(r">\s+<", "><", section), row


def test_report_lists_the_powers_answers_to_drift_apart(tmp_path, mini_raw):
    import pandas as pd

    from sim.results.folder import read_events

    for power in mini_raw["powers"]:
        power["strategy"]["response"] = "decide"
    mini_raw["model"] = {"response_threshold": 0.005}
    path = write_yaml(tmp_path / "deciding.yaml", mini_raw)
    out = tmp_path / "deciding"
    assert main(["run", str(path), "-r", "3", "--seed", "2", "-o", str(out), "-q"]) == 0
    html = tmp_path / "deciding.html"
    assert main(["report", str(out), "-o", str(html), "-q"]) == 0
    log = read_events(out)
    answers = log[(log["type"] == "decision") & (log["id"] == "response")]
    assert not answers.empty  # the war makes the states drift, and the powers answer
    text = re.sub(r">\s+<", "><", html.read_text(encoding="utf-8"))
    powers = text.split('<h2 id="responses">Decisions of the powers</h2>')[1].split("<h2")[0]
    states = text.split('<h2 id="decisions">')[1].split("<h2")[0]
    runs = log["run"].nunique()
    for (who, what), group in answers.groupby(["who", "outcome"]):
        first = group.groupby("run")["step"].min()
        date = pd.Period("2022-01", "M") + int(pd.Series(first).median())
        row = f"<td>{who}</td><td>{what}</td><td>{first.size} of {runs}</td><td>{date}</td>"
        assert row in powers and f"<td>{who}</td><td>{what}</td>" not in states, row
