"""The paper's algorithmic tasks: a task name, a size and a seed in, de-duplicated, split,
tokenised data out (reference §13). Seeded with local NumPy generators, so runs reproduce.

Every input starts with ``<s>``; reverse and sort end with ``</s>``; ``<pad>`` targets (at the
special positions) count neither in the loss nor in accuracy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .config import BOS, EOS, PAD, UNK

Example = tuple[list[str], list[str]]
Generator = Callable[[np.random.RandomState, int], list[Example]]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class TaskSpec:
    """The paper's settings of one task: lengths, vocabulary size, causal masking, output mask."""

    name: str
    vocab_size: int
    min_length: int
    max_length: int
    causal: bool = False
    unembed_mask: bool = True


TASKS: dict[str, TaskSpec] = {
    "reverse": TaskSpec("reverse", 8, 1, 8),
    "hist": TaskSpec("hist", 8, 1, 8),
    "double_hist": TaskSpec("double_hist", 8, 1, 8),
    "sort": TaskSpec("sort", 8, 1, 8),
    "most_freq": TaskSpec("most_freq", 8, 1, 8),
    "dyck1": TaskSpec("dyck1", 16, 16, 16, causal=True),
    "dyck2": TaskSpec("dyck2", 16, 16, 16, causal=True),
    "induction": TaskSpec("induction", 10, 9, 9, causal=True, unembed_mask=False),
}
UNSEEN_LABEL = -1
"""The code of a validation or test label that no training example has: never predicted."""

RASP_TASKS = ("reverse", "hist", "double_hist", "sort", "most_freq", "dyck1", "dyck2")


def _digits(n: int) -> list[str]:
    return [str(i) for i in range(n)]


def _reverse_or_sort(spec: TaskSpec, sort: bool) -> Generator:
    symbols = _digits(spec.vocab_size - 3)

    def generate(rng: np.random.RandomState, n: int) -> list[Example]:
        out = []
        for _ in range(n):
            length = int(rng.randint(spec.min_length, spec.max_length - 1))
            content = [symbols[i] for i in rng.randint(0, len(symbols), size=length)]
            target = sorted(content) if sort else content[::-1]
            out.append(([BOS, *content, EOS], [PAD, *target, PAD]))
        return out

    return generate


def _counting(spec: TaskSpec, label: Callable[[list[str]], list[str]]) -> Generator:
    symbols = _digits(spec.vocab_size - 2)

    def generate(rng: np.random.RandomState, n: int) -> list[Example]:
        out = []
        for _ in range(n):
            length = int(rng.randint(spec.min_length, spec.max_length))
            content = [symbols[i] for i in rng.randint(0, len(symbols), size=length)]
            out.append(([BOS, *content], [PAD, *label(content)]))
        return out

    return generate


def hist_labels(content: list[str]) -> list[str]:
    """How often each token occurs in the content (itself included)."""
    return [str(content.count(x)) for x in content]


def double_hist_labels(content: list[str]) -> list[str]:
    """How many distinct symbols occur as often as each token's symbol (its own included)."""
    counts = {x: content.count(x) for x in content}
    return [str(sum(1 for c in counts.values() if c == counts[x])) for x in content]


def most_freq_labels(content: list[str]) -> list[str]:
    """The distinct symbols by descending count, then first occurrence; ``<s>`` after them."""
    order = sorted(dict.fromkeys(content), key=lambda x: (-content.count(x), content.index(x)))
    return [order[t] if t < len(order) else BOS for t in range(len(content))]


def dyck_labels(symbols: list[str], pairs: dict[str, str]) -> list[str]:
    """``P`` (valid, unclosed prefix), ``T`` (balanced prefix) or ``F`` (from the first error)."""
    stack: list[str] = []
    labels: list[str] = []
    for symbol in symbols:
        if labels and labels[-1] == "F":
            labels.append("F")
        elif symbol in pairs:
            stack.append(symbol)
            labels.append("P")
        elif stack and pairs[stack[-1]] == symbol:
            stack.pop()
            labels.append("P" if stack else "T")
        else:
            labels.append("F")
    return labels


