"""The Transformer Program model (reference §3-§10): token indices in, class logits out.

A disentangled residual stream of whole variables: categorical variables are one-hot blocks of
width ``k`` (``x_cat``: batch x positions x variables x k), numerical ones scalars (``x_num``:
batch x positions x variables). Every module reads whole variables through a learned
categorical choice and appends one new variable. Every discrete choice goes through
:func:`sample`: Gumbel-softmax while training, the argmax (ties to the first index) after. The
token embedding is one of them (§5): frozen logits of +-:data:`TOKEN_LOGIT`, one table drawn per
forward pass, exactly one-hot at argmax and nearly so while training (about 1% of its mass is
spread at the first temperature). Under ``gumbel_hard`` (straight-through) every choice's forward
value is one-hot, so the forward pass is a sampled discrete program, differentiated as the
Gumbel-softmax relaxation of it.

In ``argmax`` mode the model is evaluated in float64: one-hot values and counts are exact in
either precision, but float64 makes the MLP argmaxes and the readout sums of float32 weights
independent of BLAS summation order (the readout is exact when :func:`readout_exact` holds).
The attention cores are the functions :func:`categorical_attention` and
:func:`numerical_attention`; while training, ``attention_impl`` picks the fused Triton kernels
of :mod:`rasp_ir.kernels.categorical_attention` and :mod:`rasp_ir.kernels.numerical_attention`
instead (``auto``: on CUDA when triton imports), with the Gumbel noise drawn exactly as
:func:`sample` draws it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rasp_ir.kernels.categorical_attention import MASKED, attention_logits, match_scores
from rasp_ir.kernels.categorical_attention import categorical_attention as fused_attention
from rasp_ir.kernels.numerical_attention import numerical_attention as fused_count
from rasp_ir.kernels.program_exec import Impl, use_kernels

from .config import ModelConfig
from .distinct_rows import once_per_distinct_row
from .relaxation import gumbel_noise, softmax_last

SampleMode = Literal["gumbel_soft", "gumbel_hard", "softmax", "argmax"]
TOKEN_LOGIT = 10.0
# The training modes that draw Gumbel noise.
NOISY_MODES: tuple[SampleMode, ...] = ("gumbel_soft", "gumbel_hard")

# Where Gumbel noise comes from: a tensor in, standard Gumbel noise of its shape, dtype and
# device out. Training one model draws from torch's global generator (:func:`gumbel_noise`); a
# population gives each member its own generator (:mod:`.population`).
NoiseSource = Callable[[Tensor], Tensor]


def sample(
    logits: Tensor, tau: float, mode: SampleMode, noise: NoiseSource = gumbel_noise
) -> Tensor:
    """A distribution over the last axis: Gumbel-softmax at ``tau`` (its noise from
    ``noise``), its straight-through form (:func:`straight_through`), plain softmax, or the
    one-hot argmax (ties go to the first index)."""
    if mode == "argmax":
        return F.one_hot(logits.argmax(-1), logits.shape[-1]).to(logits.dtype)
    if mode == "softmax":
        return softmax_last(logits / tau)
    if mode == "gumbel_hard":
        return straight_through(logits, tau, noise)[0]
    return softmax_last((logits + noise(logits)) / tau)


def straight_through(
    logits: Tensor, tau: float, noise: NoiseSource = gumbel_noise
) -> tuple[Tensor, Tensor]:
    """The straight-through Gumbel sample (§4, ``gumbel_hard``) and the Gumbel-softmax sample
    behind it, one noise draw for both: ``(hard, soft)``. ``hard``'s values are exactly the
    one-hot argmax of ``logits + g`` (``soft - soft`` adds exact zeros); its gradient is
    ``soft``'s."""
    perturbed = logits + noise(logits)
    soft = softmax_last(perturbed / tau)
    one_hot = torch.zeros_like(soft).scatter(-1, perturbed.argmax(-1, keepdim=True), 1.0)
    return one_hot + (soft - soft.detach()), soft


def position_bias(n_ctx: int) -> Tensor:
    """The fixed additive bias ``beta[i, j]`` (§7.3): self -2; key right at distance d:
    ``-(d-1)/(N-2)``; key left at distance d: ``-(d-1)/(N-1)``."""
    positions = torch.arange(n_ctx)
    d = positions[None, :] - positions[:, None]
    right = -(d - 1).double() / (n_ctx - 2)
    left = -(d.abs() - 1).double() / (n_ctx - 1)
    bias = torch.where(d > 0, right, left)
    return torch.where(d == 0, torch.full_like(bias, -2.0), bias)


