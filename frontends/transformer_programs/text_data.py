"""The paper's NLP data from local files (reference §13.4): a folder of CoNLL files (named
entity recognition) or CSV/TSV files (text classification) in, tokenised
:class:`~.tasks.TaskData` out. Nothing is downloaded.

- NER: CoNLL format, one token per line with the tag in the last column (``word POS chunk TAG``
  as CoNLL-2003 ships it, or ``word TAG``), a blank line between sentences, ``-DOCSTART-``
  lines skipped. Tags are IOB (``O``, ``B-X``, ``I-X``). A malformed line is an error at its
  ``file:line:col``.
- Classification: a header row naming a ``label`` and a ``text`` column (comma-separated
  ``.csv`` or tab-separated ``.tsv``), text split into words at white space and punctuation.

As the paper does, digit runs become ``@``, the vocabulary is the most frequent training
words plus ``<pad>``, ``<s>`` and ``<unk>`` (every other word reads as ``<unk>``), and a
sentence longer than the model's context is cut. NER predicts a tag at every word; a
classifier predicts its label at the ``<s>`` position, from the features pooled over the whole
text (the paper's readout) unless training asks otherwise.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rasp_ir.api import RaspError, Span

from .config import BOS, PAD, UNK, Architecture
from .tasks import Example, TaskData, encoder

NER_FILES = {
    "train": ("train.txt", "eng.train"),
    "val": ("valid.txt", "dev.txt", "eng.testa"),
    "test": ("test.txt", "eng.testb"),
}
CLASSIFY_FILES = {
    "train": ("train.csv", "train.tsv"),
    "val": ("valid.csv", "valid.tsv", "dev.csv", "dev.tsv"),
    "test": ("test.csv", "test.tsv"),
}
TAG = re.compile(r"^(O|[BI]-\S+)$")
DIGITS = re.compile(r"\d+")
WORD = re.compile(r"\w+|[^\w\s]")
DOCSTART = "-DOCSTART-"
VAL_FRACTION = 10  # one in this many training examples is held out when there is no val file


def normalise(word: str) -> str:
    """A word as the vocabulary sees it: every digit run replaced by ``@``."""
    return DIGITS.sub("@", word)


def read_conll(path: Path) -> list[Example]:
    """The sentences of a CoNLL file as (words, tags); a RaspError at the first bad line."""
    text = _read_text(path)
    sentences: list[Example] = []
    words: list[str] = []
    tags: list[str] = []
    columns = 0
    for number, line in enumerate(text.splitlines(), start=1):
        fields = line.split()
        if not fields or fields[0] == DOCSTART:
            if words:
                sentences.append((words, tags))
            words, tags = [], []
            continue
        if len(fields) < 2:
            raise _line_error(path, number, line, len(line) + 1, "a token line needs a tag")
        columns = columns or len(fields)
        if len(fields) != columns:
            raise _line_error(
                path,
                number,
                line,
                1,
                f"{len(fields)} columns where the file's first token line has {columns}",
            )
        tag = fields[-1]
        if not TAG.match(tag):
            column = line.rstrip().rfind(tag) + 1
            raise _line_error(path, number, line, column, f"{tag!r} is not an IOB tag")
        words.append(normalise(fields[0]))
        tags.append(tag)
    if words:
        sentences.append((words, tags))
    if not sentences:
        raise RaspError.single("data", f"{path} holds no sentence", hint="is it a CoNLL file?")
    return sentences


def read_labelled_text(path: Path) -> list[tuple[list[str], str]]:
    """The (words, label) rows of a CSV (``.csv``) or TSV (``.tsv``) file with ``label`` and
    ``text`` columns; a RaspError naming the line of a bad row."""
    text = _read_text(path)
    delimiter = "\t" if path.suffix == ".tsv" else ","
    rows = list(csv.reader(text.splitlines(), delimiter=delimiter))
    header = [name.strip().lower() for name in rows[0]] if rows else []
    if "label" not in header or "text" not in header:
        line = text.splitlines()[0] if text else ""
        raise _line_error(path, 1, line, 1, "the header must name a 'label' and a 'text' column")
    label_at, text_at = header.index("label"), header.index("text")
    examples = []
    for number, row in enumerate(rows[1:], start=2):
        if not row:
            continue
        if len(row) != len(header):
            line = text.splitlines()[number - 1]
            message = f"{len(row)} fields where the header has {len(header)}"
            raise _line_error(path, number, line, 1, message)
        label = row[label_at].strip()
        words = [normalise(w) for w in WORD.findall(row[text_at])]
        if not label or not words:
            line = text.splitlines()[number - 1]
            raise _line_error(path, number, line, 1, "an empty label or text")
        examples.append((words, label))
    return examples


def find_split_files(data_dir: Path, names: dict[str, tuple[str, ...]]) -> dict[str, Path]:
    """The file of each split found in ``data_dir`` (the first of its names that exists); a
    RaspError naming the expected files when there is no training or test file."""
    found = {}
    for split, candidates in names.items():
        for candidate in candidates:
            if (data_dir / candidate).is_file():
                found[split] = data_dir / candidate
                break
    for required in ("train", "test"):
        if required not in found:
            expected = " or ".join(names[required])
            raise RaspError.single(
                "data",
                f"{data_dir} has no {required} file ({expected})",
                hint="point --data-dir at the folder that holds the files",
            )
    return found


def ner_data(data_dir: Path, vocab_size: int, max_words: int, seed: int) -> TaskData:
    """The NER task of the CoNLL files in ``data_dir``: ``<s>`` then the words; the target is
    each word's tag (``<pad>`` at ``<s>``)."""
    files = find_split_files(data_dir, NER_FILES)
    splits = {name: read_conll(path) for name, path in files.items()}
    examples = {
        name: [([BOS, *w[:max_words]], [PAD, *t[:max_words]]) for w, t in sentences]
        for name, sentences in splits.items()
    }
    return _task_data("ner", examples, vocab_size, seed)


