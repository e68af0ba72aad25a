"""Figures and reports, from tables only.

``plotting`` (figures from tables), ``render`` (the figure and table files of ``plot``,
``compare`` and ``analyze``) and ``report`` (the HTML report). Imports every sub-package before
it and is imported by nothing but :mod:`sim.cli`.
"""
