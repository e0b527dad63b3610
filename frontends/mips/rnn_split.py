"""An RNN on its task's test split as a lift reference: a trained run, the machine being lifted,
the split's size and seed in, the split's inputs as program tokens with the RNN's rounded
outputs on them (a :class:`~.certify.Reference`) out.

The split is the one ``rasp mips verify`` checks: ``make_split(task, sequences, seed)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from rasp_ir.api import CheckedInputs

from .affine import AffineMachine
from .certify import Reference
from .command_defaults import SPLIT_SEQUENCES
from .machine import FiniteMachine
from .task_spec import IntArray

if TYPE_CHECKING:
    from .run_files import Run

Machine = FiniteMachine | AffineMachine


def program_tokens(x: IntArray, machine: Machine) -> list[list[int]]:
    """Input sequences ``(n, T)`` or ``(n, T, 2)`` as the program tokens of their symbols
    (``machine.tokens``); a RaspError names a symbol outside the machine's alphabet."""
    from .extract import symbol_indices

    table = np.array(machine.tokens, dtype=np.int64)
    tokens: list[list[int]] = table[symbol_indices(x, machine.alphabet)].tolist()
    return tokens


def rnn_split_reference(
    run: Run, machine: Machine, sequences: int = SPLIT_SEQUENCES, seed: int = 0, name: str = "RNN"
) -> Reference:
    """The RNN of ``run`` on the test split of its task (``sequences`` generated with ``seed``),
    as the reference group ``rnn_split`` called ``name``."""
    from .task_spec import make_split
    from .verify_machine import model_reference

    x = make_split(run.task, sequences, seed).x_test
    expected: list[list[int]] = np.asarray(model_reference(run.model)(x)).tolist()
    check = CheckedInputs("rnn_split", "split", 0, 0, seed=seed)
    return Reference(name, check, program_tokens(x, machine), expected)
