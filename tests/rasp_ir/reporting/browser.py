"""A headless Chromium for the report's browser test: found on the PATH or installed from
Debian's archive (``apt-get install chromium``, as root, when apt works), then driven from the
command line to dump the DOM after scripts ran, collect console messages and take a screenshot.
No Python dependency: the screenshot's PNG is decoded with zlib and struct."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import zlib
from dataclasses import dataclass
from pathlib import Path

NAMES = ("chromium", "chromium-browser", "google-chrome")
INSTALL_SECONDS = 900
RUN_SECONDS = 120


@dataclass(frozen=True)
class Browser:
    """A browser executable, or why there is none."""

    path: str | None
    reason: str = ""


def find_or_install_chromium() -> Browser:
    """Chromium on the PATH; else install Debian's package when we are root and apt-get
    exists (``RASP_NO_BROWSER_INSTALL=1`` forbids it); else the reason there is none."""
    found = _on_path()
    if found:
        return Browser(found)
    if os.environ.get("RASP_NO_BROWSER_INSTALL") == "1":
        return Browser(None, "no chromium on PATH and RASP_NO_BROWSER_INSTALL=1")
    if shutil.which("apt-get") is None or not hasattr(os, "geteuid") or os.geteuid() != 0:
        return Browser(None, "no chromium on PATH, and apt-get is missing or we are not root")
    script = "apt-get update && apt-get install -y --no-install-recommends chromium"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    try:
        done = subprocess.run(
            ["sh", "-c", script], capture_output=True, text=True, timeout=INSTALL_SECONDS, env=env
        )
    except subprocess.TimeoutExpired:
        return Browser(None, f"installing chromium took over {INSTALL_SECONDS} s")
    found = _on_path()
    if done.returncode != 0 or not found:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        return Browser(None, f"apt-get install chromium failed: {' | '.join(tail)}")
    return Browser(found)


def _on_path() -> str | None:
    return next((p for p in map(shutil.which, NAMES) if p), None)


@dataclass(frozen=True)
class PageRun:
    """What the browser made of a page: the DOM after its scripts ran and the console lines."""

    dom: str
    console: tuple[str, ...]


def load_page(browser: str, page: Path) -> PageRun:
    """Open ``page`` headless; its DOM after load and every console message it logged."""
    done = subprocess.run(
        [*_headless(browser), "--enable-logging=stderr", "--v=0", "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=RUN_SECONDS,
    )
    console = tuple(line for line in done.stderr.splitlines() if ":CONSOLE" in line)
    return PageRun(done.stdout, console)


def screenshot(browser: str, page: Path, out: Path, width: int, height: int) -> None:
    """A PNG of ``page`` at ``width`` x ``height``."""
    subprocess.run(
        [
            *_headless(browser),
            f"--screenshot={out}",
            f"--window-size={width},{height}",
            page.as_uri(),
        ],
        capture_output=True,
        timeout=RUN_SECONDS,
        check=True,
    )


def _headless(browser: str) -> list[str]:
    return [browser, "--headless", "--disable-gpu", "--no-sandbox", "--no-first-run"]


def png_pixels(path: Path) -> list[list[tuple[int, int, int]]]:
    """The RGB pixels, row by row, of an 8-bit RGB or RGBA, non-interlaced PNG."""
    data = path.read_bytes()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"{path} is not a PNG")
    offset, chunks, header = 8, [], b""
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        body = data[offset + 8 : offset + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            chunks.append(body)
        offset += 12 + length
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    if depth != 8 or colour not in (2, 6) or interlace:
        raise ValueError(f"unsupported PNG (depth {depth}, colour type {colour})")
    channels = 3 if colour == 2 else 4
    raw = zlib.decompress(b"".join(chunks))
    rows = _unfilter(raw, width * channels, height, channels)
    return [
        [(row[x], row[x + 1], row[x + 2]) for x in range(0, len(row), channels)] for row in rows
    ]


def _unfilter(raw: bytes, stride: int, height: int, bpp: int) -> list[bytes]:
    rows: list[bytes] = []
    previous = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for x in range(stride):
            left = line[x - bpp] if x >= bpp else 0
            up = previous[x]
            corner = previous[x - bpp] if x >= bpp else 0
            if kind == 1:
                line[x] = (line[x] + left) & 255
            elif kind == 2:
                line[x] = (line[x] + up) & 255
            elif kind == 3:
                line[x] = (line[x] + (left + up) // 2) & 255
            elif kind == 4:
                line[x] = (line[x] + _paeth(left, up, corner)) & 255
        rows.append(bytes(line))
        previous = line
    return rows


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def main() -> int:
    """Find or install Chromium (for CI set-up: ``python -m tests.rasp_ir.reporting.browser``);
    print its path, or the reason there is none and exit 1."""
    browser = find_or_install_chromium()
    print(browser.path or f"no browser: {browser.reason}")
    return 0 if browser.path else 1


if __name__ == "__main__":
    raise SystemExit(main())
