"""``rasp export``: a program or a compiled model and a target name in, the files another tool
reads out. Targets belong to backends: a backend lists them in its ``exporters`` table (target
name to a function of the source path, the output folder and the header overrides that returns
the paths it wrote), so a plugin backend adds targets without touching the hub."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from rasp_ir.cli.common import add_command, add_header_options, header_overrides
from rasp_ir.cli.output import err
from rasp_ir.diagnostics import RaspError
from rasp_ir.registry import load_backend
from rasp_ir.syntax import HeaderOverrides

if TYPE_CHECKING:
    from rasp_ir.cli.common import Subparsers

Exporter = Callable[[Path, Path, HeaderOverrides], list[Path]]

EPILOG = """\
A target belongs to a backend (--backend, default torch). The torch backend's target:
  transformer-lens   a TransformerLens checkpoint: config.json, model.safetensors, labels.json

MODEL is a .rasp program (compiled by the backend first) or a model written by
`rasp compile --backend torch -o MODEL`.

examples:
  rasp export examples/reverse.rasp --to transformer-lens -o reverse-tl
  rasp compile examples/hist.rasp --backend torch -o hist
  rasp export hist --to transformer-lens -o hist-tl
"""


def register(subparsers: Subparsers) -> None:
    """Add ``rasp export``."""
    parser = add_command(
        subparsers,
        "export",
        export_command,
        summary="export a program or compiled model for another tool (e.g. TransformerLens)",
        description="Write a compiled model in the format another tool loads.",
        epilog=EPILOG,
    )
    parser.add_argument("model", metavar="MODEL", help="a .rasp program or a compiled model")
    parser.add_argument("--to", required=True, metavar="TARGET", help="e.g. transformer-lens")
    parser.add_argument("-o", "--output", required=True, metavar="DIR", help="the folder to write")
    parser.add_argument("--backend", "-b", default="torch", metavar="NAME", help="default: torch")
    add_header_options(parser)


def export_command(args: argparse.Namespace) -> int:
    """Export ``args.model`` to ``args.to`` in ``args.output``."""
    exporter = load_exporter(args.backend, args.to)
    for path in exporter(Path(args.model), Path(args.output), header_overrides(args)):
        err(f"wrote {path}")
    return 0


def load_exporter(backend_name: str, target: str) -> Exporter:
    """The export function of ``target`` in the backend ``backend_name``; a RaspError naming the
    backend's targets when it has no such one."""
    backend = load_backend(backend_name)
    exporters: Mapping[str, Exporter] = getattr(backend, "exporters", {})
    if target not in exporters:
        known = ", ".join(sorted(exporters)) or "none"
        raise RaspError.single(
            "usage",
            f"the {backend.name} backend has no export target {target!r}",
            hint=f"its targets: {known}",
        )
    return exporters[target]
