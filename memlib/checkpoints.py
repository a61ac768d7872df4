"""Save and load trained weights together with the metadata that reproduces them.

A checkpoint is one ``.pt`` file holding plain data only (tensors, numbers, strings, lists,
dicts), so it loads with ``torch.load(..., weights_only=True)``: opening a course file never
runs code from it. ``meta["command"]`` is the CLI command that recreates the file.
"""

from __future__ import annotations

import pathlib

import torch

ROOT = pathlib.Path(__file__).resolve().parent.parent / "data" / "checkpoints"


def path(name: str) -> pathlib.Path:
    """Where the shipped checkpoint `name` lives (``data/checkpoints/<name>.pt``)."""
    return ROOT / (name if name.endswith(".pt") else f"{name}.pt")


def save(file, state_dict: dict, config: dict, meta: dict | None = None) -> pathlib.Path:
    """Write weights, the model's constructor `config` and `meta` (command, metrics, seed)."""
    file = pathlib.Path(file)
    file.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "state_dict": {k: v.detach().cpu().clone() for k, v in state_dict.items()},
        "config": dict(config),
        "meta": dict(meta or {}),
    }
    torch.save(payload, file)
    return file


def load(file) -> dict:
    """Read a checkpoint written by `save`: ``{"state_dict", "config", "meta"}``."""
    file = pathlib.Path(file)
    if not file.exists():
        raise FileNotFoundError(
            f"no checkpoint at {file}; shipped ones are in {ROOT} and each one's metadata "
            "names the `memlib …` command that recreates it"
        )
    payload = torch.load(file, map_location="cpu", weights_only=True)
    missing = {"state_dict", "config", "meta"} - set(payload)
    if missing:
        raise ValueError(f"{file} is not a memlib checkpoint (missing {sorted(missing)})")
    return payload
