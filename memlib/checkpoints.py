"""Save trained weights with the metadata that reproduces them, and load any model back.

A checkpoint is one ``.pt`` file holding plain data only (tensors, numbers, strings, lists,
dicts), so it loads with ``torch.load(..., weights_only=True)``: opening a course file never
runs code from it. It holds ``state_dict``, ``config`` (the model's constructor arguments and its
``family``: which recipe in `memlib.recipes` rebuilds it), ``meta`` (``meta["command"]`` is the
``memlib …`` command that recreates the file, next to the metrics it reached) and ``format``.

Every notebook and command loads a model the same way::

    model, meta = load_model("ntm_copy")                 # a shipped checkpoint, by name
    models, meta = load_model("memn2n_babi1k_3hops")     # a file of several models: {task: model}
"""

from __future__ import annotations

import pathlib
import pickle
import zipfile

import torch

ROOT = pathlib.Path(__file__).resolve().parent.parent / "data" / "checkpoints"

#: version of the file layout: 1 had no ``family`` (convert with tools/convert_checkpoints.py)
FORMAT = 2


class CheckpointError(ValueError):
    """A file that is not a checkpoint this memlib can load; the message names the file and why."""


def path(name) -> pathlib.Path:
    """Where the shipped checkpoint `name` lives (``data/checkpoints/<name>.pt``)."""
    name = str(name)
    return ROOT / (name if name.endswith(".pt") else f"{name}.pt")


def resolve(name_or_path) -> pathlib.Path:
    """An existing file as given, else the shipped checkpoint of that name."""
    given = pathlib.Path(name_or_path)
    if given.exists():
        return given
    shipped = path(name_or_path)
    if shipped.exists():
        return shipped
    names = ", ".join(sorted(p.stem for p in ROOT.glob("*.pt")))
    raise FileNotFoundError(f"no checkpoint {name_or_path!r}: neither a file nor a shipped checkpoint "
                            f"(shipped: {names})")


def save(file, state_dict: dict, config: dict, meta: dict | None = None) -> pathlib.Path:
    """Write weights, the model's `config` (with its ``family``) and `meta` (command, metrics, seed)."""
    from memlib.recipes import FAMILIES

    if config.get("family") not in FAMILIES:
        raise ValueError(f"config['family'] must be one of {FAMILIES}, got {config.get('family')!r}")
    file = pathlib.Path(file)
    file.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "state_dict": {k: v.detach().cpu().clone() for k, v in state_dict.items()},
        "config": dict(config),
        "meta": dict(meta or {}),
        "format": FORMAT,
    }
    torch.save(payload, file)
    return file


def read(file) -> dict:
    """The payload of `file` as stored, checked to be a memlib checkpoint (any format)."""
    file = pathlib.Path(file)
    if not file.exists():
        raise FileNotFoundError(
            f"no checkpoint at {file}; shipped ones are in {ROOT} and each one's metadata "
            "names the `memlib …` command that recreates it"
        )
    try:
        payload = torch.load(file, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        if "Unsupported global" in str(exc):  # the weights-only unpickler met a class or function
            raise CheckpointError(f"{file}: holds objects other than tensors and plain data; refused "
                                  "(loading it could run code)") from None
        raise CheckpointError(f"{file}: damaged or not a PyTorch file (not a pickle of plain data)") from None
    except (RuntimeError, EOFError, OSError, zipfile.BadZipFile, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(f"{file}: damaged or not a PyTorch file ({first})") from None
    if not isinstance(payload, dict):
        raise CheckpointError(f"{file}: not a memlib checkpoint (holds a {type(payload).__name__}, not a dict)")
    missing = {"state_dict", "config", "meta"} - set(payload)
    if missing:
        raise CheckpointError(f"{file}: not a memlib checkpoint (missing {', '.join(sorted(missing))})")
    return payload


def load(file) -> dict:
    """Read a checkpoint of this memlib's format: ``{"state_dict", "config", "meta", "format"}``."""
    from memlib.recipes import FAMILIES

    payload = read(file)
    version = payload.get("format", 1)
    if version > FORMAT:
        raise CheckpointError(f"{file}: written by a newer memlib (format {version}; this one reads "
                              f"format {FORMAT}): update memlib")
    if version < FORMAT or "family" not in payload["config"]:
        raise CheckpointError(f"{file}: format {version} names no model family; convert it once with "
                              f"`python tools/convert_checkpoints.py {file}`")
    if payload["config"]["family"] not in FAMILIES:
        raise CheckpointError(f"{file}: unknown model family {payload['config']['family']!r} "
                              f"(expected one of {', '.join(FAMILIES)})")
    return payload


def load_model(name_or_path, device=None):
    """Rebuild the model(s) of a checkpoint → ``(model in eval mode, meta)``.

    `name_or_path`: a file, or the name of a shipped checkpoint (``"ntm_copy"``). A file that
    holds several models gives ``{name: model}``. `device`: where to put the weights (default CPU).
    """
    from memlib.recipes import family

    file = resolve(name_or_path)
    payload = load(file)
    config = {k: v for k, v in payload["config"].items() if k != "family"}
    try:
        built = family(payload["config"]["family"]).build(config, payload["state_dict"])
    except (RuntimeError, TypeError, KeyError) as exc:  # weights or config that do not fit the model
        first = str(exc).strip().splitlines()[0]
        raise CheckpointError(f"{file}: its weights do not fit a {payload['config']['family']} model "
                              f"({first})") from None
    models = built if isinstance(built, dict) else {None: built}
    for model in models.values():
        model.to(device or "cpu").eval()
    return built, payload["meta"]
