"""Golden values: numbers the model gave for fixed seeds, recorded to catch unintended change.

``tests/test_golden.py`` recomputes them and compares. They were recorded before the move of
``sim/`` into sub-packages (issue 13), which must not change a single number. A change to the
model's equations changes them on purpose: then record them again and say so in the commit::

    .venv/bin/python tests/golden.py --record
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "data" / "golden.json"
SEEDS = [11, 12]
SWEEP = {
    "design": "lhs",
    "samples": 6,
    "replicates": 2,
    "seed": 2024,
    "parameters": {
        "powers.north.strategy.threat_intensity": [0.0, 0.9],
        "states.alpha.trust.east": [0.2, 0.8],
    },
    "chunk_size": 5,
}


def _arrays(batch) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    for name, values in sorted(batch.values.items()):
        out[f"{name}/final"] = values[:, -1].ravel().tolist()
        out[f"{name}/sum_over_months"] = values.sum(axis=1).ravel().tolist()
    for name, values in sorted(batch.summary().items()):
        out[f"summary/{name}"] = np.asarray(values, dtype=float).ravel().tolist()
    return out


def compute() -> dict[str, dict[str, list[float]]]:
    """Recompute every golden value with the current code."""
    from sim.input.scenario import load_scenario
    from sim.model.engines import simulate
    from sim.sweep.run import read_sweep_results, run_sweep

    golden: dict[str, dict[str, list[float]]] = {}
    for path in sorted((ROOT / "scenarios").glob("*.yaml")):
        scenario = load_scenario(path).scenario
        batch = simulate([scenario] * len(SEEDS), SEEDS, engine="ensemble")
        golden[f"ensemble/{path.stem}"] = _arrays(batch)
    baseline = load_scenario(ROOT / "scenarios" / "baseline_2022.yaml").scenario
    golden["mesa/baseline_2022"] = _arrays(simulate([baseline], SEEDS[:1], engine="mesa"))
    with tempfile.TemporaryDirectory() as tmp:
        spec = Path(tmp) / "spec.yaml"
        data = {"scenario": str(ROOT / "tests" / "data" / "mini.yaml"), **SWEEP}
        spec.write_text(yaml.safe_dump(data), encoding="utf-8")
        table = read_sweep_results(
            run_sweep(spec, Path(tmp) / "out", executor="serial", progress=False)
        )
    numeric = table.select_dtypes("number")
    golden["sweep/mini"] = {c: numeric[c].astype(float).tolist() for c in sorted(numeric.columns)}
    return golden


def load() -> dict[str, dict[str, list[float]]]:
    """The recorded values."""
    return json.loads(GOLDEN.read_text(encoding="utf-8"))


def main() -> None:
    """Record the golden values (``--record``) or print how far the code is from them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--record", action="store_true", help=f"write {GOLDEN.name}")
    args = parser.parse_args()
    now = compute()
    if args.record:
        GOLDEN.write_text(json.dumps(now, indent=0, sort_keys=True) + "\n", encoding="utf-8")
        print(f"recorded {sum(len(v) for g in now.values() for v in g.values())} numbers")
        return
    for group, values in load().items():
        for key, old in values.items():
            diff = np.max(np.abs(np.array(now[group][key]) - np.array(old)), initial=0.0)
            print(f"{group} {key}: max abs diff {diff:.3g}")


if __name__ == "__main__":
    main()
