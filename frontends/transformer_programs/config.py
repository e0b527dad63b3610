"""Model and training settings as plain data: the paper's per-task configurations in, JSON out.

No torch here, so the CLI can build its parser and read a run folder without importing it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

PAD = "<pad>"
BOS = "<s>"
EOS = "</s>"
UNK = "<unk>"


@dataclass(frozen=True)
class ModelConfig:
    """The architecture of one Transformer Program.

    ``vocab`` is ``idx_w`` (``<pad>`` first), ``classes`` is ``idx_t`` (``<pad>`` first);
    ``n_ctx`` (N) is the most positions an input has, BOS included; ``d_var`` (k) is the number
    of values of every categorical variable (k >= N and k >= len(vocab)). Heads and MLPs are
    per layer. ``unembed_mask``: the ``<pad>`` and ``<unk>`` classes are never predicted.
    ``embedding_chunks`` (m): 0 for the one-hot token embedding; otherwise the paper's factored
    embedding (§5), which gives each word m categorical values of k each, learned (then k need
    not cover the vocabulary). ``pool_outputs``: the classification readout of §10, which reads
    position 0 (where the label sits) from the features pooled over every real position.
    """

    vocab: tuple[str, ...]
    classes: tuple[str, ...]
    n_ctx: int
    d_var: int
    n_layers: int
    n_heads_cat: int
    n_heads_num: int
    n_cat_mlps: int
    n_num_mlps: int
    d_mlp: int = 64
    causal: bool = False
    unembed_mask: bool = True
    embedding_chunks: int = 0
    pool_outputs: bool = False

    def __post_init__(self) -> None:
        if self.embedding_chunks < 0:
            raise ValueError(f"embedding_chunks must be >= 0, not {self.embedding_chunks}")
        if self.d_var < self.n_ctx or (not self.embedding_chunks and self.d_var < len(self.vocab)):
            raise ValueError(
                f"d_var (k = {self.d_var}) must be at least n_ctx ({self.n_ctx}) and, with "
                f"one-hot tokens, the vocabulary size ({len(self.vocab)})"
            )
        if not self.vocab or self.vocab[0] != PAD or not self.classes or self.classes[0] != PAD:
            raise ValueError("vocab and classes must start with <pad>")
        if BOS not in self.vocab:
            raise ValueError("the vocabulary must contain <s> (every input starts with it)")
        if self.pool_outputs and self.causal:
            raise ValueError("a pooled readout reads every position: it cannot be causal")
        counts = (self.n_layers, self.n_heads_cat, self.n_heads_num, self.n_cat_mlps)
        if min(*counts, self.n_num_mlps) < 0 or self.n_layers < 1 or self.n_ctx < 3:
            raise ValueError("n_layers >= 1, n_ctx >= 3 and non-negative head and MLP counts")

    @property
    def n_token_vars(self) -> int:
        """Categorical variables the token embedding gives: ``tokens`` itself (one-hot), or
        one per chunk of the factored embedding."""
        return self.embedding_chunks or 1

    def n_cat_vars(self, layer: int) -> int:
        """Categorical variables entering ``layer`` (the token variables, positions, earlier
        outputs)."""
        per_layer = self.n_heads_cat + self.n_cat_mlps + self.n_num_mlps
        return self.n_token_vars + 1 + layer * per_layer

    def n_num_vars(self, layer: int) -> int:
        """Numerical variables entering ``layer`` (``ones``, earlier numerical heads)."""
        return 1 + layer * self.n_heads_num

    def architecture(self) -> Architecture:
        """Layers, heads and MLPs of this model."""
        return Architecture(
            self.n_layers, self.n_heads_cat, self.n_heads_num, self.n_cat_mlps, self.n_num_mlps
        )

    def masked_classes(self) -> tuple[int, ...]:
        """Class indices the readout never predicts (none when the output mask is off)."""
        if not self.unembed_mask:
            return ()
        return tuple(i for i, c in enumerate(self.classes) if c in (PAD, UNK))

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        data = asdict(self)
        data["vocab"] = list(self.vocab)
        data["classes"] = list(self.classes)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ModelConfig:
        """The inverse of :meth:`to_json`; ``ValueError`` on unknown or missing fields."""
        names = {f.name for f in fields(cls)}
        unknown = set(data) - names
        if unknown:
            raise ValueError(f"unknown config fields: {', '.join(sorted(unknown))}")
        values = dict(data)
        values["vocab"] = tuple(str(v) for v in data["vocab"])
        values["classes"] = tuple(str(v) for v in data["classes"])
        return cls(**values)


@dataclass(frozen=True)
class Architecture:
    """Layers and heads/MLPs per layer, as in the paper's Table 1 (split cat + num)."""

    n_layers: int
    n_heads_cat: int
    n_heads_num: int
    n_cat_mlps: int
    n_num_mlps: int

    @classmethod
    def split(cls, layers: int, heads: int, mlps: int) -> Architecture:
        """``layers`` layers of ``heads`` attention heads and ``mlps`` MLPs, each split evenly
        between categorical and numerical (the odd one is categorical), as the paper counts."""
        return cls(layers, heads - heads // 2, heads // 2, mlps - mlps // 2, mlps // 2)

    def label(self) -> str:
        """``L/H/M`` as the paper writes it: layers, heads and MLPs per layer."""
        heads = self.n_heads_cat + self.n_heads_num
        return f"{self.n_layers}/{heads}/{self.n_cat_mlps + self.n_num_mlps}"


# Paper Table 1: layers / heads / MLPs per layer (H and M split evenly between categorical and
# numerical); induction: 1 categorical head and no MLPs.
PAPER_ARCHITECTURES: dict[str, Architecture] = {
    "reverse": Architecture.split(3, 8, 2),
    "hist": Architecture.split(1, 4, 2),
    "double_hist": Architecture.split(3, 4, 2),
    "sort": Architecture.split(3, 8, 4),
    "most_freq": Architecture.split(3, 8, 4),
    "dyck1": Architecture.split(3, 8, 2),
    "dyck2": Architecture.split(3, 4, 4),
    "induction": Architecture(2, 1, 0, 0, 0),
}

# The paper's model-selection grid (App. B): layers x heads x MLPs per layer, each run with 5
# seeds; Table 1 reports the configuration with the best validation accuracy.
PAPER_GRID: tuple[Architecture, ...] = tuple(
    Architecture.split(layers, heads, mlps)
    for layers in (2, 3)
    for heads in (4, 8)
    for mlps in (2, 4)
)

# Paper Table 1 test accuracy (%), categorical + numerical programs.
PAPER_ACCURACY: dict[str, float] = {
    "reverse": 99.79,
    "hist": 100.0,
    "double_hist": 98.40,
    "sort": 99.83,
    "most_freq": 75.69,
    "dyck1": 99.30,
    "dyck2": 99.09,
}


# How the discrete choices are relaxed while training (§4); "argmax" is the trained model's.
# "gumbel_hard" is the repo's straight-through option (one-hot forward values, soft gradients),
# with the categorical attention's logits differentiated at the soft samples
# (:func:`~.model.straight_through_attention`).
TRAINING_SAMPLERS: tuple[str, ...] = ("gumbel_soft", "gumbel_hard", "softmax")


# Learning-rate schedules over the whole run (after any warm-up): the paper's constant rate, or
# a cosine decay from ``lr`` to 0 at the last step.
LR_SCHEDULES: tuple[str, ...] = ("constant", "cosine")


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings (paper App. B / repo scripts for the algorithmic tasks).

    ``sampler`` relaxes every discrete choice while training (§4: ``gumbel_soft``, the paper's;
    ``gumbel_hard``, its straight-through form; ``softmax``, no noise); ``gumbel_samples``
    averages the loss of each batch over that many independent draws of every choice, the last
    ``hard_samples`` of them straight-through (``gumbel_hard``) whatever the sampler: a loss
    that mixes the relaxed model's with sampled programs'.
    ``clip_grad_norm`` rescales each step's gradient to at most that global norm (None: no
    clipping, the paper's recipe).

    Beyond the paper (each default is the paper's behaviour): ``lr_schedule`` (one of
    :data:`LR_SCHEDULES`) after ``warmup_epochs`` of linear warm-up; ``restart_drop``: a run
    whose argmax validation accuracy stays more than this (a fraction: 0.1 is 10 points) below
    its best epoch's for ``restart_patience`` epochs in a row has collapsed, and restarts from
    its best epoch's weights with a fresh optimiser state and its learning rate multiplied by
    ``restart_lr_factor`` (None: never restart); ``choice_entropy``: each step's loss gains that
    weight times the mean entropy of the structure choices' distributions
    (:mod:`.choice_entropy`; the recorded loss is the token loss alone); ``exploit_every``: a
    population's worst ``exploit_fraction`` of members copy the training state of its best
    every that many epochs from epoch ``exploit_start`` on, where the best's mean
    ``exploit_score`` over those epochs (validation accuracy or training loss) is better than
    theirs by more than ``exploit_margin`` (:mod:`.exploit`; None: never, and a single run never
    does); ``cull_after``: after that epoch a population goes on with only its ``cull_keep``
    members (None: a quarter) of lowest relaxed training loss over the last epochs, the others
    stopping there (:mod:`.cull`; None: never). ``recipe`` names the
    preset these settings started from (:mod:`.recipes`); it is a label, the other fields are
    what training uses."""

    epochs: int = 250
    batch_size: int = 512
    lr: float = 5e-2
    tau_init: float = 3.0
    tau_end: float = 0.01
    seed: int = 0
    dataset_size: int = 20_000
    sampler: str = "gumbel_soft"
    gumbel_samples: int = 1
    hard_samples: int = 0
    clip_grad_norm: float | None = None
    lr_schedule: str = "constant"
    warmup_epochs: int = 0
    restart_drop: float | None = None
    restart_patience: int = 3
    restart_lr_factor: float = 1.0
    choice_entropy: float = 0.0
    exploit_every: int | None = None
    exploit_start: int = 0
    exploit_score: str = "val_accuracy"
    exploit_fraction: float = 0.25
    exploit_margin: float = 0.05
    cull_after: int | None = None
    cull_keep: int | None = None
    recipe: str = "paper"

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TrainConfig:
        """The inverse of :meth:`to_json`."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


def paper_epochs(task: str) -> int:
    """Epochs of the paper's run for ``task`` (the induction script uses 500)."""
    return 500 if task == "induction" else 250
