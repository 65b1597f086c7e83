"""Atomic file writes: the one place the project writes a file that must never be seen half-written.

Checkpoints, training states, audio, dataset shards and resume markers all go through
`atomic_write`, so a crash (or a reader racing the writer) finds either the old file or the new
one. Torch-free: the ONNX runtime and the audio I/O use it too.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def atomic_write(path: str | os.PathLike, write: Callable[[str], object]) -> Path:
    """Call write(tmp_path) on a temporary file beside `path`, then rename it over `path`.

    The temporary file is hidden (a leading dot) and has no suffix, so `write` must not infer a
    format from the name. The result is an ordinary 0o644 file; on any error the temporary file
    is removed and `path` is left as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o644)  # mkstemp (and safetensors) make it private; the result is an ordinary file
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path
