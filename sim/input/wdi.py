"""The bundled World Bank series: migrants' remittances received, per cent of GDP.

``seeds/data/remittances.csv`` holds, for Kazakhstan, Kyrgyzstan, Tajikistan and Uzbekistan and
the years 2005 to 2019, the World Development Indicators series ``BX.TRF.PWKR.DT.GD.ZS``
(personal remittances, received, % of GDP); ``seeds/data/SOURCES.md`` gives its origin, vintage
and licence. Turkmenistan is not in it: the current vintage of the series holds no Turkmen value
after 1996. :func:`load_remittances` checks every cell and refuses a year of 2022 or later.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from sim.input.csvtables import Checker, duplicates, integer, one_of, read_table
from sim.input.unvotes import CUTOFF, un_votes_dir

__all__ = ["REMITTANCES_FILE", "REMITTANCE_STATES", "load_remittances"]

REMITTANCES_FILE = "remittances.csv"
"""The file name in the data folder (``seeds/data``)."""
REMITTANCE_STATES = ("kazakhstan", "kyrgyzstan", "tajikistan", "turkmenistan", "uzbekistan")
"""The states a row may name (Turkmenistan has no row in the bundled table)."""
_LAST_YEAR = int(CUTOFF[:4]) - 1
"""The last year a row may hold: a year's value is an outcome of that year."""


def _year(value: str) -> str | None:
    bad = integer(value)
    if bad:
        return bad
    year = int(value)
    if year > _LAST_YEAR:
        return (
            f"year {year} is after {_LAST_YEAR}: real-world outcomes from {CUTOFF} on must stay "
            "out of the project"
        )
    return None if year >= 1990 else f"expected a year from 1990, found {year}"


def _share(value: str) -> str | None:
    try:
        number = float(value)
    except ValueError:
        return f"expected a number (per cent of GDP), found '{value}'"
    return None if 0.0 <= number <= 100.0 else f"expected 0 to 100 per cent, found {number:g}"


def load_remittances(directory: str | Path | None = None) -> pd.DataFrame:
    """The remittances table, checked.

    Args:
        directory: The data folder (default: the bundled ``seeds/data``).

    Returns:
        One row per state and year: ``state`` (str), ``year`` (int), ``remittances_gdp``
        (float, per cent of GDP), sorted by state and year.

    Raises:
        ScenarioError: Naming file, line and column of every bad cell (an unknown state, a year
            after 2021, a share outside 0-100, a repeated state and year) or a missing column.
    """
    path = Path(directory) if directory is not None else un_votes_dir()
    path = path / REMITTANCES_FILE
    frame = read_table(path, ("state", "year", "remittances_gdp"))
    check = Checker(path, frame)
    check.cells("state", one_of(REMITTANCE_STATES, "state"))
    check.cells("year", _year)
    check.cells("remittances_gdp", _share)
    duplicates(check, ["state", "year"], "state and year")
    check.raise_if_any()
    out = pd.DataFrame(
        {
            "state": frame["state"].astype(str),
            "year": frame["year"].astype(int),
            "remittances_gdp": frame["remittances_gdp"].astype(float),
        }
    )
    return out.sort_values(["state", "year"], kind="stable").reset_index(drop=True)
