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
