"""Self-checks: compare your answer with a reference and say exactly what differs.

Karpathy's ``cmp`` idea, for values and for functions::

    from memlib import check
    check.cmp("w", w, expected)                        # a value: tensor, array, number, list, dict, str
    check.cmp_function("sharpen", sharpen, reference, inputs=[(w, gamma)])

Each call prints one line starting with ✓ (right) or ✗ (what differs: wrong type, shape, dtype,
the largest difference and the first element that differs, or the exception your function raised)
and returns a `Result` (``bool(result)`` is True when right; ``result.report`` is the text).
A success line never prints a measured difference, so it reads the same on every machine (nbval).

This module only compares. The notebooks' exercises (their ids, references and known wrong
answers) live in `memlib.exercises`, which builds on these functions.
"""

from __future__ import annotations

import copy
import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence

ATOL = 1e-5
RTOL = 1e-4


@dataclasses.dataclass
class Result:
    """The outcome of a check: ``ok`` and the printed ``report`` (truthy when right)."""

    name: str
    ok: bool
    problems: list[str]
    report: str

    def __bool__(self) -> bool:
        return self.ok

    def _ipython_display_(self):  # the report is already printed; show nothing more in a notebook
        pass


# ---------------------------------------------------------------- comparing values


def _kind(x) -> str:
    t = type(x)
    return t.__name__ if t.__module__ == "builtins" else f"{t.__module__.split('.')[0]}.{t.__name__}"


def _fmt(x) -> str:
    if isinstance(x, float):
        return f"{x:.4g}"
    text = repr(x)
    return text if len(text) <= 60 else text[:57] + "..."


def _as_array(x):
    """A numpy array for tensors and arrays, else None."""
    try:
        import torch

        if isinstance(x, torch.Tensor):
            return x.detach().cpu().numpy()
    except ImportError:  # pragma: no cover
        pass
    import numpy as np

    return x if isinstance(x, np.ndarray) else None


def _is_tensor(x) -> bool:
    try:
        import torch
    except ImportError:  # pragma: no cover
        return False
    return isinstance(x, torch.Tensor)


def _compare_arrays(got, expected, where: str, atol: float, rtol: float) -> list[str]:
    import numpy as np

    g, e = _as_array(got), _as_array(expected)
    if g.shape != e.shape:
        return [f"{where}shape {tuple(g.shape)}, expected {tuple(e.shape)}"]
    kinds = {"b": "bool", "i": "integer", "u": "integer", "f": "float", "c": "complex"}
    gk, ek = kinds.get(g.dtype.kind, str(g.dtype)), kinds.get(e.dtype.kind, str(e.dtype))
    if gk != ek:
        return [f"{where}dtype {got.dtype} ({gk}), expected {expected.dtype} ({ek})"]
    if g.size == 0:
        return []
    if ek in ("bool", "integer"):
        bad = g != e
    else:
        g64, e64 = g.astype(np.float64), e.astype(np.float64)
        nan_g, nan_e = np.isnan(g64), np.isnan(e64)
        close = np.isclose(g64, e64, atol=atol, rtol=rtol) | (nan_g & nan_e)
        bad = ~close
    if not bad.any():
        return []
    first = tuple(int(i) for i in np.argwhere(bad)[0])
    if g.ndim:
        at = "[" + ", ".join(map(str, first)) + "]"
        msg = f"{where}{int(bad.sum())} of {bad.size} values differ; first at {at}"
    else:
        msg = f"{where}value differs"
    got_v, exp_v = g[first].item(), e[first].item()
    msg += f": got {_fmt(got_v)}, expected {_fmt(exp_v)}"
    if ek not in ("bool", "integer"):
        with np.errstate(invalid="ignore"):
            diff = np.abs(g.astype(np.float64) - e.astype(np.float64))
        finite = diff[np.isfinite(diff)]
        if np.isnan(g64).any() and not np.isnan(e64).any():
            msg += "; your values contain NaN"
        elif finite.size:
            msg += f"; max abs diff {finite.max():.3g}"
    return [msg]


