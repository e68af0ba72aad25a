"""Where the data that ships with the package lives: the evidence base, scenarios and sweeps.

An installed wheel holds the repository's ``seeds/``, ``scenarios/`` and ``sweeps/`` folders as
package data of this package (``sim/input/bundled/seeds`` and so on: ``pyproject.toml`` maps them
here with ``[tool.setuptools.package-dir]``), found with :mod:`importlib.resources`. A checkout (an
editable install, or ``PYTHONPATH`` pointing at the repository) has no copies here, so the
repository's own folders are used.

A scenario argument of the command line is a file, or else the name of a bundled scenario
(``baseline_2022`` or ``baseline_2022.yaml``): see :func:`resolve_scenario`.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
from importlib import resources
from pathlib import Path

from sim.input.errors import Problem, ScenarioError, did_you_mean

__all__ = [
    "bundled_scenario",
    "calibrations_dir",
    "evidence_dir",
    "resolve_scenario",
    "resolve_sweep_spec",
    "scenario_names",
    "scenarios_dir",
    "sweeps_dir",
    "unknown_scenario",
]

_CHECKOUT = Path(__file__).resolve().parents[3]  # the repository root, in a checkout
_EXTRACTED = contextlib.ExitStack()  # package data unpacked from an archive, kept until exit
atexit.register(_EXTRACTED.close)


@functools.cache
def _data_dir(name: str) -> Path:
    """The folder ``name`` of the package data, or of the checkout when not packaged.

    Args:
        name: ``seeds``, ``scenarios`` or ``sweeps``.

    Returns:
        A real folder on disk; the packaged location when neither exists, so that errors name
        where the data was expected.
    """
    packaged = resources.files(__name__).joinpath(name)
    if packaged.is_dir():
        if isinstance(packaged, Path):
            return packaged
        return _EXTRACTED.enter_context(resources.as_file(packaged))  # e.g. a zipped install
    checkout = _CHECKOUT / name
    return checkout if checkout.is_dir() else Path(str(packaged))


def evidence_dir() -> Path:
    """The evidence base: the folder with ``sources.yaml`` and ``evidence.yaml``."""
    return _data_dir("seeds")


def scenarios_dir() -> Path:
    """The folder of the bundled scenario files."""
    return _data_dir("scenarios")


def sweeps_dir() -> Path:
    """The folder of the bundled sweep specs."""
    return _data_dir("sweeps")


def calibrations_dir() -> Path:
    """The folder of the bundled calibration specs."""
    return _data_dir("calibrations")


def scenario_names() -> list[str]:
    """The names of the bundled scenarios (their file names without ``.yaml``), sorted."""
    return sorted(p.stem for p in scenarios_dir().glob("*.yaml") if p.is_file())


def _bare_name(text: str) -> str | None:
    """``text`` without a ``.yaml`` suffix when it is a plain name (no folder), else None."""
    if not text or len(text) > 200 or "\0" in text or text in (".", ".."):
        return None
    if Path(text).name != text:
        return None
    return text.removesuffix(".yaml") or None


def bundled_scenario(name: str) -> Path | None:
    """The bundled scenario file of a name.

    Args:
        name: ``baseline_2022`` or ``baseline_2022.yaml``.

    Returns:
        The file, or None when ``name`` is not a plain name or no bundled scenario has it.
    """
    bare = _bare_name(str(name))
    if bare is None:
        return None
    path = scenarios_dir() / f"{bare}.yaml"
    return path if path.is_file() else None


def unknown_scenario(name: str, looked: Path | None = None) -> str:
    """What to say about a scenario argument that is neither a file nor a bundled name.

    Args:
        name: The argument as given.
        looked: The file that was looked for, when it is not ``name`` itself.

    Returns:
        One sentence naming what was expected, with a did-you-mean and the bundled names.
    """
    names = scenario_names()
    where = f": no file {looked}" if looked is not None else ""
    tail = did_you_mean(_bare_name(str(name)) or str(name), names)
    listed = ", ".join(names) if names else f"none found in {scenarios_dir()}"
    return (
        f"expected a scenario file or the name of a bundled scenario, found neither{where}{tail}; "
        f"bundled scenarios: {listed}"
    )


def resolve_scenario(arg: str | Path) -> Path:
    """The scenario file a command-line argument means.

    An existing path (relative to the working directory) wins; otherwise a plain name is looked
    up among the bundled scenarios. A path with a folder part that does not exist is returned as
    it is, for the loader to report.

    Args:
        arg: A scenario file, or a bundled name such as ``baseline_2022``.

    Returns:
        The file to load.

    Raises:
        ScenarioError: For a plain name that is neither a file nor a bundled scenario.
    """
    path = Path(arg)
    try:
        if path.exists():
            return path
    except (OSError, ValueError):  # a name too long, a NUL byte...: the loader says what
        return path
    found = bundled_scenario(str(arg))
    if found is not None:
        return found
    if _bare_name(str(arg)) is None:
        return path
    raise ScenarioError([Problem(str(arg), (), unknown_scenario(str(arg)))])


def resolve_sweep_spec(arg: str | Path, folder: Path | None = None) -> Path:
    """The sweep spec file a command-line argument means: a file, else a bundled spec's name.

    Args:
        arg: A spec file, or a bundled name such as ``kazakhstan_sobol``.
        folder: Where bundled specs are looked up (default: :func:`sweeps_dir`; a calibration
            passes :func:`calibrations_dir`).

    Returns:
        The file to load (``arg`` itself when it is neither, for the loader to report).
    """
    path = Path(arg)
    with contextlib.suppress(OSError, ValueError):
        if path.exists():
            return path
    bare = _bare_name(str(arg))
    found = (folder or sweeps_dir()) / f"{bare}.yaml" if bare else None
    return found if found is not None and found.is_file() else path
