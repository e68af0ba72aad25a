"""The figure kinds of ``greatgame plot``.

In a module of their own, so that building the command line's parser imports no plotting or
table library (``greatgame --help`` stays instant); :mod:`sim.viz.report` draws them.
"""

from __future__ import annotations

__all__ = ["RESULT_KINDS", "SWEEP_KINDS"]

RESULT_KINDS = (
    "alignment",
    "influence",
    "hedging",
    "responses",
    "heatmap",
    "heatmap-grid",
    "attribution",
)
"""Plot kinds of a results folder."""

SWEEP_KINDS = ("indices", "scatter")
"""Plot kinds of a sweep folder (indices need a sobol or morris design)."""
