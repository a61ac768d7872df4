"""memlib: memory-augmented neural networks, taught by building them.

The one shared package behind the notebooks. The arrows run one way: data (`memlib.babi`,
`memlib.algorithmic`) feeds models (`memlib.models`: modules, traces and pure functions only);
the recipes (`memlib.recipes`, one per model family, most sharing the fit loop `memlib.train.fit`)
train and evaluate them; `memlib.checkpoints.load_model` rebuilds any saved model; `memlib.viz`
draws traces; the notebooks and the command line (`memlib.cli`) sit on top.
"""

from __future__ import annotations

import os
import random

__version__ = "0.1.0"

#: The budget switch: ``MEMLIB_FAST=1`` (tests, CI, lecture mode) proves that a notebook runs;
#: unset, a learner gets the full budget, which still fits in minutes on a laptop CPU.
FAST: bool = os.environ.get("MEMLIB_FAST", "0") not in ("", "0", "false", "False")


def budget(full, fast):
    """Return `fast` when MEMLIB_FAST=1 is set, else `full`."""
    return fast if FAST else full


def device(choice=None):
    """The one place where the device is chosen: `choice` if given, else a GPU when present, never required.

    Recipes and `memlib … train|evaluate --device` go through it; models create their tensors
    on the device of their inputs.
    """
    import torch

    if choice is not None:
        return torch.device(choice)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


# Figures legible on a projector: 144 dpi, 11-point text (notebooks keep figures at most
# 10 inches wide, so JupyterLab rarely has to shrink them). Lecture mode enlarges the text again.
FIGURE_STYLE = {
    "figure.dpi": 144, "savefig.dpi": 144, "image.cmap": "viridis",
    "font.size": 11, "axes.titlesize": 12, "axes.labelsize": 11,
    "xtick.labelsize": 10, "ytick.labelsize": 10, "legend.fontsize": 10,
}
LECTURE_FONTS = {"font.size": 14, "axes.titlesize": 15, "axes.labelsize": 14,
                 "xtick.labelsize": 12, "ytick.labelsize": 12, "legend.fontsize": 12}
LECTURE = False  # set by memlib.course.lecture_mode()


def setup(seed: int = 0, threads: int = 1) -> None:
    """Seed everything, use `threads` torch threads, PNG figures and short printed floats.

    One thread is the default: the models of this course are small, and on a 2-core machine
    two threads were measured to be several times slower than one.
    """
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    np.set_printoptions(precision=3, suppress=True)
    torch.set_printoptions(precision=3, sci_mode=False)
    try:  # inside IPython: PNG figures (SVG embeds a date and breaks nbval), modest size
        from IPython import get_ipython

        ip = get_ipython()
        if ip is not None:
            from matplotlib_inline.backend_inline import set_matplotlib_formats

            ip.run_line_magic("matplotlib", "inline")
            set_matplotlib_formats("png")
    except ImportError:  # pragma: no cover - plain Python without IPython
        pass
    import matplotlib

    matplotlib.rcParams.update(FIGURE_STYLE)
    if LECTURE:
        matplotlib.rcParams.update(LECTURE_FONTS)
