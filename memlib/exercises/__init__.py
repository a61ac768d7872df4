"""References for the notebooks' exercises, one module per notebook (see `memlib.check`).

Each module calls `memlib.check.register(id, ...)` at import; `memlib.check` imports every module
here on the first lookup, so a new module needs no other wiring. Ids start with the notebook's
topic: ``lstm-…`` (00), ``memnn-…`` (01), ``memn2n-…`` (02), ``ntm-…`` (03).
"""