def categorical_attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    predicate: Tensor,
    mask: Tensor,
    bias: Tensor,
    tau: float,
    mode: SampleMode,
    noise: NoiseSource = gumbel_noise,
) -> Tensor:
    """Hard (at argmax) attention with the BOS default and the nearest-match bias (§7.2).

    Shapes: ``query``/``key``/``value`` batch x heads x positions x k, ``predicate`` heads x
    k x k, ``mask`` batch x positions x positions (bool, allowed key per query), ``bias``
    positions x positions. Returns the copied values, batch x heads x positions x k. In argmax
    mode each query's chosen key's value is gathered: bit for bit the product with the one-hot
    pattern (which only adds exact zeros), without its cost.
    """
    logits = attention_logits(query, key, predicate, mask, bias)
    if mode == "argmax":
        chosen = logits.argmax(-1)[..., None].expand(*logits.shape[:-1], value.shape[-1])
        return value.gather(2, chosen)
    return sample(logits, tau, mode, noise) @ value


def straight_through_attention(
    hard: tuple[Tensor, Tensor, Tensor],
    soft: tuple[Tensor, Tensor, Tensor],
    value: Tensor,
    mask: Tensor,
    bias: Tensor,
    tau: float,
    noise: NoiseSource = gumbel_noise,
) -> Tensor:
    """:func:`categorical_attention` under ``gumbel_hard``: the hard attention of the one-hot
    ``hard`` query, key and predicate (their straight-through samples), with the gradient of the
    logits taken at the ``soft`` ones (the Gumbel-softmax samples behind them).

    At one-hot values the match scores are exact zeros and ones, where ``log(S + 1e-20)`` has
    the derivative 1e20 (finite gradients overflow within a few steps); the soft values are
    where the paper's relaxation differentiates it. Forward values: the hard logits exactly (the
    soft ones enter as ``x - x``). Shapes as :func:`categorical_attention`.
    """
    exact = attention_logits(*hard, mask, bias).detach()
    relaxed = attention_logits(*soft, mask, bias)
    logits = exact + (relaxed - relaxed.detach())
    return straight_through(logits, tau, noise)[0] @ value


def numerical_attention(
    query: Tensor, key: Tensor, value: Tensor, predicate: Tensor, mask: Tensor
) -> Tensor:
    """Counting (§8): the sum of ``value`` (batch x heads x positions) over matching keys."""
    scores = match_scores(query, key, predicate, mask)
    return torch.einsum("bhij,bhj->bhi", scores, value)


def mlp_scores(inputs: Tensor, w_in: Tensor, b_in: Tensor, w_out: Tensor, b_out: Tensor) -> Tensor:
    """``W_out relu(W_in u + b_in) + b_out`` for every MLP at once.

    ``inputs``: ... x mlps x d_in; weights: mlps x d_mlp x d_in, mlps x d_mlp, mlps x k x
    d_mlp, mlps x k. Returns ... x mlps x k.
    """
    hidden = torch.relu(torch.einsum("...mi,mdi->...md", inputs, w_in) + b_in)
    return torch.einsum("...md,mkd->...mk", hidden, w_out) + b_out


def mlp_logits(inputs: Tensor, w_in: Tensor, b_in: Tensor, w_out: Tensor, b_out: Tensor) -> Tensor:
    """``log_softmax`` of :func:`mlp_scores`: the MLPs' output logits (shapes as there)."""
    return torch.log_softmax(mlp_scores(inputs, w_in, b_in, w_out, b_out), dim=-1)


# A parameter's shape and the scale of its normal initialisation (None: zeros).
ParameterSpec = tuple[tuple[int, ...], float | None]


