"""Small generated corpora whose labels follow simple rules: a size and a seed in, CoNLL or CSV
files out, for trying the NLP tasks (and testing them) without a data set.

- NER: a capitalised name after ``in``, ``at`` or ``from`` is ``B-LOC``, after ``met``, ``saw``
  or ``with`` it is ``B-PER``; every other word is ``O`` (a name anywhere else, too). The tag of
  a word is a function of the word and the word before it.
- Classification: ``pos`` when the text holds ``good`` or ``great``, else ``neg``.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import TypeVar

import numpy as np

from rasp_ir.api import RaspError, write_text_atomically

LOC_CUES = ("in", "at", "from")
PER_CUES = ("met", "saw", "with")
NAMES = ("Paris", "Rome", "Oslo", "Lima", "Alice", "Bob", "Carol", "Dave")
FILLERS = ("the", "we", "they", "walked", "lived", "worked", "today", "and", "then", "a")
POSITIVE = ("good", "great")
NEUTRAL = ("film", "plot", "was", "the", "a", "very", "not", "bad", "dull", "it", "and", "long")
SPLIT_SHARES = {"train": 8, "valid": 1, "test": 1}
T = TypeVar("T")


def ner_sentences(count: int, seed: int) -> list[tuple[list[str], list[str]]]:
    """``count`` sentences of 2 to 9 words, each a (words, tags) pair following the rules."""
    rng = np.random.RandomState(seed)
    sentences = []
    for _ in range(count):
        words: list[str] = []
        tags: list[str] = []
        length = int(rng.randint(2, 9))
        while len(words) < length:
            choice = rng.rand()
            cues = LOC_CUES if choice < 0.3 else PER_CUES if choice < 0.6 else None
            if cues is not None:
                words += [cues[rng.randint(len(cues))], NAMES[rng.randint(len(NAMES))]]
                tags += ["O", "B-LOC" if cues is LOC_CUES else "B-PER"]
            elif choice < 0.7:
                words.append(NAMES[rng.randint(len(NAMES))])
                tags.append(ner_tag(words))
            else:
                words.append(FILLERS[rng.randint(len(FILLERS))])
                tags.append("O")
        sentences.append((words, tags))
    return sentences


def ner_tag(words: list[str]) -> str:
    """The rule's tag of the last of ``words``."""
    if not words[-1][0].isupper() or len(words) < 2:
        return "O"
    before = words[-2]
    return "B-LOC" if before in LOC_CUES else "B-PER" if before in PER_CUES else "O"


def classify_texts(count: int, seed: int) -> list[tuple[str, str]]:
    """``count`` (label, text) rows of 2 to 9 words following the rule."""
    rng = np.random.RandomState(seed)
    rows = []
    for _ in range(count):
        length = int(rng.randint(2, 10))
        words = [NEUTRAL[i] for i in rng.randint(len(NEUTRAL), size=length)]
        if rng.rand() < 0.5:
            words[int(rng.randint(length))] = POSITIVE[rng.randint(len(POSITIVE))]
        label = "pos" if any(w in POSITIVE for w in words) else "neg"
        rows.append((label, " ".join(words)))
    return rows


def write_ner_corpus(folder: Path, count: int, seed: int) -> list[Path]:
    """``train.txt``, ``valid.txt`` and ``test.txt`` (CoNLL-2003 columns: word, POS, chunk,
    tag; POS and chunk are ``_``) with 8 : 1 : 1 of ``count`` sentences; the paths."""
    sentences = ner_sentences(count, seed)
    written = []
    for name, part in _split(sentences).items():
        lines = ["-DOCSTART- -X- -X- O", ""]
        for words, tags in part:
            lines += [f"{w} _ _ {t}" for w, t in zip(words, tags, strict=True)] + [""]
        written.append(_write(folder / f"{name}.txt", "\n".join(lines)))
    return written


def write_classify_corpus(folder: Path, count: int, seed: int) -> list[Path]:
    """``train.csv``, ``valid.csv`` and ``test.csv`` (columns ``label``, ``text``) with
    8 : 1 : 1 of ``count`` rows; the paths."""
    written = []
    for name, part in _split(classify_texts(count, seed)).items():
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["label", "text"])
        writer.writerows(part)
        written.append(_write(folder / f"{name}.csv", buffer.getvalue()))
    return written


def _split(items: list[T]) -> dict[str, list[T]]:
    total = sum(SPLIT_SHARES.values())
    parts, start = {}, 0
    for name, share in SPLIT_SHARES.items():
        end = len(items) if name == "test" else start + len(items) * share // total
        parts[name] = items[start:end]
        start = end
    return parts


def _write(path: Path, text: str) -> Path:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomically(path, text)
    except OSError as error:
        raise RaspError.single("file", f"cannot write {path}: {error.strerror}") from None
    return path
