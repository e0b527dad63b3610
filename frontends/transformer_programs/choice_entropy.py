"""The entropy of a Transformer Program's structure choices: the categorical distributions
``softmax(logits)`` over the last axis of every read, predicate and factored-embedding
parameter (reference §4: the programs training samples from). Parameters by ``state_dict``
name in; their mean entropy per row, in nats, out: a penalty on it makes training commit to one
program rather than a mixture the argmax model cannot reproduce.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import Tensor

# The last component of the name of every parameter that is a discrete structure choice.
CHOICE_PARAMETERS: frozenset[str] = frozenset(
    {
        "cat_query",
        "cat_key",
        "cat_value",
        "cat_predicate",
        "num_query",
        "num_key",
        "num_value",
        "num_predicate",
        "mlp_read",
        "num_mlp_read",
        "embedding",
    }
)


def is_choice(name: str) -> bool:
    """Whether the parameter ``name`` (a ``state_dict`` name) is a structure choice."""
    return name.rsplit(".", 1)[-1] in CHOICE_PARAMETERS


def mean_choice_entropy(parameters: Mapping[str, Tensor]) -> Tensor:
    """The mean entropy in nats over every row of every choice among ``parameters``, each
    holding a leading member axis (one model: a member axis of 1): ``(members,)``. Zero when
    there are no choices."""
    total: Tensor | None = None
    rows = 0
    for name, logits in parameters.items():
        if not is_choice(name) or logits[0].numel() == 0:
            continue
        log_p = torch.log_softmax(logits.float(), dim=-1)
        entropy = -(log_p.exp() * log_p).sum(-1).flatten(1)
        total = entropy.sum(-1) if total is None else total + entropy.sum(-1)
        rows += entropy.shape[1]
    if total is None:
        first = next(iter(parameters.values()))
        return torch.zeros(first.shape[0], device=first.device)
    return total / rows
