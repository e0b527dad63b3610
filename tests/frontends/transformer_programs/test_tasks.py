"""The paper's tasks: labels by hand, vocabularies, de-duplication, reproducibility."""

from __future__ import annotations

import numpy as np

from rasp_ir.frontends.transformer_programs.tasks import (
    double_hist_labels,
    dyck_labels,
    hist_labels,
    make_data,
    most_freq_labels,
    sample_unique,
)


def test_labels_by_hand() -> None:
    content = list("3132")
    assert hist_labels(content) == ["2", "1", "2", "1"]
    assert double_hist_labels(content) == ["1", "2", "1", "2"]
    assert most_freq_labels(content) == ["3", "1", "2", "<s>"]
    pairs = {"(": ")", "{": "}"}
    assert dyck_labels(list("(){)"), pairs) == ["P", "T", "P", "F"]
    assert dyck_labels(list(")(("), pairs) == ["F", "F", "F"]
    assert dyck_labels(list("({})"), pairs) == ["P", "P", "P", "T"]


def test_vocabularies_follow_the_paper() -> None:
    data = make_data("sort", 300, 0)
    assert data.vocab == ("<pad>", "0", "1", "2", "3", "4", "</s>", "<s>")
    assert data.classes == ("<pad>", "0", "1", "2", "3", "4")
    dyck = make_data("dyck2", 200, 0)
    assert dyck.vocab == ("<pad>", "(", ")", "<s>", "{", "}") and dyck.n_ctx == 16
    induction = make_data("induction", 200, 0)
    assert induction.classes == ("<pad>", "0", "1", "2", "3", "<unk>")


def test_data_is_unique_split_and_reproducible() -> None:
    examples = sample_unique("hist", 500, 1)
    assert len({tuple(x) for x, _ in examples}) == len(examples) == 500
    a, b = make_data("hist", 500, 1), make_data("hist", 500, 1)
    assert np.array_equal(a.test.x, b.test.x) and np.array_equal(a.train.y, b.train.y)
    assert (len(a.train), len(a.val), len(a.test)) == (405, 45, 50)
