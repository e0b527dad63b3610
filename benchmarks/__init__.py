"""The project's benchmarks: one script per measured path, each run as ``python
benchmarks/NAME.py``, with what every script records beside its figures in :mod:`.recording`."""
