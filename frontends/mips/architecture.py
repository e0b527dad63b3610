"""The architecture space of the smallest-architecture search (reference §5): a 5-tuple of
GeneralRNN sizes in, its mixed-radix integer code (and back), its equivalence class and its
:class:`RNNConfig` for a task out.

The digits, most significant first: output depth (1-3), hidden depth (1-3), hidden size ``D``
(1-128), output width (1-256), hidden width (1-256). Two tuples are the same network when they
differ only in the width of an MLP of depth 1 (a single affine map has no width):
:meth:`Architecture.canonical` sets such widths to 1.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

from rasp_ir.api import RaspError

from .rnn import RNNConfig
from .task_spec import Task

RADICES = (3, 3, 128, 256, 256)
"""How many values each digit takes (each digit starts at 1)."""
SPACE_SIZE = 3 * 3 * 128 * 256 * 256


@dataclass(frozen=True, order=True)
class Architecture:
    """One point of the search space; ordering is the order of the integer codes."""

    output_depth: int
    hidden_depth: int
    hidden_dim: int
    output_width: int
    hidden_width: int

    def __post_init__(self) -> None:
        digits = self.digits()
        if any(not 1 <= d <= r for d, r in zip(digits, RADICES, strict=True)):
            raise RaspError.single(
                "mips-search",
                f"architecture {digits} is outside the search space",
                hint="depths 1-3, hidden size 1-128, widths 1-256",
            )

    def digits(self) -> tuple[int, ...]:
        """The five sizes, most significant first."""
        return tuple(getattr(self, f.name) for f in fields(self))

    def encode(self) -> int:
        """The mixed-radix code: 0 for all ones, :data:`SPACE_SIZE` - 1 for the largest."""
        code = 0
        for digit, radix in zip(self.digits(), RADICES, strict=True):
            code = code * radix + (digit - 1)
        return code

    @staticmethod
    def decode(code: int) -> Architecture:
        """The architecture of an integer code in ``0 .. SPACE_SIZE - 1``."""
        if not 0 <= code < SPACE_SIZE:
            raise RaspError.single("mips-search", f"code {code} is outside the search space")
        digits = []
        for radix in reversed(RADICES):
            code, digit = divmod(code, radix)
            digits.append(digit + 1)
        return Architecture(*reversed(digits))

    def canonical(self) -> Architecture:
        """The same network with every irrelevant width (that of a depth-1 MLP) set to 1."""
        return replace(
            self,
            output_width=self.output_width if self.output_depth > 1 else 1,
            hidden_width=self.hidden_width if self.hidden_depth > 1 else 1,
        )

    def config(self, task: Task) -> RNNConfig:
        """The GeneralRNN configuration of this architecture for ``task``'s input and output."""
        return RNNConfig(
            input_dim=task.alphabet.width,
            output_dim=task.outputs.width,
            hidden_dim=self.hidden_dim,
            hidden_depth=self.hidden_depth,
            hidden_width=self.hidden_width,
            output_depth=self.output_depth,
            output_width=self.output_width,
        )

    def slug(self) -> str:
        """A folder name: ``o2-h2-d4-ow32-hw32``."""
        o, h, d, ow, hw = self.digits()
        return f"o{o}-h{h}-d{d}-ow{ow}-hw{hw}"

    def describe(self) -> str:
        """Human-readable: ``D=4, hidden MLP 2x32, output MLP 2x32`` (linear parts named)."""
        hidden = "linear" if self.hidden_depth == 1 else f"{self.hidden_depth}x{self.hidden_width}"
        output = "linear" if self.output_depth == 1 else f"{self.output_depth}x{self.output_width}"
        return f"D={self.hidden_dim}, hidden MLP {hidden}, output MLP {output}"

    def to_json(self) -> dict[str, int]:
        """The five sizes by name."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @staticmethod
    def from_json(data: Any) -> Architecture:
        """An architecture from :meth:`to_json`'s form; a RaspError for anything else."""
        names = [f.name for f in fields(Architecture)]
        if not isinstance(data, dict) or sorted(data) != sorted(names):
            raise RaspError.single(
                "mips-search",
                f"not an architecture: {data!r:.80}",
                hint=f"expected an object with the fields {', '.join(names)}",
            )
        values = [data[name] for name in names]
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            raise RaspError.single("mips-search", f"architecture sizes must be integers: {data}")
        return Architecture(*values)
