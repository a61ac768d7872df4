"""Figures and widgets. Each takes a model's trace, never the model's internals.

`plots` holds the shared visual idioms (one look per idiom); the per-model modules build
static figures from them and wrap the same functions in ipywidgets.
"""