def _dyck(spec: TaskSpec, n_pairs: int) -> Generator:
    pairs = dict([("(", ")"), ("{", "}")][:n_pairs])
    alphabet = [s for pair in pairs.items() for s in pair]
    content_length = spec.max_length - 1

    def valid(rng: np.random.RandomState) -> list[str]:
        steps = int(rng.randint(spec.min_length // 2, spec.max_length // 2 + 1))
        text: list[str] = []
        for _ in range(steps):
            opening = list(pairs)[int(rng.randint(0, n_pairs))]
            if rng.rand() < 0.5:
                text = [*text, opening, pairs[opening]]
            else:
                text = [opening, *text, pairs[opening]]
        return text

    def generate(rng: np.random.RandomState, n: int) -> list[Example]:
        out = []
        for _ in range(n):
            if rng.rand() < 0.5:
                symbols = [alphabet[i] for i in rng.randint(0, len(alphabet), size=content_length)]
            else:
                symbols = valid(rng)[:content_length]
                while len(symbols) < content_length:
                    symbols.append(alphabet[int(rng.randint(0, len(alphabet)))])
            out.append(([BOS, *symbols], [PAD, *dyck_labels(symbols, pairs)]))
        return out

    return generate


def _induction(spec: TaskSpec) -> Generator:
    half = (spec.vocab_size - 2) // 2
    letters = [chr(ord("a") + i) for i in range(half)]
    numbers = _digits(half)

    def generate(rng: np.random.RandomState, n: int) -> list[Example]:
        out = []
        for _ in range(n):
            binding = rng.randint(0, half, size=half)
            tokens, targets, seen = [BOS], [PAD], set()
            if rng.rand() < 0.5:
                tokens.append(numbers[int(rng.randint(0, half))])
                targets.append(PAD)
                query = None
            else:
                query = int(rng.randint(0, half))
            for letter in rng.randint(0, half, size=half):
                tokens += [letters[letter], numbers[binding[letter]]]
                targets += [numbers[binding[letter]] if letter in seen else UNK, PAD]
                seen.add(int(letter))
            if query is not None:
                tokens.append(letters[query])
                targets.append(numbers[binding[query]] if query in seen else UNK)
            out.append((tokens, targets))
        return out

    return generate


def generator(task: str) -> Generator:
    """The sampler of ``task`` (``KeyError`` for an unknown task)."""
    spec = TASKS[task]
    makers: dict[str, Callable[[], Generator]] = {
        "reverse": lambda: _reverse_or_sort(spec, sort=False),
        "sort": lambda: _reverse_or_sort(spec, sort=True),
        "hist": lambda: _counting(spec, hist_labels),
        "double_hist": lambda: _counting(spec, double_hist_labels),
        "most_freq": lambda: _counting(spec, most_freq_labels),
        "dyck1": lambda: _dyck(spec, 1),
        "dyck2": lambda: _dyck(spec, 2),
        "induction": lambda: _induction(spec),
    }
    return makers[task]()


def sample_unique(task: str, size: int, seed: int) -> list[Example]:
    """``size`` examples with distinct inputs: the generator runs for 2, 3, 4, 5 times ``size``
    samples (reseeded each time) until enough are unique; else every unique one is kept."""
    generate = generator(task)
    unique: dict[tuple[str, ...], Example] = {}
    for factor in (2, 3, 4, 5):
        unique = {}
        for example in generate(np.random.RandomState(seed), factor * size):
            unique.setdefault(tuple(example[0]), example)
        if len(unique) >= size:
            break
    return list(unique.values())[:size]


@dataclass(frozen=True)
class Split:
    """One split, tokenised: ``x`` and ``y`` are ``examples x n_ctx`` index arrays, 0 = pad."""

    x: IntArray
    y: IntArray

    def __len__(self) -> int:
        return len(self.x)


@dataclass(frozen=True)
class TaskData:
    """Tokenised train/val/test splits and the vocabularies built from the training split."""

    task: str
    vocab: tuple[str, ...]
    classes: tuple[str, ...]
    n_ctx: int
    train: Split
    val: Split
    test: Split

    def split(self, name: str) -> Split:
        """The split called ``train``, ``val`` or ``test``."""
        return {"train": self.train, "val": self.val, "test": self.test}[name]


def make_data(task: str, size: int = 20_000, seed: int = 0) -> TaskData:
    """Sample, de-duplicate and split (10% test, then 10% of the rest validation) ``task``.

    The vocabularies come from the training split only (§13.1). A validation or test label the
    training split never shows (a rare hist count) is encoded as :data:`UNSEEN_LABEL`, a class
    no model can predict, so it counts as an error. A validation or test example with a token
    the training split never shows cannot be fed to the model and is dropped (the split sizes
    say how many remain; the paper's tasks never need it)."""
    examples = sample_unique(task, size, seed)
    order = np.random.RandomState(seed).permutation(len(examples))
    n_test = len(examples) // 10
    n_val = (len(examples) - n_test) // 10
    test = [examples[i] for i in order[:n_test]]
    val = [examples[i] for i in order[n_test : n_test + n_val]]
    train = [examples[i] for i in order[n_test + n_val :]]
    vocab = (PAD, *sorted({t for x, _ in train for t in x}))
    classes = (PAD, *sorted({t for _, y in train for t in y} - {PAD}))
    n_ctx = max(len(x) for x, _ in train)
    val, test = _feedable(val, vocab, n_ctx), _feedable(test, vocab, n_ctx)
    encode = encoder(vocab, classes, n_ctx)
    return TaskData(task, vocab, classes, n_ctx, encode(train), encode(val), encode(test))


def _feedable(examples: list[Example], vocab: tuple[str, ...], n_ctx: int) -> list[Example]:
    tokens = set(vocab)
    return [(x, y) for x, y in examples if len(x) <= n_ctx and set(x) <= tokens]


def encoder(
    vocab: tuple[str, ...], classes: tuple[str, ...], n_ctx: int
) -> Callable[[list[Example]], Split]:
    """A function from examples to their :class:`Split` over ``vocab`` and ``classes`` (every
    token must be in ``vocab``; a label not in ``classes`` becomes :data:`UNSEEN_LABEL`)."""
    token_index = {t: i for i, t in enumerate(vocab)}
    class_index = {t: i for i, t in enumerate(classes)}

    def encode(examples: list[Example]) -> Split:
        x = np.zeros((len(examples), n_ctx), dtype=np.int64)
        y = np.zeros((len(examples), n_ctx), dtype=np.int64)
        for row, (tokens, targets) in enumerate(examples):
            if len(tokens) > n_ctx:
                raise ValueError(f"an example has {len(tokens)} tokens, more than {n_ctx}")
            x[row, : len(tokens)] = [token_index[t] for t in tokens]
            y[row, : len(targets)] = [class_index.get(t, UNSEEN_LABEL) for t in targets]
        return Split(x, y)

    return encode


def decode(vocab: tuple[str, ...], row: IntArray) -> list[str]:
    """The tokens of one encoded row, padding removed."""
    return [vocab[int(i)] for i in row if i != 0]
