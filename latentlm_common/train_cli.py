"""The command-line convention both trainers share (`python -m tts.train`, `python -m vae_audio.train`).

    --set KEY=JSON   override one field of the model config (repeatable); the value is JSON, so a
                     string is quoted (--set head='"upsample"') and an object merges into a nested
                     config (--set loss='{"warmup_steps": 0}')
    --stop-at STEP   end this run at absolute step STEP of the schedule (saving there); the same
                     command without it resumes and finishes the schedule

Both land in the parsed arguments as `overrides` (a dict) and `stop_at` (an int or None), the
field names of `tts.train.TrainConfig`. Torch-free.
"""

from __future__ import annotations

import argparse
import json


class SetOverride(argparse.Action):
    """`--set KEY=JSON` into a {key: value} dict; two objects given for one key are merged."""

    def __call__(self, parser, namespace, item, option_string=None):
        key, sep, text = item.partition("=")
        if not sep or not key:
            parser.error(f"--set {item!r}: expected KEY=JSON, e.g. --set ctc_weight=0")
        try:
            value = json.loads(text)
        except json.JSONDecodeError as e:
            parser.error(f"--set {item!r}: the value is not JSON ({e.msg}); quote a string: {key}='\"...\"'")
        overrides = dict(getattr(namespace, self.dest) or {})
        old = overrides.get(key)
        overrides[key] = {**old, **value} if isinstance(old, dict) and isinstance(value, dict) else value
        setattr(namespace, self.dest, overrides)


def add_trainer_flags(parser: argparse.ArgumentParser, config_name: str) -> None:
    """Add `--set` (dest `overrides`) and `--stop-at` (dest `stop_at`) to a trainer's parser."""
    parser.add_argument(
        "--set",
        dest="overrides",
        action=SetOverride,
        default={},
        metavar="KEY=JSON",
        help=f"override one {config_name} field (repeatable); JSON values, an object merges into a nested config",
    )
    parser.add_argument(
        "--stop-at",
        type=int,
        default=None,
        metavar="STEP",
        help="end this run (saving) at this absolute step of the --steps schedule; rerun without it to resume",
    )
