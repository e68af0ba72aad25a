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
