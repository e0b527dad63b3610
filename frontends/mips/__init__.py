"""MIPS (Michaud et al., 2024): the 62 sequence tasks, small RNNs trained on them, the Moore
machines read off those RNNs, and those machines lifted exactly into RASP programs.

A spoke registered like any third-party plugin (``pyproject.toml``): frontend ``mips`` (a
machine JSON file in, the exact program and its certificate out) and command ``rasp mips``.
Importing this package is cheap (no torch).
"""
