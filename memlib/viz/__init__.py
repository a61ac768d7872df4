"""Figures and widgets. Each takes a model's trace, never the model's internals.

`plots` holds the shared visual idioms and the one palette (every colour of the course's
figures); `explorer` is the one base of the widgets (controls from a spec, an output area that
redraws, a static twin); the per-model modules build static figures from `plots` and wrap the
same functions in explorers.
"""