def _compare_numbers(got, expected, prefix: str, atol: float, rtol: float) -> list[str]:
    if _is_tensor(got) and got.numel() == 1:
        got = got.item()  # a one-element tensor is an acceptable number
    if isinstance(got, bool) or not isinstance(got, (int, float)):
        return [f"{prefix}got type {_kind(got)}, expected a number ({type(expected).__name__})"]
    if math.isclose(got, expected, rel_tol=rtol, abs_tol=atol):
        return []
    return [f"{prefix}got {_fmt(got)}, expected {_fmt(expected)} (diff {abs(got - expected):.3g})"]


def _compare_mappings(got, expected, where: str, atol: float, rtol: float) -> list[str]:
    prefix = f"{where}: " if where else ""
    if not isinstance(got, Mapping):
        return [f"{prefix}got type {_kind(got)}, expected dict"]
    missing = [k for k in expected if k not in got]
    extra = [k for k in got if k not in expected]
    problems = []
    if missing:
        problems.append(f"{prefix}missing key(s) {', '.join(map(repr, missing))}")
    if extra:
        problems.append(f"{prefix}unexpected key(s) {', '.join(map(repr, extra))}")
    for k in expected:
        if k in got:
            problems += compare(got[k], expected[k], atol=atol, rtol=rtol, where=f"{where}[{k!r}]")
    return problems


def _compare_sequences(got, expected, where: str, atol: float, rtol: float) -> list[str]:
    prefix = f"{where}: " if where else ""
    if isinstance(got, (str, bytes)) or not isinstance(got, Sequence):
        return [f"{prefix}got type {_kind(got)}, expected {type(expected).__name__}"]
    if len(got) != len(expected):
        return [f"{prefix}length {len(got)}, expected {len(expected)}"]
    problems = []
    for i, (g, e) in enumerate(zip(got, expected)):
        problems += compare(g, e, atol=atol, rtol=rtol, where=f"{where}[{i}]")
    return problems


def compare(got, expected, *, atol: float = ATOL, rtol: float = RTOL, where: str = "") -> list[str]:
    """What differs between `got` and `expected`, as sentences (an empty list when they match).

    Tensors and arrays: type, shape, dtype kind, then values within ``atol + rtol·|expected|``.
    Numbers: within the same tolerance. Lists, tuples and dicts: length or keys, then each item.
    """
    prefix = f"{where}: " if where else ""
    if _is_tensor(expected) or _as_array(expected) is not None:
        want = "torch.Tensor" if _is_tensor(expected) else "numpy.ndarray"
        if _is_tensor(expected) != _is_tensor(got) or _as_array(got) is None:
            hint = " (wrap it with torch.tensor(...))" if want == "torch.Tensor" else ""
            return [f"{prefix}got type {_kind(got)}, expected {want}{hint}"]
        return _compare_arrays(got, expected, prefix, atol, rtol)
    if isinstance(expected, bool) or expected is None or isinstance(expected, str):
        if type(got) is not type(expected):
            return [f"{prefix}got type {_kind(got)}, expected {_kind(expected)}"]
    elif isinstance(expected, (int, float)):
        return _compare_numbers(got, expected, prefix, atol, rtol)
    elif isinstance(expected, Mapping):
        return _compare_mappings(got, expected, where, atol, rtol)
    elif isinstance(expected, Sequence):
        return _compare_sequences(got, expected, where, atol, rtol)
    return [] if got == expected else [f"{prefix}got {_fmt(got)}, expected {_fmt(expected)}"]


def verdict(name: str, problems: list[str], success: str, hint: str = "", show: bool = True) -> Result:
    """Print ✓ `success`, or ✗ and the first problems (with the `hint`); return the `Result`."""
    if problems:
        lines = [f"✗ {name}: {problems[0]}"] + [f"  {p}" for p in problems[1:6]]
        if len(problems) > 6:
            lines.append(f"  … and {len(problems) - 6} more")
        if hint:
            lines.append(f"  hint: {hint}")
    else:
        lines = [f"✓ {name}: {success}"]
    report = "\n".join(lines)
    if show:
        print(report)
    return Result(name, not problems, problems, report)