def layer_parameters(config: ModelConfig, layer: int) -> dict[str, ParameterSpec]:
    """The parameters of layer ``layer``, in the order they are made (and drawn): categorical
    and numerical heads, then both kinds of MLP."""
    k, dm = config.d_var, config.d_mlp
    hc, hn = config.n_heads_cat, config.n_heads_num
    mc, mn = config.n_cat_mlps, config.n_num_mlps
    n_cat, n_num = config.n_cat_vars(layer), config.n_num_vars(layer)
    return {
        "cat_query": ((hc, n_cat), n_cat**-0.5),
        "cat_key": ((hc, n_cat), n_cat**-0.5),
        "cat_value": ((hc, n_cat), n_cat**-0.5),
        "cat_predicate": ((hc, k, k), k**-0.5),
        "num_query": ((hn, n_cat), n_cat**-0.5),
        "num_key": ((hn, n_cat), n_cat**-0.5),
        "num_value": ((hn, n_num), n_num**-0.5),
        "num_predicate": ((hn, k, k), k**-0.5),
        "mlp_read": ((mc, 2, n_cat + hc), (n_cat + hc) ** -0.5),
        "mlp_w_in": ((mc, dm, 2 * k), dm**-0.5),
        "mlp_b_in": ((mc, dm), None),
        "mlp_w_out": ((mc, k, dm), k**-0.5),
        "mlp_b_out": ((mc, k), None),
        "num_mlp_read": ((mn, 2, n_num + hn), (n_num + hn) ** -0.5),
        "num_mlp_w_in": ((mn, dm, 2), dm**-0.5),
        "num_mlp_b_in": ((mn, dm), None),
        "num_mlp_w_out": ((mn, k, dm), k**-0.5),
        "num_mlp_b_out": ((mn, k), None),
    }


def model_parameters(config: ModelConfig) -> dict[str, ParameterSpec]:
    """The model's own parameters after its layers': the factored token embedding (when the
    config has one) and the readout."""
    specs: dict[str, ParameterSpec] = {}
    if config.embedding_chunks:
        shape = (len(config.vocab), config.embedding_chunks, config.d_var)
        specs["embedding"] = (shape, (config.embedding_chunks * config.d_var) ** -0.5)
    n_cat = config.n_cat_vars(config.n_layers) * config.d_var
    n_classes = len(config.classes)
    specs["unembed"] = ((n_cat + config.n_num_vars(config.n_layers), n_classes), n_classes**-0.5)
    return specs


def parameter_shapes(config: ModelConfig) -> dict[str, tuple[int, ...]]:
    """Every parameter of ``TransformerProgram(config)`` by its ``state_dict`` name, with its
    shape, and no tensor made: what a checkpoint's weights are checked against before a model
    is built (building one on the meta device would import torch's compiler, about a second)."""
    shapes = {
        f"layers.{layer}.{name}": shape
        for layer in range(config.n_layers)
        for name, (shape, _) in layer_parameters(config, layer).items()
    }
    shapes.update({name: shape for name, (shape, _) in model_parameters(config).items()})
    return shapes


def _parameter(spec: ParameterSpec) -> nn.Parameter:
    shape, scale = spec
    if scale is None:
        return nn.Parameter(torch.zeros(*shape))
    return nn.Parameter(torch.randn(*shape) * scale)


class Layer(nn.Module):
    """One layer's parameters (:func:`layer_parameters`)."""

    cat_query: nn.Parameter
    cat_key: nn.Parameter
    cat_value: nn.Parameter
    cat_predicate: nn.Parameter
    num_query: nn.Parameter
    num_key: nn.Parameter
    num_value: nn.Parameter
    num_predicate: nn.Parameter
    mlp_read: nn.Parameter
    mlp_w_in: nn.Parameter
    mlp_b_in: nn.Parameter
    mlp_w_out: nn.Parameter
    mlp_b_out: nn.Parameter
    num_mlp_read: nn.Parameter
    num_mlp_w_in: nn.Parameter
    num_mlp_b_in: nn.Parameter
    num_mlp_w_out: nn.Parameter
    num_mlp_b_out: nn.Parameter

    def __init__(self, config: ModelConfig, layer: int) -> None:
        super().__init__()
        for name, spec in layer_parameters(config, layer).items():
            self.register_parameter(name, _parameter(spec))


