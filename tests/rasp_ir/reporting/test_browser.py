"""The report in a real headless browser: it loads without console errors, its script runs,
the graph and the heatmaps are there, and a screenshot is not blank."""

from __future__ import annotations

from pathlib import Path

from rasp_ir.cli.main import main
from tests.rasp_ir.reporting.browser import load_page, png_pixels, screenshot

EXAMPLES = Path(__file__).parents[3] / "examples"


def test_the_report_renders_in_chromium(chromium: str, tmp_path: Path) -> None:
    page = tmp_path / "sort.html"
    args = ["report", str(EXAMPLES / "sort.rasp"), "--input", "d b c a", "-o", str(page)]
    assert main(args) == 0
    run = load_page(chromium, page)
    assert run.console == ()
    assert '<body data-ready="yes">' in run.dom  # the page's script ran to the end
    assert '<pre id="js-errors"></pre>' in run.dom  # and recorded no error
    assert run.dom.count('<svg class="graph"') == 1
    assert run.dom.count('<svg class="heatmap"') == 6
    assert '<g id="node-sort" class="node kind-aggregate output"' in run.dom
    shot = tmp_path / "sort.png"
    screenshot(chromium, page, shot, 900, 1000)
    pixels = png_pixels(shot)
    assert (len(pixels[0]), len(pixels)) == (900, 1000)
    colours = {pixel for row in pixels for pixel in row}
    assert len(colours) > 50  # text, boxes, edges: far from one flat colour
    dark = sum(1 for row in pixels for r, g, b in row if r + g + b < 200)
    assert dark > 2000  # text and lines are drawn


def test_the_screenshot_check_sees_a_blank_page_as_blank(chromium: str, tmp_path: Path) -> None:
    page = tmp_path / "blank.html"
    page.write_text("<!DOCTYPE html><html><body></body></html>", encoding="utf-8")
    shot = tmp_path / "blank.png"
    screenshot(chromium, page, shot, 200, 100)
    assert {pixel for row in png_pixels(shot) for pixel in row} == {(255, 255, 255)}