def cmp(name: str, got, expected, *, atol: float = ATOL, rtol: float = RTOL, show: bool = True) -> Result:
    """Compare a value with the expected one and print ✓, or ✗ and what differs."""
    return verdict(name, compare(got, expected, atol=atol, rtol=rtol), "matches", show=show)


# ---------------------------------------------------------------- comparing functions


def _describe(args: tuple) -> str:
    parts = []
    for a in args:
        arr = _as_array(a)
        parts.append(f"shape {tuple(arr.shape)}" if arr is not None and arr.ndim else _fmt(a if arr is None else arr.item()))
    return "(" + ", ".join(parts) + ")"


def _arrays(x) -> list:
    """Every tensor or array in an argument (containers, dataclasses and modules included), as numpy."""
    if _as_array(x) is not None:
        return [_as_array(x)]
    if isinstance(x, Mapping):
        return [a for v in x.values() for a in _arrays(v)]
    if isinstance(x, (list, tuple)):
        return [a for v in x for a in _arrays(v)]
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return [a for f in dataclasses.fields(x) for a in _arrays(getattr(x, f.name))]
    if hasattr(x, "state_dict") and callable(x.state_dict):  # a torch module: its weights
        return _arrays(dict(x.state_dict()))
    return []


def _same(a, b) -> bool:
    import numpy as np

    try:
        return np.array_equal(a, b, equal_nan=True)
    except TypeError:  # dtypes without NaN
        return np.array_equal(a, b)


def _input_list(inputs, seeds) -> list[tuple]:
    if callable(inputs):
        inputs = [inputs(seed) for seed in seeds]
    return [args if isinstance(args, tuple) else (args,) for args in inputs]


def function_problems(fn: Callable, reference: Callable, inputs, *, seeds=(0, 1, 2),
                      atol: float = ATOL, rtol: float = RTOL) -> list[str]:
    """Call `fn` and `reference` on the same inputs; list what differs (empty when they agree)."""
    if not callable(fn):
        return [f"got type {_kind(fn)}, expected a function"]
    for i, args in enumerate(_input_list(inputs, seeds)):
        expected = reference(*copy.deepcopy(args))
        mine = copy.deepcopy(args)
        try:
            got = fn(*mine)
        except NotImplementedError:
            return ["not implemented yet: replace `raise NotImplementedError(...)` with your code"]
        except Exception as exc:  # the learner's bug: say which input made it fail and how
            return [f"on input {i + 1} {_describe(args)} your function raised {type(exc).__name__}: {exc}"]
        problems = compare(got, expected, atol=atol, rtol=rtol)
        if problems:
            return [f"on input {i + 1} {_describe(args)}: {problems[0]}"] + problems[1:]
        for j, (after, before) in enumerate(zip(mine, args)):
            if any(not _same(a, b) for a, b in zip(_arrays(after), _arrays(before))):
                return [f"on input {i + 1} your function changed argument {j + 1} in place "
                        f"(work on a copy: x = x.clone(), or use out-of-place operations)"]
    return []


def cmp_function(name: str, fn: Callable, reference: Callable, inputs, *, seeds=(0, 1, 2),
                 atol: float = ATOL, rtol: float = RTOL, hint: str = "", show: bool = True) -> Result:
    """Call your function and the reference on the same inputs; print ✓, or ✗ and what differs."""
    inputs = _input_list(inputs, seeds)  # generate seeded inputs once
    n = len(inputs)
    problems = function_problems(fn, reference, inputs, atol=atol, rtol=rtol)
    return verdict(name, problems, f"agrees with the reference on {n} input{'s' * (n != 1)}", hint, show)