class TransformerProgram(nn.Module):
    """A Transformer Program; ``tau`` and ``mode`` set how every discrete choice is sampled,
    ``noise`` where its Gumbel noise comes from (torch's global generator by default)."""

    embedding: nn.Parameter
    unembed: nn.Parameter

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        self.layers = nn.ModuleList(Layer(config, layer) for layer in range(config.n_layers))
        for name, spec in model_parameters(config).items():
            self.register_parameter(name, _parameter(spec))
        self.register_buffer("bias", position_bias(config.n_ctx), persistent=False)
        self.tau = 1.0
        self.mode: SampleMode = "gumbel_soft"
        self.attention_impl: Impl = "auto"
        self.noise: NoiseSource = gumbel_noise

    def set_sampling(self, tau: float | None = None, mode: SampleMode | None = None) -> None:
        """Set the temperature and/or the sampling mode of every module at once."""
        if tau is not None:
            self.tau = tau
        if mode is not None:
            self.mode = mode

    def layer(self, index: int) -> Layer:
        """The parameters of layer ``index``."""
        layer = self.layers[index]
        assert isinstance(layer, Layer)
        return layer

    @property
    def dtype(self) -> torch.dtype:
        """float64 for the argmax (discrete) model, float32 while training."""
        return torch.float64 if self.mode == "argmax" else torch.float32

    def _sample(self, logits: Tensor) -> Tensor:
        return sample(logits.to(self.dtype), self.tau, self.mode, self.noise)

    def attention_mask(self, tokens: Tensor) -> Tensor:
        """Allowed (query, key) pairs: both real (not pad), and key <= query when causal."""
        valid = tokens != 0
        mask = valid[:, :, None] & valid[:, None, :]
        if self.config.causal:
            width = tokens.shape[1]
            mask = mask & torch.ones(width, width, dtype=torch.bool, device=tokens.device).tril()
        return mask

    def token_embedding(self) -> Tensor:
        """The token variables' values for each vocabulary index, vocabulary x variables x k:
        one-hot tokens (frozen logits) or the factored embedding's m learned chunks, sampled
        once, so every occurrence of a token in a forward pass shares one draw (as the
        original's embedding table, §5), not one draw per position."""
        if self.config.embedding_chunks:
            return self._sample(self.embedding)
        vocab, k = len(self.config.vocab), self.config.d_var
        logits = TOKEN_LOGIT * (2 * torch.eye(vocab, k, device=self.unembed.device) - 1)
        return self._sample(logits)[:, None]

    def streams(self, tokens: Tensor) -> tuple[Tensor, Tensor]:
        """The final residual streams: ``x_cat`` (batch x positions x variables x k) and
        ``x_num`` (batch x positions x variables)."""
        config, dt = self.config, self.dtype
        batch, width = tokens.shape
        if width > config.n_ctx:
            raise ValueError(f"inputs have {width} positions, the model at most {config.n_ctx}")
        k = config.d_var
        positions = torch.arange(width, device=tokens.device).expand(batch, width)
        words = self.token_embedding()[tokens]
        x_cat = torch.cat([words, F.one_hot(positions, k).to(dt)[:, :, None]], dim=2)
        x_num = torch.ones(batch, width, 1, dtype=dt, device=tokens.device)
        mask = self.attention_mask(tokens)
        bias = self.get_buffer("bias")[:width, :width]
        for index in range(config.n_layers):
            x_cat, x_num = self._layer(self.layer(index), x_cat, x_num, mask, bias)
        return x_cat, x_num

    def _fused_attention(
        self, heads: tuple[Tensor, Tensor, Tensor, Tensor], mask: Tensor, bias: Tensor
    ) -> Tensor:
        """:func:`categorical_attention` by the fused kernel: the same Gumbel draw as
        :func:`sample` (one draw of batch x heads x N x N from :attr:`noise`), or none
        (softmax)."""
        query = heads[0]
        shape = (*query.shape[:-1], query.shape[2])
        noise = torch.zeros(shape, dtype=query.dtype, device=query.device)
        if self.mode in NOISY_MODES:
            noise = self.noise(noise)
        return fused_attention(*heads, mask, bias, self.tau, noise, impl="triton")

    def _read(self, logits: Tensor, stream: Tensor, equation: str) -> Tensor:
        """Variables read from a residual stream (``x_cat`` or ``x_num``: batch x positions x
        variables, then ``k`` for ``x_cat``) through the choice ``logits`` (choices... x
        variables), laid out as ``equation``'s output says. Relaxed: ``einsum(equation, sampled
        choice, stream)``, the weighted sum of the variables. In argmax mode: the chosen
        variables themselves, gathered (bit for bit the sum with one-hot weights, which only
        adds exact zeros, at a fraction of its cost) and permuted into the same layout."""
        if self.mode != "argmax":
            return torch.einsum(equation, self._sample(logits), stream)
        picked = stream.index_select(2, logits.argmax(-1).flatten())
        chosen = picked.reshape(*picked.shape[:2], *logits.shape[:-1], *picked.shape[3:])
        operands, output = equation.split("->")
        choice, stream_axes = operands.split(",")
        gathered = stream_axes.replace(choice[-1], choice[:-1])
        return torch.einsum(f"{gathered}->{output}", chosen)

    def _read_cat(self, logits: Tensor, x_cat: Tensor) -> Tensor:
        """Heads' queries, keys or values: batch x heads x positions x k."""
        return self._read(logits, x_cat, "hv,bnvk->bhnk")

    def _fused(self, device: torch.device) -> bool:
        """Whether the attention cores run as the fused kernels (relaxed modes, not the
        straight-through one, on a device :func:`use_kernels` accepts)."""
        relaxed = self.mode in ("gumbel_soft", "softmax")
        return relaxed and use_kernels(device, self.attention_impl)

    def _categorical_heads(self, layer: Layer, x_cat: Tensor, mask: Tensor, bias: Tensor) -> Tensor:
        """The layer's categorical heads' attended values, batch x heads x positions x k; the
        choices drawn in the order query, key, value, predicate, attention in every mode."""
        if self.mode == "gumbel_hard":
            query = self._read_both(layer.cat_query, x_cat)
            key = self._read_both(layer.cat_key, x_cat)
            value = self._read_cat(layer.cat_value, x_cat)
            predicate = straight_through(layer.cat_predicate.to(self.dtype), self.tau, self.noise)
            return straight_through_attention(
                (query[0], key[0], predicate[0]),
                (query[1], key[1], predicate[1]),
                value,
                mask,
                bias,
                self.tau,
                self.noise,
            )
        heads = (
            self._read_cat(layer.cat_query, x_cat),
            self._read_cat(layer.cat_key, x_cat),
            self._read_cat(layer.cat_value, x_cat),
            self._sample(layer.cat_predicate),
        )
        return self._attend(heads, mask, bias)

    def _attend(
        self, heads: tuple[Tensor, Tensor, Tensor, Tensor], mask: Tensor, bias: Tensor
    ) -> Tensor:
        """The categorical attention of ``heads`` (query, key, value, predicate) in the current
        mode: the fused kernel where :meth:`_fused` allows, :func:`categorical_attention`
        otherwise."""
        if self._fused(heads[0].device):
            return self._fused_attention(heads, mask, bias)
        return categorical_attention(*heads, mask, bias, self.tau, self.mode, self.noise)

    def _read_both(self, logits: Tensor, x_cat: Tensor) -> tuple[Tensor, Tensor]:
        """Under ``gumbel_hard``: heads' queries or keys read by the straight-through sample of
        ``logits`` and by the soft sample behind it (one draw), each batch x heads x
        positions x k."""
        hard, soft = straight_through(logits.to(self.dtype), self.tau, self.noise)
        return (
            torch.einsum("hv,bnvk->bhnk", hard, x_cat),
            torch.einsum("hv,bnvk->bhnk", soft, x_cat),
        )

    def _layer(
        self, layer: Layer, x_cat: Tensor, x_num: Tensor, mask: Tensor, bias: Tensor
    ) -> tuple[Tensor, Tensor]:
        config = self.config
        new_cat, new_num = [x_cat], [x_num]
        if config.n_heads_cat:
            attended = self._categorical_heads(layer, x_cat, mask, bias)
            new_cat.append(attended.transpose(1, 2))
        if config.n_heads_num:
            values = self._read(layer.num_value, x_num, "hv,bnv->bhn")
            counting = (
                self._read_cat(layer.num_query, x_cat),
                self._read_cat(layer.num_key, x_cat),
                values,
                self._sample(layer.num_predicate),
            )
            if self._fused(x_cat.device):
                counted = fused_count(*counting, mask, impl="triton")
            else:
                counted = numerical_attention(*counting, mask)
            new_num.append(counted.transpose(1, 2))
        x_cat, x_num = torch.cat(new_cat, dim=2), torch.cat(new_num, dim=2)
        outputs = [x_cat]
        if config.n_cat_mlps:
            read = self._read(layer.mlp_read, x_cat, "msv,bnvk->bnmsk")
            weights = (layer.mlp_w_in, layer.mlp_b_in, layer.mlp_w_out, layer.mlp_b_out)
            outputs.append(self._mlp_outputs(read.flatten(-2), weights))
        if config.n_num_mlps:
            read = self._read(layer.num_mlp_read, x_num, "msv,bnv->bnms")
            num_weights = (
                layer.num_mlp_w_in,
                layer.num_mlp_b_in,
                layer.num_mlp_w_out,
                layer.num_mlp_b_out,
            )
            outputs.append(self._mlp_outputs(read, num_weights))
        return torch.cat(outputs, dim=2), x_num

    def _mlp_outputs(self, read: Tensor, weights: tuple[Tensor, ...]) -> Tensor:
        """The MLPs' sampled outputs from their inputs (:func:`mlp_scores`' shapes). The argmax
        model takes the argmax of :func:`mlp_logits`, as the lifted tables do, computed once
        per distinct input row (each position's MLP inputs, bit for bit); the relaxed one
        samples from the scores themselves: the softmax is blind to the per-row constant that
        ``log_softmax`` subtracts, so skipping it changes nothing but rounding."""
        weights = tuple(w.to(self.dtype) for w in weights)
        if self.mode == "argmax":
            return once_per_distinct_row(
                read, 2, lambda rows: self._sample(mlp_logits(rows, *weights))
            )
        return self._sample(mlp_scores(read, *weights))

    def forward(self, tokens: Tensor) -> Tensor:
        """Class logits, batch x positions x classes (masked classes at -1e30); with
        ``pool_outputs``, position 0's are read from the pooled features (:meth:`pooled`)."""
        x_cat, x_num = self.streams(tokens)
        features = torch.cat([x_cat.flatten(2), x_num], dim=-1)
        if self.config.pool_outputs:
            features = torch.cat([self.pooled(features, tokens), features[:, 1:]], dim=1)
        logits = features @ self.unembed.to(self.dtype)
        masked = list(self.config.masked_classes())
        if masked:
            logits[..., masked] = MASKED
        return logits

    def pooled(self, features: Tensor, tokens: Tensor) -> Tensor:
        """The features of position 0 under pooling (§10), batch x 1 x features: the sum over
        every non-pad position divided by the padded length N while training, as the paper's;
        the sum itself in argmax mode. The readout is linear and N > 0, so both give the same
        class, and the sum of one-hot values and counts is exact in float64, so the argmax
        model's logits are exact whenever the readout's partial sums are
        (:func:`~.readout.readout_exact`)."""
        real = (tokens != 0).to(features.dtype)[..., None]
        total = (features * real).sum(dim=1, keepdim=True)
        return total if self.mode == "argmax" else total / self.config.n_ctx

    @torch.no_grad()
    def predict(self, tokens: Tensor) -> Tensor:
        """Class indices of the argmax (discrete) model, batch x positions."""
        mode, self.mode = self.mode, "argmax"
        try:
            predicted: Tensor = self(tokens).argmax(-1)
            return predicted
        finally:
            self.mode = mode


