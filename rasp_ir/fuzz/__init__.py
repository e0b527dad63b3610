"""Differential fuzzing (``rasp fuzz``): random well-typed programs (:mod:`.programs`,
:mod:`.expressions`, drawn from a :mod:`.choices` source), the same programs written with
macros and imports (:mod:`.surface`), every backend and check run against the interpreter
(:mod:`.checks`, :mod:`.cases`, :mod:`.runner`), disagreements shrunk (:mod:`.shrink`) and
written as ready-to-paste ``.rasp`` files (:mod:`.findings`)."""
