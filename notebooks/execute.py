"""Execute the notebooks from the repository root and save them with their outputs.

Run from anywhere: ``.venv/bin/python notebooks/execute.py`` (every notebook) or
``.venv/bin/python notebooks/execute.py notebooks/02_counterfactuals.ipynb`` (some). Each notebook
runs top to bottom in a fresh ``python3`` kernel with the repository root as its working
directory and matplotlib's inline backend (``MPLBACKEND`` is unset), as ``tests/test_notebooks.py``
runs it; the volatile metadata (execution timing, the kernel's language version) is left out so
that executing twice writes the same file. ``tests/test_notebooks.py`` checks that the saved text
outputs are the ones a fresh execution gives.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nbformat
from nbformat import NotebookNode

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}
TIMEOUT = 300  # seconds per cell


def execute(path: str | Path) -> NotebookNode:
    """Execute a notebook in a fresh kernel from the repository root.

    Args:
        path: The notebook file (left unchanged).

    Returns:
        The executed notebook, with its volatile metadata stripped (:func:`strip`).
    """
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    saved = os.environ.pop("MPLBACKEND", None)  # the kernel's inline backend draws PNGs
    try:
        client = NotebookClient(
            nb,
            timeout=TIMEOUT,
            kernel_name="python3",
            record_timing=False,
            coalesce_streams=True,  # one stream output per cell and name, however it was flushed
            resources={"metadata": {"path": str(ROOT)}},
        )
        client.execute()
    finally:
        if saved is not None:
            os.environ["MPLBACKEND"] = saved
    return strip(nb)


def strip(nb: NotebookNode) -> NotebookNode:
    """Drop what changes between executions or machines: timings, kernel and language info."""
    nb.metadata = NotebookNode(
        {"kernelspec": NotebookNode(KERNELSPEC), "language_info": NotebookNode({"name": "python"})}
    )
    for cell in nb.cells:
        for key in ("execution", "collapsed", "scrolled"):
            cell.metadata.pop(key, None)
    return nb


def text_outputs(nb: NotebookNode) -> list[tuple[int, str]]:
    """Every text output of the code cells, as ``(cell index, text)``.

    Per cell: each stream (stderr, stdout) in one piece, however the kernel flushed it, then the
    ``text/plain`` form of results and displays in order (a figure's is ``<Figure size ...>``)
    and errors; images and HTML are left out.
    """
    out: list[tuple[int, str]] = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        streams: dict[str, str] = {}
        rest = []
        for o in cell.outputs:
            if o.output_type == "stream":
                streams[o.name] = streams.get(o.name, "") + o.text
            elif o.output_type in ("execute_result", "display_data") and "text/plain" in o.data:
                rest.append(o.data["text/plain"])
            elif o.output_type == "error":
                rest.append(f"[error] {o.ename}: {o.evalue}")
        out += [(i, f"[{name}] {text}") for name, text in sorted(streams.items())]
        out += [(i, text) for text in rest]
    return out


def main(argv: list[str]) -> int:
    """Execute and save the notebooks named in ``argv`` (default: all of them)."""
    paths = [Path(a).resolve() for a in argv] or NOTEBOOKS
    for path in paths:
        nb = execute(path)
        nbformat.validate(nb)
        nbformat.write(nb, path)
        print(f"{path.relative_to(ROOT)}: executed and saved")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
