import copy
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))


@pytest.fixture
def mini_path() -> Path:
    return DATA / "mini.yaml"


@pytest.fixture
def mini_raw() -> dict:
    return yaml.safe_load((DATA / "mini.yaml").read_text())


def write_yaml(path: Path, data) -> Path:
    path.write_text(yaml.safe_dump(copy.deepcopy(data), sort_keys=False))
    return path


def mini_sweep_spec(folder: Path, seed: int, samples: int = 12, chunk_size: int = 4, **more):
    """A small LHS sweep spec of mini.yaml over North's threat intensity (2 replicates a point).

    Args:
        folder: Where to write ``spec.yaml``.
        seed: The sweep's root seed.
        samples: Design points.
        chunk_size: Runs per chunk.
        **more: Other spec fields (``parameters`` replaces the default one).

    Returns:
        The spec file.
    """
    data = {
        "scenario": str(DATA / "mini.yaml"),
        "design": "lhs",
        "samples": samples,
        "replicates": 2,
        "seed": seed,
        "parameters": {"powers.north.strategy.threat_intensity": [0.0, 0.9]},
        "chunk_size": chunk_size,
        **more,
    }
    return write_yaml(folder / "spec.yaml", data)


def serial_sweep(spec: Path, out: Path):
    """The sweep of ``spec`` run serially in this process, undisturbed: its results table."""
    from sim.sweep.run import read_sweep_results, run_sweep

    return read_sweep_results(run_sweep(spec, out, executor="serial", progress=False))


def mini_results(out: Path) -> Path:
    """A results folder of ``greatgame run`` on mini.yaml: 3 replicates, root seed 2."""
    from sim.cli import main

    assert (
        main(["run", str(DATA / "mini.yaml"), "-r", "3", "--seed", "2", "-o", str(out), "-q"]) == 0
    )
    return out


def _channels(level: float, security: float) -> dict:
    return {
        "trade": level,
        "remittances": 0.0,
        "energy": level,
        "security": security,
        "investment": level,
    }


def alpha_between(raw: dict, north_level: float, east_level: float, east_security: float) -> None:
    """Set mini's alpha between North and a reliable East (in place), for the threat regimes.

    Alpha depends on North at ``north_level`` on every channel but remittances (security
    included) and on East at ``east_level``, with a security tie of ``east_security``; East gets
    credibility, capacity and attention 0.9, so that where alpha is tied to it East is a
    credible alternative to North.
    """
    raw["states"][0]["dependence"] = {
        "north": _channels(north_level, north_level),
        "east": _channels(east_level, east_security),
    }
    raw["powers"][1].update(credibility=0.9, military_capacity=0.9, attention=0.9)
