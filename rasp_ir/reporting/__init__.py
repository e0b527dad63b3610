"""Seeing and explaining programs: an artifact (a program, a training run, a compiled model)
and inputs in, a self-contained HTML report or the dependency cone of an output cell out.

The pieces: :mod:`.view` (what a frontend or backend hands over about its artifact),
:mod:`.sources` (a path to a view), :mod:`.cone` (why one output cell has its value),
:mod:`.attribution` (which heads and table rows lie on the path of a model's errors),
:mod:`.collect` (everything the page shows, as plain data), :mod:`.layout` and :mod:`.svg`
(the dataflow graph, heatmaps and curves as inline SVG), :mod:`.highlight` (the program text
as HTML) and :mod:`.page` (the page itself, through jinja2 with autoescaping).
"""