def model_to_load(config: ModelConfig) -> TransformerProgram:
    """A model of ``config`` for weights to be loaded into. Building it leaves the global random
    state as it was, so loading a checkpoint mid-training does not change the run."""
    with torch.random.fork_rng(devices=[]):
        return TransformerProgram(config)


def token_loss(logits: Tensor, targets: Tensor) -> Tensor:
    """Per-token cross entropy, averaged over each sequence's non-pad targets, then the batch."""
    nll = -torch.log_softmax(logits.float(), dim=-1).gather(-1, targets[..., None])[..., 0]
    real = (targets != 0).float()
    per_sequence = (nll * real).sum(-1) / real.sum(-1).clamp(min=1)
    return per_sequence.mean()


def temperatures(tau_init: float, tau_end: float, epochs: int, steps: int) -> list[list[float]]:
    """Per-step temperatures (§4): geometric anchors per epoch, geometric within each epoch
    towards the next anchor; the last epoch runs at ``tau_end``."""
    if epochs == 1:
        return [[tau_end] * steps]
    ratio = (tau_end / tau_init) ** (1 / (epochs - 1))
    anchors = [tau_init * ratio**e for e in range(epochs)]
    schedule = []
    for e in range(epochs):
        if e == epochs - 1 or steps == 1:
            schedule.append([anchors[e]] * steps)
            continue
        step_ratio = (anchors[e + 1] / anchors[e]) ** (1 / (steps - 1))
        schedule.append([anchors[e] * step_ratio**s for s in range(steps)])
    return schedule
