"""The NLP tasks' files: CoNLL and CSV/TSV reading with line-numbered errors, the vocabulary
(most frequent words, ``<unk>``, digit runs as ``@``), the encoded splits, and the generated
rule-based corpora."""

from __future__ import annotations

from pathlib import Path

import pytest

from rasp_ir.diagnostics import RaspError
from rasp_ir.frontends.transformer_programs.config import BOS, PAD, UNK
from rasp_ir.frontends.transformer_programs.tasks import decode
from rasp_ir.frontends.transformer_programs.text_corpus import (
    LOC_CUES,
    ner_sentences,
    ner_tag,
    write_classify_corpus,
    write_ner_corpus,
)
from rasp_ir.frontends.transformer_programs.text_data import (
    classify_data,
    ner_data,
    read_conll,
    read_labelled_text,
)

CONLL = """\
-DOCSTART- -X- -X- O

EU NNP B-NP B-ORG
rejects VBZ B-VP O
German JJ B-NP B-MISC

Peter NNP B-NP B-PER
Blackburn NNP B-NP I-PER
in IN B-PP O
1996 CD B-NP O
"""


def _file(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_conll_sentences_and_tags(tmp_path: Path) -> None:
    sentences = read_conll(_file(tmp_path, "train.txt", CONLL))
    assert sentences == [
        (["EU", "rejects", "German"], ["B-ORG", "O", "B-MISC"]),
        (["Peter", "Blackburn", "in", "@"], ["B-PER", "I-PER", "O", "O"]),
    ]


def test_two_column_conll(tmp_path: Path) -> None:
    assert read_conll(_file(tmp_path, "t.txt", "in O\nRome B-LOC\n")) == [
        (["in", "Rome"], ["O", "B-LOC"])
    ]


@pytest.mark.parametrize(
    ("text", "line", "column", "message"),
    [
        ("in O\nRome\n", 2, 5, "a token line needs a tag"),
        ("in O\nRome NNP LOC\n", 2, 1, "3 columns where the file's first token line has 2"),
        ("in IN O\nRome NNP LOC\n", 2, 10, "'LOC' is not an IOB tag"),
    ],
)
def test_malformed_conll_lines_are_errors_at_their_line(
    tmp_path: Path, text: str, line: int, column: int, message: str
) -> None:
    path = _file(tmp_path, "train.txt", text)
    with pytest.raises(RaspError) as caught:
        read_conll(path)
    (diagnostic,) = caught.value.diagnostics
    assert diagnostic.message == message
    assert diagnostic.span is not None
    assert (diagnostic.span.line, diagnostic.span.column) == (line, column)
    rendered = diagnostic.render()
    assert rendered.startswith(f"{path}:{line}:{column}: error: {message}")
    assert text.splitlines()[line - 1] in rendered and "^" in rendered


def test_csv_and_tsv(tmp_path: Path) -> None:
    csv_path = _file(tmp_path, "a.csv", 'label,text\npos,"Good film, 10 stars"\nneg,dull\n')
    assert read_labelled_text(csv_path) == [
        (["Good", "film", ",", "@", "stars"], "pos"),
        (["dull"], "neg"),
    ]
    tsv_path = _file(tmp_path, "a.tsv", "text\tlabel\nfine plot\tpos\n")
    assert read_labelled_text(tsv_path) == [(["fine", "plot"], "pos")]


def test_bad_csv_rows_are_errors_at_their_line(tmp_path: Path) -> None:
    with pytest.raises(RaspError, match="must name a 'label' and a 'text' column"):
        read_labelled_text(_file(tmp_path, "a.csv", "class,words\npos,good\n"))
    with pytest.raises(RaspError) as caught:
        read_labelled_text(_file(tmp_path, "b.csv", "label,text\npos,good\nneg,bad,extra\n"))
    (diagnostic,) = caught.value.diagnostics
    assert diagnostic.span is not None and diagnostic.span.line == 3
    assert diagnostic.message == "3 fields where the header has 2"


def test_a_folder_without_the_files_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(RaspError, match=r"has no train file \(train\.txt or eng\.train\)"):
        ner_data(tmp_path, 10, 30, 0)


def test_ner_data_vocabulary_and_targets(tmp_path: Path) -> None:
    _file(tmp_path, "train.txt", CONLL + "\nGerman JJ B-NP B-MISC\nin IN B-PP O\n")
    _file(tmp_path, "test.txt", "EU NNP B-NP B-ORG\nJapan NNP B-NP B-LOC\n")
    data = ner_data(tmp_path, 2, 30, 0)
    assert data.vocab == (PAD, BOS, UNK, "German", "in")  # the two most frequent words
    assert data.classes == (PAD, "B-MISC", "B-ORG", "B-PER", "I-PER", "O")
    assert decode(data.vocab, data.test.x[0]) == [BOS, UNK, UNK]
    assert [data.classes[i] for i in data.test.y[0][:2]] == [PAD, "B-ORG"]
    assert data.test.y[0][2] == -1  # B-LOC never occurs in training: never predicted
    assert len(data.train) + len(data.val) == 3  # no valid file: a tenth held out (here none)


def test_classify_data_puts_the_label_at_bos(tmp_path: Path) -> None:
    write_classify_corpus(tmp_path, 50, seed=3)
    data = classify_data(tmp_path, 100, 5, 0)
    assert data.classes == (PAD, "neg", "pos")
    assert data.n_ctx == 6  # <s> and at most 5 words
    assert all(row[0] != 0 and not row[1:].any() for row in data.train.y)


def test_generated_ner_corpus_follows_its_rules(tmp_path: Path) -> None:
    for words, tags in ner_sentences(200, seed=1):
        assert tags == [ner_tag(words[: i + 1]) for i in range(len(words))]
    assert ner_tag(["in", "Rome"]) == "B-LOC" and ner_tag(["we", "Rome"]) == "O"
    assert ner_tag(["Rome"]) == "O" and ner_tag(["met", "Bob"]) == "B-PER"
    assert "in" in LOC_CUES
    written = write_ner_corpus(tmp_path, 100, seed=1)
    assert [p.name for p in written] == ["train.txt", "valid.txt", "test.txt"]
    counts = [len(read_conll(p)) for p in written]
    assert counts == [80, 10, 10]
