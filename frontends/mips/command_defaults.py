"""What the MIPS commands show before they run, without importing what runs them: the lift's
construction names (``rasp mips lift --construction``) and the test split's default size.
Building ``rasp``'s parser imports this module, not the constructions or numpy; the
constructions are named here once, and a test checks these names against the lift's own."""

from __future__ import annotations

SPLIT_SEQUENCES = 2000
"""Sequences generated before the train/test split (``rasp mips verify``'s default)."""

CONSTRUCTIONS = ("windows", "counts", "prefix_max", "doubling", "quotient_doubling")
"""The constructions of finite machines, in order of preference between equal costs."""

AFFINE_CONSTRUCTIONS = ("prefix_sums", "affine_windows", "polynomial_sums", "periodic_sums")
"""The constructions of affine machines."""
