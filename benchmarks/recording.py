"""What every benchmark records beside its figures: the machine, its load, and the results files.

The machines these benchmarks run on are shared and noisy, so every table quotes the load next
to its figures. Scripts import this module as ``benchmarks.recording`` (each puts the
repository root on ``sys.path`` first, since they run as ``python benchmarks/NAME.py``).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
from pathlib import Path

from rasp_ir.api import write_text_atomically

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"


def uptime() -> str:
    """The ``uptime`` line (time, up time, users, the 1/5/15-minute load averages), or the
    load averages from ``/proc/loadavg`` where ``uptime`` is missing, or ``"unknown"``."""
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        try:
            return "load average: " + ", ".join(Path("/proc/loadavg").read_text().split()[:3])
        except OSError:
            return "unknown"


def load_1min() -> str:
    """The 1-minute load average, as ``/proc/loadavg`` writes it, or ``"unknown"``."""
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "unknown"


def load_averages() -> str:
    """The 1-, 5- and 15-minute load averages, space-separated (``"1.52 2.39 4.77"``), or
    ``"unknown"``."""
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def machine() -> str:
    """The machine in words: processor, CPU count, Python version
    (``"x86_64, 2 CPUs, Python 3.11.7"``)."""
    processor = platform.processor() or platform.machine()
    return f"{processor}, {os.cpu_count()} CPUs, Python {platform.python_version()}"


def checkout_label(folder: Path) -> str:
    """Another checkout as a report names it: its folder and short git commit (``no git
    commit`` where git knows none)."""
    done = subprocess.run(
        ["git", "-C", str(folder), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    )
    commit = done.stdout.strip() if done.returncode == 0 else "no git commit"
    return f"{folder} at {commit}"


def write_results(folder: Path, stem: str, payload: object, markdown: str) -> None:
    """Write ``folder/stem.json`` (``payload``, indented) and ``folder/stem.md`` (``markdown``,
    ending in one newline), each atomically, creating ``folder`` if needed."""
    folder.mkdir(parents=True, exist_ok=True)
    write_text_atomically(folder / f"{stem}.json", json.dumps(payload, indent=2) + "\n")
    write_text_atomically(folder / f"{stem}.md", markdown.rstrip("\n") + "\n")


def publish(
    args: argparse.Namespace,
    stem: str,
    title: str,
    table: str,
    note: str,
    command: str,
    load: tuple[str, str],
    measured: dict[str, object],
) -> None:
    """Print and write one benchmark's results. ``note`` (what the figures are) is followed by
    the ``command`` that ran, the machine, the date and the ``uptime`` lines
    before and after (``load``); ``args.results/stem.json`` holds the same with the settings
    (``args``) and ``measured`` (the rows and anything else measured), ``stem.md`` is
    ``# title``, the table and the note."""
    where = machine()
    before, after = load
    note = (
        f"{note} `{command}` on {where}, {datetime.date.today()}. "
        f"Load (`uptime`) before: `{before}`; after: `{after}`."
    )
    print(table + "\n\n" + note)
    payload = {
        "command": command,
        "machine": where,
        "load_before": before,
        "load_after": after,
        "settings": {**vars(args), "results": str(args.results)},
        **measured,
    }
    write_results(args.results, stem, payload, f"# {title}\n\n{table}\n\n{note}")