def classify_data(data_dir: Path, vocab_size: int, max_words: int, seed: int) -> TaskData:
    """The classification task of the CSV/TSV files in ``data_dir``: ``<s>`` then the words;
    the target is the label at ``<s>`` (``<pad>`` elsewhere)."""
    files = find_split_files(data_dir, CLASSIFY_FILES)
    examples = {
        name: [
            ([BOS, *words[:max_words]], [label] + [PAD] * len(words[:max_words]))
            for words, label in read_labelled_text(path)
        ]
        for name, path in files.items()
    }
    return _task_data("classify", examples, vocab_size, seed)


def _task_data(
    task: str, examples: dict[str, list[Example]], vocab_size: int, seed: int
) -> TaskData:
    """Split off validation when there is no file for it, build the vocabularies from the
    training split and encode (unknown words as ``<unk>``, unseen labels as never predicted)."""
    train = examples["train"]
    if "val" not in examples:
        order = np.random.RandomState(seed).permutation(len(train))
        held = len(train) // VAL_FRACTION
        examples = {
            **examples,
            "val": [train[i] for i in order[:held]],
            "train": [train[i] for i in order[held:]],
        }
        train = examples["train"]
    counts = Counter(w for words, _ in train for w in words[1:])
    frequent = sorted(counts, key=lambda w: (-counts[w], w))[:vocab_size]
    vocab = (PAD, BOS, UNK, *sorted(frequent))
    classes = (PAD, *sorted({t for _, y in train for t in y} - {PAD}))
    n_ctx = max(len(x) for split in examples.values() for x, _ in split)
    known = set(vocab)
    encode = encoder(vocab, classes, n_ctx)
    splits = {
        name: encode([([w if w in known else UNK for w in x], y) for x, y in split])
        for name, split in examples.items()
    }
    return TaskData(task, vocab, classes, n_ctx, splits["train"], splits["val"], splits["test"])


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RaspError.single("data", f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise RaspError.single("data", f"{path}: cannot read it ({error})") from None


def _line_error(path: Path, number: int, line: str, column: int, message: str) -> RaspError:
    span = Span(str(path), number, column, number, column + 1, line)
    hint = "fix or remove the line; see 'rasp tp train --help' for the expected format"
    return RaspError.single("data", message, span, hint)


@dataclass(frozen=True)
class TextTask:
    """One NLP task read from files, with the paper's settings (reference §14): its
    architecture, epochs, batch size, learning rate, the most words kept per example and
    whether the readout pools (§10: the classifiers do)."""

    name: str
    architecture: Architecture
    epochs: int
    batch_size: int
    lr: float
    max_words: int
    read: Callable[[Path, int, int, int], TaskData]
    pooled: bool = False


# CoNLL: L 2, Hc 8, Mc 1, 50 epochs, batch 32, lr 1e-2, sentences of up to 30 words.
# Classification: L 2, Hc 4, Mc 1, 10 epochs, batch 128, lr 5e-2, up to 64 words.
TEXT_TASKS: dict[str, TextTask] = {
    "ner": TextTask("ner", Architecture(2, 8, 0, 1, 0), 50, 32, 1e-2, 30, ner_data),
    "classify": TextTask(
        "classify", Architecture(2, 4, 0, 1, 0), 10, 128, 5e-2, 64, classify_data, pooled=True
    ),
}
# One-hot tokens need k >= the vocabulary size, so the default vocabulary stays small; the
# paper keeps 10,000 words through its factored embedding (--embedding-chunks M).
DEFAULT_VOCAB_SIZE = 100
