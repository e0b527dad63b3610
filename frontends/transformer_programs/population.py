"""Many seeds of one Transformer Program architecture as one batched model: a config and S
seeds in; stacked weights (every parameter with a leading member axis), each member's loss from
one forward and backward, and any member back as a plain :class:`TransformerProgram`.

Member ``i`` starts from the weights ``TransformerProgram(config)`` has when built right after
``torch.manual_seed(seeds[i])``, as a single run of that seed does, and draws its Gumbel noise
from its own generator, seeded as a single run seeds torch's global one
(:func:`~.train.noise_seed`), for the same shapes in the same order as one model's forward pass.
Members share no weight, so the gradient of the *sum* of their losses is each member's own
gradient; Adam is elementwise. A member therefore trains as a single run of its seed would on
the same batches (up to the summation order of the batched products: see the tests).

The forward pass is the model's own, run once for all members by ``torch.func.vmap`` over
``torch.func.functional_call``; the members' noise is drawn before it (shapes found by one
forward pass on the meta device, no compute) and handed to the model through its
:attr:`~.model.TransformerProgram.noise` source.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor
from torch.func import functional_call, vmap

from rasp_ir.api import RaspError

from .config import ModelConfig
from .model import NOISY_MODES, SampleMode, TransformerProgram, model_to_load, token_loss
from .relaxation import gumbel_from_uniform_

NoiseShape = tuple[tuple[int, ...], torch.dtype]

# Sequences one vmapped pass holds at once: the members are run in chunks of this many sequences
# (all of them when the population's batch is smaller), inside one autograd graph and one
# backward pass. Measured on the 2-core CPU, 32 sort members at batch 512, 1 thread: chunks of
# 2,048 sequences (4 members) took 25 s per step, 4,096 took 27 s, 1,024 took 35 s and all
# 16,384 at once 35 s: the intermediates of a whole population outgrow the caches.
SEQUENCES_PER_CHUNK = 2048


class _Replay:
    """A noise source that hands out noise drawn beforehand, in order, checking each shape."""

    def __init__(self, draws: Sequence[Tensor]) -> None:
        self.draws = list(draws)
        self.used = 0

    def __call__(self, like: Tensor) -> Tensor:
        if self.used == len(self.draws) or self.draws[self.used].shape != like.shape:
            raise AssertionError("the population's noise does not follow the forward pass")
        self.used += 1
        return self.draws[self.used - 1]


class _Recorder:
    """A noise source that records the shape and dtype of every draw (and returns zeros)."""

    def __init__(self) -> None:
        self.shapes: list[NoiseShape] = []

    def __call__(self, like: Tensor) -> Tensor:
        self.shapes.append((tuple(like.shape), like.dtype))
        return torch.zeros_like(like)


class Population:
    """``len(seeds)`` Transformer Programs of ``config`` trained as one model.

    :attr:`weights` maps each parameter name of :class:`TransformerProgram` to a leaf tensor
    ``(S, *shape)``; :meth:`losses` takes tokens and targets ``(S, batch, positions)`` (each
    member its own batch) and returns the ``S`` losses of one forward pass.
    """

    def __init__(
        self,
        config: ModelConfig,
        seeds: Sequence[int],
        noise_seeds: Sequence[int],
        sequences_per_chunk: int = SEQUENCES_PER_CHUNK,
    ) -> None:
        if not seeds or len(set(seeds)) != len(seeds) or len(noise_seeds) != len(seeds):
            raise RaspError.single(
                "usage", f"a population needs distinct seeds, at least one: {list(seeds)}"
            )
        self.config = config
        self.seeds = tuple(seeds)
        members = []
        with torch.random.fork_rng(devices=[]):
            for seed in seeds:
                torch.manual_seed(seed)
                members.append(dict(TransformerProgram(config).named_parameters()))
        self.weights = {
            name: torch.stack([member[name].detach() for member in members]).requires_grad_()
            for name in members[0]
        }
        self.generators = [torch.Generator().manual_seed(seed) for seed in noise_seeds]
        self._model = model_to_load(config)
        self._model.attention_impl = "torch"  # vmap runs through torch ops, not the kernels
        self._shapes: dict[tuple[int, ...], list[NoiseShape]] = {}
        self.sequences_per_chunk = sequences_per_chunk

    @property
    def size(self) -> int:
        """The number of members."""
        return len(self.seeds)

    @property
    def device(self) -> torch.device:
        """Where the weights are."""
        return next(iter(self.weights.values())).device

    def to(self, device: torch.device) -> Population:
        """Move the weights, the model and the generators to ``device`` (before training: the
        generators start again from their seeds' states on the new device)."""
        if device == self.device:
            return self
        self.weights = {
            name: weight.detach().to(device).requires_grad_()
            for name, weight in self.weights.items()
        }
        self._model.to(device)
        self.generators = [
            torch.Generator(device).manual_seed(generator.initial_seed())
            for generator in self.generators
        ]
        return self

    def parameters(self) -> list[Tensor]:
        """The stacked weights, in the model's parameter order (for the optimiser)."""
        return list(self.weights.values())

    def losses(self, tokens: Tensor, targets: Tensor, tau: float, mode: SampleMode) -> Tensor:
        """Each member's :func:`~.model.token_loss` on its own batch, ``(S,)``: one vmapped
        forward pass at temperature ``tau`` with each member's own noise (over chunks of
        members holding about :attr:`sequences_per_chunk` sequences)."""
        self._model.set_sampling(tau=tau, mode=mode)
        noise = self.draw_noise(tuple(tokens.shape[1:])) if mode in NOISY_MODES else []
        members = max(1, self.sequences_per_chunk // max(1, tokens.shape[1]))
        chunk = members if members < self.size else None
        loss = vmap(self._member_loss, chunk_size=chunk)
        batched = loss(self.weights, tokens, targets, noise)
        assert isinstance(batched, Tensor)
        return batched

    def _member_loss(
        self, weights: dict[str, Tensor], tokens: Tensor, targets: Tensor, noise: list[Tensor]
    ) -> Tensor:
        replay = _Replay(noise)
        self._model.noise = replay
        try:
            logits = functional_call(self._model, weights, (tokens,))
        finally:
            self._model.noise = _Replay([])  # no draws outside :meth:`losses`
        if replay.used != len(noise):
            raise AssertionError("the forward pass drew less noise than was drawn for it")
        return token_loss(logits, targets)

    def draw_noise(self, batch_shape: tuple[int, ...]) -> list[Tensor]:
        """Every member's Gumbel noise for one forward pass on inputs of ``batch_shape``: one
        ``(S, *shape)`` tensor per draw, member ``i``'s slice from its own generator."""
        draws = []
        for shape, dtype in self._noise_shapes(batch_shape):
            noise = torch.empty(self.size, *shape, dtype=dtype, device=self.device)
            for index, generator in enumerate(self.generators):
                noise[index].uniform_(generator=generator)
            draws.append(gumbel_from_uniform_(noise))
        return draws

    def _noise_shapes(self, batch_shape: tuple[int, ...]) -> list[NoiseShape]:
        """The shapes one model's forward pass draws noise for, in order (found once per input
        shape by a forward pass on the meta device)."""
        if batch_shape not in self._shapes:
            with torch.device("meta"):
                model = model_to_load(self.config)
                recorder = _Recorder()
                model.noise = recorder
                model.set_sampling(tau=self._model.tau, mode="gumbel_soft")
                model.attention_impl = "torch"
                model(torch.zeros(batch_shape, dtype=torch.long))
            self._shapes[batch_shape] = recorder.shapes
        return self._shapes[batch_shape]

    def member(self, index: int) -> TransformerProgram:
        """Member ``index`` (a position in :attr:`seeds`) as a plain model on the CPU, with a
        copy of its current weights."""
        model = model_to_load(self.config)
        model.load_state_dict(
            {name: weight[index].detach().cpu().clone() for name, weight in self.weights.items()}
        )
        return model

    def gradient_norms(self) -> Tensor:
        """Each member's global L2 gradient norm, ``(S,)`` (as ``clip_grad_norm_`` computes it
        for one model: the norm of the per-parameter norms); inf or nan where not finite."""
        norms = [
            torch.linalg.vector_norm(weight.grad.flatten(1), dim=1)
            for weight in self.weights.values()
            if weight.grad is not None
        ]
        if not norms:
            return torch.zeros(self.size, device=self.device)
        total: Tensor = torch.linalg.vector_norm(torch.stack(norms, dim=1), dim=1)
        return total

    def clip_gradients(self, norms: Tensor, max_norm: float) -> None:
        """Scale each member's gradient to global norm at most ``max_norm`` given its norm,
        as ``torch.nn.utils.clip_grad_norm_`` scales one model's (never a shared norm)."""
        scale = torch.clamp(max_norm / (norms + 1e-6), max=1.0)
        for weight in self.weights.values():
            if weight.grad is not None:
                weight.grad.mul_(scale.view(-1, *[1] * (weight.dim() - 1)))

    def zero_gradients_of(self, members: Tensor) -> None:
        """Set the gradients of the members where ``members`` (bool, ``(S,)``) is true to 0."""
        for weight in self.weights.values():
            if weight.grad is not None:
                weight.grad[members] = 0.0

    def set_member(self, index: int, state: dict[str, Tensor]) -> None:
        """Give member ``index`` the weights of one model's ``state`` (a state dict)."""
        with torch.no_grad():
            for name, weight in self.weights.items():
                weight[index] = state[name]

    def copy_member(self, recipient: int, donor: int) -> None:
        """Give member ``recipient`` member ``donor``'s weights (its noise generator stays its
        own)."""
        with torch.no_grad():
            for weight in self.weights.values():
                weight[recipient] = weight[donor]

    def keep(self, members: Sequence[int]) -> None:
        """Go on with the members at positions ``members`` only (in that order): their weights,
        generators and seeds; the others are dropped (a cull, :mod:`.cull`)."""
        index = torch.tensor(list(members), device=self.device)
        self.weights = {
            name: weight.detach()[index].clone().requires_grad_()
            for name, weight in self.weights.items()
        }
        self.generators = [self.generators[member] for member in members]
        self.seeds = tuple(self.seeds[member] for member in members)

    def generator_states(self) -> list[Tensor]:
        """Each member's noise generator state (to save)."""
        return [generator.get_state() for generator in self.generators]

    def restore(self, weights: dict[str, Tensor], generator_states: Sequence[Tensor]) -> None:
        """Load stacked ``weights`` (by parameter name) and the generators' states."""
        with torch.no_grad():
            for name, weight in self.weights.items():
                weight.copy_(weights[name])
        for generator, state in zip(self.generators, generator_states, strict=True):
            generator.set_state(state)

    def state(self) -> dict[str, Tensor]:
        """The stacked weights by parameter name (detached, for saving)."""
        return {name: weight.detach() for name, weight in self.weights.items()}
