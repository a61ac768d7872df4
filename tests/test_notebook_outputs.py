"""What a learner sees when opening a stored notebook, before running anything.

nbval checks that a fresh run reproduces the stored text; these tests check the stored notebook
itself: figures legible on a projector, no frozen widgets or progress bars, no test machinery in
the code a learner reads, and the header and glossary every notebook promises.
"""

from __future__ import annotations

import base64
import pathlib
import re
import struct

import nbformat
import pytest

REPO = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
MIN_DPI = 144
MAX_MEGABYTES = 3.0


def png_dpi(data: bytes) -> float | None:
    """The resolution a PNG declares in its pHYs chunk (pixels per metre → dots per inch)."""
    at = data.find(b"pHYs")
    if at < 0:
        return None
    x, y, unit = struct.unpack(">IIB", data[at + 4: at + 13])
    return min(x, y) * 0.0254 if unit == 1 else None


def test_png_dpi_reads_the_phys_chunk():
    chunk = b"\x00\x00\x00\x09pHYs" + struct.pack(">IIB", 5669, 5669, 1)
    assert png_dpi(b"\x89PNG...." + chunk) == pytest.approx(144.0, abs=0.01)
    assert png_dpi(b"\x89PNG no chunk") is None


def outputs(path):
    nb = nbformat.read(path, as_version=4)
    return nb, [(i, out) for i, c in enumerate(nb.cells) if c.cell_type == "code" for out in c.outputs]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_stored_figures_are_at_least_144_dpi(path):
    _, outs = outputs(path)
    low = [(i, png_dpi(base64.b64decode(o["data"]["image/png"]))) for i, o in outs if "image/png" in o.get("data", {})]
    assert low, f"{path.name} stores no figure"
    assert [(i, dpi) for i, dpi in low if dpi is None or dpi < MIN_DPI - 0.5] == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_no_stored_widget_views_or_progress_bars(path):
    """A stored widget view without its state renders as an error, a tqdm bar as a frozen 0 %."""
    _, outs = outputs(path)
    widgets = [i for i, o in outs if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    bars = [i for i, o in outs if re.search(r"\b0%\|", "".join(o.get("text", "")))]
    assert widgets == [] and bars == [], f"cells with widget views {widgets}, with progress bars {bars}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_no_test_machinery_in_the_code_a_learner_reads(path):
    nb = nbformat.read(path, as_version=4)
    marked = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and "NBVAL_" in c.source]
    assert marked == [], f"use the cell tags nbval-ignore-output / nbval-skip instead (cells {marked})"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_stored_notebook_stays_small(path):
    assert path.stat().st_size / 1e6 < MAX_MEGABYTES


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_header_gives_prerequisites_study_time_and_cpu_time_and_a_glossary_precedes_the_exercises(path):
    nb = nbformat.read(path, as_version=4)
    header = nb.cells[0].source.lower()
    for item in ("prerequisite", "study time", "cpu time"):
        assert item in header, f"{path.name}: the header does not state its {item}"
    headings = [c.source.splitlines()[0] for c in nb.cells if c.cell_type == "markdown" and c.source.startswith("#")]
    glossary = [i for i, h in enumerate(headings) if "glossary" in h.lower()]
    exercises = [i for i, h in enumerate(headings) if re.match(r"#+\s*exercises", h, re.IGNORECASE)]
    assert glossary and exercises and glossary[0] < exercises[0], f"{path.name}: a Glossary section before the Exercises"
