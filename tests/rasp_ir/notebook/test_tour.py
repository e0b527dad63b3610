"""examples/notebooks/tour.ipynb is stored without outputs and runs from top to bottom in a
real kernel (nbclient, ipykernel) on this interpreter and this checkout."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

ROOT = Path(__file__).resolve().parents[3]
TOUR = ROOT / "examples" / "notebooks" / "tour.ipynb"


def test_the_tour_is_stored_without_outputs() -> None:
    notebook = nbformat.read(TOUR, as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code and all(c.outputs == [] and c.execution_count is None for c in code)


def test_the_tour_executes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    kernel = tmp_path / "kernels" / "python3"
    kernel.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (this checkout)",
        "language": "python",
        "env": {"PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"},
    }
    (kernel / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path))
    notebook = nbformat.read(TOUR, as_version=4)
    client = nbclient.NotebookClient(
        notebook, kernel_name="python3", timeout=120, resources={"metadata": {"path": str(ROOT)}}
    )
    client.execute()
    outputs = [cell.outputs for cell in notebook.cells if cell.cell_type == "code"]
    _, run, program, batch, broken = outputs
    assert 'reverse = ["o", "l", "l", "e", "h"]' in run[0]["data"]["text/plain"]
    assert "<th>binding</th>" in run[0]["data"]["text/html"]
    assert "<td>aggregate(flip)</td><td>reverse</td>" in program[0]["data"]["text/html"]
    assert batch[0]["data"]["text/plain"] == "{'reverse': [['c', 'b', 'a'], ['p', 's', 'a', 'r']]}"
    (stderr,) = broken
    assert stderr["name"] == "stderr"
    assert stderr["text"].startswith("<cell>:4:27: error: 'tokns' is not defined [undefined]")
