"""The layout of sim/: imports flow one way (input -> model -> results -> sweep -> viz ->
calibration -> cli), with no circle, lazy imports included, and Mesa only in its adapter
(sim/model/mesa_model.py)."""

import ast
import subprocess
import sys
from pathlib import Path

import networkx as nx
import pytest

SIM = Path(__file__).resolve().parent.parent / "sim"
LAYERS = ("input", "model", "results", "sweep", "viz", "calibration")
"""Sub-packages in import order: each may import only itself and those before it."""
MESA_ADAPTER = "sim.model.mesa_model"


def module_name(path: Path) -> str:
    parts = path.relative_to(SIM.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(SIM.rglob("*.py"))}


def imports(path: Path) -> list[tuple[str, int]]:
    """Every module imported anywhere in the file (inside functions and TYPE_CHECKING too)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}:{node.lineno}: relative import"
            base = node.module or ""
            for alias in node.names:  # `from sim.x import y`: y may be a module of its own
                sub = f"{base}.{alias.name}"
                found.append((sub if sub in MODULES else base, node.lineno))
    return found


def layer(module: str) -> int:
    """Rank of a module of sim: its sub-package's place in LAYERS; sim.cli and sim itself last."""
    parts = module.split(".")
    if len(parts) > 1 and parts[1] in LAYERS:
        return LAYERS.index(parts[1])
    return len(LAYERS)


GRAPH = nx.DiGraph()
for name, path in MODULES.items():
    GRAPH.add_node(name)
    for target, line in imports(path):
        if target in MODULES and target != name:
            GRAPH.add_edge(name, target, line=line)


def test_every_module_is_in_a_sub_package_but_the_command_line_and_the_api():
    top = sorted(m for m in MODULES if layer(m) == len(LAYERS))
    assert top == ["sim", "sim.cli"]


def test_no_import_circle():
    cycles = list(nx.simple_cycles(GRAPH))
    assert cycles == [], "import circles: " + "; ".join(" -> ".join(c + c[:1]) for c in cycles)


def test_imports_follow_the_layer_order():
    against = [
        f"{MODULES[a].relative_to(SIM.parent)}:{data['line']}: {a} imports {b}"
        for a, b, data in GRAPH.edges(data=True)
        if layer(b) > layer(a)
    ]
    assert against == []


def test_mesa_only_in_its_adapter():
    users = sorted(
        f"{name}:{line}"
        for name, path in MODULES.items()
        for target, line in imports(path)
        if target.split(".")[0] == "mesa" and name != MESA_ADAPTER and name.startswith("sim.model")
    )
    assert users == []
    assert any(t.split(".")[0] == "mesa" for t, _ in imports(MODULES[MESA_ADAPTER]))


@pytest.mark.parametrize(
    "module", ["sim.model.ensemble", "sim.model.engines", "sim.input.evidence"]
)
def test_the_core_imports_without_mesa(module):
    code = f"import sys, {module}; sys.exit(3 if 'mesa' in sys.modules else 0)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr or f"importing {module} imported mesa"


def test_the_checks_find_what_they_look_for(tmp_path):
    """The walker sees lazy and TYPE_CHECKING imports (else the tests above could not fail)."""
    source = tmp_path / "x.py"
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from sim.viz import plotting\n"
        "def f():\n    import mesa\n    from sim.model.dynamics import decide\n"
    )
    assert {t for t, _ in imports(source)} >= {"sim.viz.plotting", "mesa", "sim.model.dynamics"}
    assert layer("sim.viz.plotting") > layer("sim.model.dynamics")


def test_the_public_api_resolves_to_the_modules_that_own_it():
    import sim

    for name in sim.__all__:
        obj = getattr(sim, name)
        assert obj.__module__ == sim._HOME[name], name


def test_the_command_line_parser_imports_no_heavy_library():
    """``greatgame --help`` builds the whole parser; it must not pay for numpy, pandas, Mesa..."""
    heavy = ("numpy", "pandas", "matplotlib", "mesa", "pydantic", "pyarrow", "scipy", "dask")
    code = (
        "import sys, sim.cli; sim.cli._parser(); "
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({heavy!r})))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
