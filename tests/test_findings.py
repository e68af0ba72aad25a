"""The report's findings recover what a hand-made batch of runs was built to show."""

import numpy as np
import pytest

from sim.model.metrics import Batch
from sim.results import findings
from sim.results.tables import long_table


def _batch() -> Batch:
    """Two runs, one state ``s`` and powers ``a``, ``b``: ``b`` passes ``a`` in record 2 (run
    0) and record 3 (run 1); state ``t`` keeps ``a`` first throughout."""
    a = np.array([0.8, 0.7, 0.5, 0.4])
    b_runs = [np.array([0.2, 0.3, 0.6, 0.7]), np.array([0.2, 0.3, 0.45, 0.6])]
    values = np.zeros((2, 4, 2, 2))
    for r, b in enumerate(b_runs):
        values[r, :, 0, 0], values[r, :, 0, 1] = a, b
        values[r, :, 1, 0], values[r, :, 1, 1] = 0.9, 0.1
    zeros = np.zeros((2, 4, 2, 2))
    return Batch(
        seeds=np.array([1, 2]),
        dates=["2021-12", "2022-01", "2022-02", "2022-03"],
        states=["s", "t"],
        powers=["a", "b"],
        population=np.array([1.0, 1.0]),
        values={
            "alignment": values,
            "trust": zeros,
            "threat": zeros,
            "dependence": zeros,
            "credibility": np.zeros((2, 4, 2)),
        },
        events=[[], []],
    )


def test_crossovers_patrons_and_influence_of_a_known_batch():
    table = long_table(_batch())
    cross = findings.crossovers(table)
    assert cross[["state", "leader", "riser"]].values.tolist() == [["s", "a", "b"]]
    row = cross.iloc[0]
    # the median of b (0.525) passes a (0.5) in record 2 and stays above; run 0 crosses there,
    # run 1 only in record 3
    assert row["month"] == "2022-02" and row["runs_share"] == 1.0
    assert (row["month_p5"], row["month_p95"]) == ("2022-02", "2022-03")
    patrons = findings.patron_changes(table).set_index("state")
    assert patrons.loc["s"].tolist() == ["a", "b", 1.0] and patrons.loc["t"].tolist() == [
        "a",
        "a",
        0.0,
    ]
    infl = findings.influence_changes(table).set_index("power")
    # influence is the population-weighted mean over the two states
    assert infl.loc["a", "change"] == pytest.approx(((0.4 + 0.9) - (0.8 + 0.9)) / 2)
    assert infl.loc["b", "change_p5"] < infl.loc["b", "change_p95"]
    state, power, change = findings.largest_change(table)  # a: -0.4 against b's +0.45 median
    assert (state, power) == ("s", "b") and change == pytest.approx(0.45)
    sentences = findings.summary(table)
    assert any("changes its primary patron from A to B (in 100% of runs)" in x for x in sentences)
    assert any("alignment with B passes A in 2022-02" in x for x in sentences)
