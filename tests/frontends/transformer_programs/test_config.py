"""Architectures as the paper counts them: heads and MLPs per layer, split evenly between
categorical and numerical."""

from __future__ import annotations

from rasp_ir.frontends.transformer_programs.config import (
    PAPER_ARCHITECTURES,
    PAPER_GRID,
    Architecture,
)


def test_split_gives_the_odd_head_or_mlp_to_the_categorical_side() -> None:
    assert Architecture.split(3, 8, 4) == Architecture(3, 4, 4, 2, 2)
    assert Architecture.split(2, 3, 1) == Architecture(2, 2, 1, 1, 0)
    assert Architecture.split(2, 1, 0) == Architecture(2, 1, 0, 0, 0)


def test_labels_read_like_table_1() -> None:
    table1 = {task: arch.label() for task, arch in PAPER_ARCHITECTURES.items()}
    assert table1 == {
        "reverse": "3/8/2",
        "hist": "1/4/2",
        "double_hist": "3/4/2",
        "sort": "3/8/4",
        "most_freq": "3/8/4",
        "dyck1": "3/8/2",
        "dyck2": "3/4/4",
        "induction": "2/1/0",
    }


def test_the_grid_is_layers_2_3_by_heads_4_8_by_mlps_2_4() -> None:
    labels = [arch.label() for arch in PAPER_GRID]
    assert labels == ["2/4/2", "2/4/4", "2/8/2", "2/8/4", "3/4/2", "3/4/4", "3/8/2", "3/8/4"]
    assert all(a.n_heads_cat == a.n_heads_num and a.n_cat_mlps == a.n_num_mlps for a in PAPER_GRID)
