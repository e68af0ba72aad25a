"""The notebooks are analyses saved with their outputs, and the saved outputs are today's.

Each notebook in notebooks/ poses a question in its first markdown cell, answers it with figures
and numbers, and ends with an "Answer" and a "What this rests on" cell. It is committed executed
(every code cell run, at least one figure, no error), and the slow test executes it afresh and
checks that every text output equals the committed one. After a change that moves a number,
re-execute and save them all with ``.venv/bin/python notebooks/execute.py`` (then update the
Answer cells to the new numbers).
"""

import importlib.util
import re

import nbformat
import pytest
from conftest import ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
RERUN = ".venv/bin/python notebooks/execute.py"


def _load_execute():
    spec = importlib.util.spec_from_file_location(
        "notebooks_execute", ROOT / "notebooks" / "execute.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


execute = _load_execute()


def _read(path):
    return nbformat.read(path, as_version=4)


def _markdown(nb):
    return [c.source for c in nb.cells if c.cell_type == "markdown"]


def _heading(source):
    return source.strip().splitlines()[0].lstrip("#").strip() if source.strip() else ""


def _cell(nb, title):
    """The markdown cell whose heading is ``title``."""
    found = [s for s in _markdown(nb) if _heading(s) == title]
    assert len(found) == 1, f"expected one markdown cell headed '{title}', found {len(found)}"
    return found[0]


def test_the_three_notebooks_are_there():
    names = [p.stem for p in NOTEBOOKS]
    assert names[:3] == ["01_quickstart", "02_counterfactuals", "03_sensitivity"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_committed_with_its_outputs(path):
    nb = _read(path)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code
    unrun = [
        i for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.execution_count is None
    ]
    assert not unrun, f"{path.name}: cells {unrun} were not executed; run {RERUN}"
    counts = [c.execution_count for c in code]
    assert counts == list(range(1, len(code) + 1)), (
        f"{path.name}: not run top to bottom; run {RERUN}"
    )
    outputs = [o for c in code for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"], f"{path.name}: an error output"
    assert any("image/png" in o.get("data", {}) for o in outputs), f"{path.name} has no figure"
    assert not [o for o in outputs if o.output_type == "stream" and o.name == "stderr"], (
        f"{path.name}: output on stderr (a warning or a progress bar)"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_metadata_is_stable(path):
    nb = _read(path)
    assert nb.metadata == execute.strip(_read(path)).metadata
    for cell in nb.cells:
        assert "execution" not in cell.metadata, f"{path.name}: timings saved; run {RERUN}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_poses_a_question_and_answers_it(path):
    nb = _read(path)
    markdown = _markdown(nb)
    assert markdown and nb.cells[0].cell_type == "markdown"
    assert markdown[0].startswith("# ") and _heading(markdown[0]).endswith("?"), (
        f"{path.name}: the first cell's heading should be the question"
    )
    answer, rests = _cell(nb, "Answer"), _cell(nb, "What this rests on")
    assert markdown[-2:] == [answer, rests], (
        f"{path.name}: should end with the Answer and its basis"
    )
    for topic in ("issue 14", "issue 15", "seed"):
        assert topic in rests, f"{path.name}: 'What this rests on' does not mention {topic}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_answer_numbers_are_the_notebook_outputs(path):
    """Every decimal number in the Answer cell is printed by the notebook's code."""
    nb = _read(path)
    printed = "\n".join(text for _, text in execute.text_outputs(nb))
    answer = _cell(nb, "Answer")
    decimals = set(re.findall(r"\d+\.\d+", answer))
    assert decimals, f"{path.name}: the Answer gives no numbers"
    shown = set(re.findall(r"\d+\.\d+", printed))
    missing = sorted(decimals - shown)
    assert not missing, f"{path.name}: the Answer's {missing} are not in the outputs"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_outputs_are_todays(path):
    saved = execute.text_outputs(_read(path))
    fresh_nb = execute.execute(path)
    outputs = [o for c in fresh_nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"], f"{path.name} fails to execute"
    assert any("image/png" in o.get("data", {}) for o in outputs), f"{path.name} drew no figure"
    fresh = execute.text_outputs(fresh_nb)
    for (cell, old), (_, new) in zip(saved, fresh, strict=False):
        assert old == new, (
            f"{path.name}, cell {cell}: the saved output differs from a fresh execution:\n"
            f"saved:\n{old}\nnow:\n{new}\nRe-execute and save with: {RERUN} "
            "(then update the Answer cell to the new numbers)"
        )
    assert len(saved) == len(fresh), (
        f"{path.name}: {len(saved)} saved text outputs, {len(fresh)} now; run {RERUN}"
    )
