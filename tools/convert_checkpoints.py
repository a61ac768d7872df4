"""Convert memlib checkpoints of format 1 (no model family) to the current format, in place.

    python tools/convert_checkpoints.py data/checkpoints/*.pt

Format 1 stored ``config`` without ``family``; `memlib.checkpoints.load_model` needs it to pick
the recipe that rebuilds the model. The family is inferred from the config's fields, the weights
and metadata are kept, and ``meta["converted"]`` records the conversion. Files already in the
current format are left alone.
"""

from __future__ import annotations

import argparse
import sys

import torch

from memlib import checkpoints


def infer_family(config: dict) -> str:
    """The model family of a format-1 config, from the fields only that family has."""
    if "models" in config:
        return "memn2n"  # {"models": {task: MemN2N config}}
    if config.get("model") in ("ntm", "lstm") and "input_size" in config:
        return "ntm"  # an NTM or the LSTM baseline of an algorithmic task
    if "time_features" in config:
        return "memnn"
    if "embedding_dim" in config and "n_answers" in config:
        return "lstm"  # a QA LSTM, or one per distance ("distances")
    raise ValueError(f"cannot tell the model family of config fields {sorted(config)}")


def convert(file) -> bool:
    """Add the family to `file`'s config and mark the conversion; False if it was current already."""
    payload = checkpoints.read(file)
    if payload.get("format", 1) >= checkpoints.FORMAT and "family" in payload["config"]:
        return False
    family = infer_family(payload["config"])
    meta = dict(payload["meta"])
    meta["converted"] = (f"format {payload.get('format', 1)} -> {checkpoints.FORMAT}: config['family'] = "
                         f"{family!r} added by tools/convert_checkpoints.py; weights unchanged")
    torch.save({"state_dict": payload["state_dict"], "config": {"family": family, **payload["config"]},
                "meta": meta, "format": checkpoints.FORMAT}, file)
    return True


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+")
    args = parser.parse_args(argv)
    for file in args.files:
        try:
            changed = convert(file)
        except (checkpoints.CheckpointError, ValueError, FileNotFoundError) as exc:
            print(f"convert_checkpoints: error: {exc}", file=sys.stderr)
            return 2
        print(f"{file}: {'converted' if changed else 'already current'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
