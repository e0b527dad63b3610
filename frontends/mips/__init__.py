"""MIPS (Michaud et al., 2024): the 62 sequence tasks, small RNNs trained on them, the Moore
machines read off those RNNs, and those machines lifted exactly into RASP programs.

A spoke registered like any third-party plugin (``pyproject.toml``): frontend ``mips`` (a
machine JSON file in, the exact program and its certificate out) and command ``rasp mips``.
Importing this package is cheap (no torch).
"""

from __future__ import annotations

from pathlib import Path
from types import MappingProxyType

from rasp_ir.api import Lifted, LiftOptions

__all__ = ["FRONTEND", "MipsFrontend"]


class MipsFrontend:
    """The ``mips`` frontend: a Moore machine JSON file in, the exact program whose output at
    each position is the machine's output after the inputs so far, with a certificate, out."""

    name = "mips"
    description = "MIPS: a finite or integer-affine Moore machine (JSON), lifted exactly"
    settings = MappingProxyType(
        {
            "construction": "force windows | counts | doubling (finite machines), prefix_sums | "
            "affine_windows | polynomial_sums | periodic_sums (affine ones) (default: the "
            "cheapest that applies)"
        }
    )

    def lift(self, source: Path, options: LiftOptions) -> Lifted:
        """Lift the machine file ``source``, certified on every input up to a length and on
        random inputs of the longest length; a RaspError unless program and machine agree."""
        from .lift import lift_file

        return lift_file(Path(source), options)


FRONTEND = MipsFrontend()
