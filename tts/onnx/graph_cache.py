"""Each graph as ONNX Runtime optimised it, kept on disk so that later processes skip the work.

Creating a session optimises its graph: the float16 weights are cast to float32 and the constants
that are computed at load time (DFT bases, windows) are folded. That is 0.61 s of a 2-core
machine's CPU for the five graphs a CPU synthesis uses, in every process. `GraphCache` saves the
optimised graph (at ONNX Runtime's extended level, which is portable across CPUs; the
hardware-specific layout passes still run at each load) with its float32 weights, and loads that
instead next time: 0.19 s for the five graphs, and one float32 copy of the weights in memory
instead of the float16 file plus the cast.

An entry is keyed by ONNX Runtime's version, the graph's bytes and the size and time of every
weight file of its checkpoint, so a re-export or retraining makes a new entry; the least recently
used beyond `KEEP` are removed. An entry is written to a temporary directory and renamed into place,
so a killed process or two processes at once never leave half an entry. One that fails to load is
removed and rebuilt. The cache lives in $LATENTLM_TTS_CACHE, else $XDG_CACHE_HOME/latentlm-tts,
else ~/.cache/latentlm-tts; LATENTLM_TTS_CACHE=off keeps none. About 100 MB per model.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import onnxruntime as ort

ENV = "LATENTLM_TTS_CACHE"
KEEP = 16  # entries (graphs) kept: the five CPU graphs of about three models
WEIGHTS = "weights.data"


def cache_root() -> Path | None:
    """The cache directory, or None when $LATENTLM_TTS_CACHE is "off"."""
    chosen = os.environ.get(ENV)
    if chosen is not None:
        return None if chosen.strip().lower() in ("off", "0", "") else Path(chosen).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "latentlm-tts"


class GraphCache:
    def __init__(self, root: Path, directory: Path, options: Callable[[], ort.SessionOptions]):
        """The cache of the graphs of the checkpoint `directory`; `options` makes fresh session
        options (threads, logging) for each session."""
        self.root, self.options = root / "graphs", options
        self.weights = _weights_stamp(directory)  # once, not per graph

    def session(self, path: Path, providers: list[str], errors: tuple) -> ort.InferenceSession:
        """A session of the graph at `path`, from the cache when it is there. `errors` are ONNX
        Runtime's load errors: a cached entry that raises one is removed and rebuilt; the graph's
        own are left to the caller."""
        entry = self.root / _key(path, providers, self.weights)
        if (entry / path.name).is_file():
            try:
                session = self._create(entry / path.name, providers)
                with contextlib.suppress(OSError):
                    os.utime(entry)  # the most recently used
                return session
            except errors:
                shutil.rmtree(entry, ignore_errors=True)
        return self._build(path, providers, entry, errors)

    def _create(self, path: Path, providers: list[str], save_to: Path | None = None) -> ort.InferenceSession:
        options = self.options()
        if save_to is not None:
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
            options.optimized_model_filepath = str(save_to)
            options.add_session_config_entry("session.optimized_model_external_initializers_file_name", WEIGHTS)
            options.add_session_config_entry("session.optimized_model_external_initializers_min_size_in_bytes", "1024")
        return ort.InferenceSession(str(path), sess_options=options, providers=providers)

    def _build(self, path: Path, providers: list[str], entry: Path, errors: tuple) -> ort.InferenceSession:
        """Optimise the graph into a new entry, then load that entry (or, failing that, the graph)."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(dir=self.root, prefix=".new-"))
        except OSError:  # a read-only cache directory: no cache
            return self._create(path, providers)
        try:
            self._create(path, providers, save_to=tmp / path.name)
            os.replace(tmp, entry)
        except (OSError, *errors):  # another process renamed its entry first, a full disk; a bad graph fails below
            pass
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        self._evict()
        return self._create(entry / path.name if (entry / path.name).is_file() else path, providers)

    def _evict(self) -> None:
        entries = sorted((p for p in self.root.iterdir() if not p.name.startswith(".")), key=_mtime, reverse=True)
        for old in entries[KEEP:]:
            shutil.rmtree(old, ignore_errors=True)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _weights_stamp(directory: Path) -> str:
    """The size and time of the checkpoint's weight files (where `tts.onnx.storage` points the graphs)."""
    stamps = []
    for f in sorted([*directory.rglob("*.safetensors"), *directory.glob("*.data")]):
        stat = f.stat()
        stamps.append(f"{f.relative_to(directory)} {stat.st_size} {stat.st_mtime_ns}")
    return "\n".join(stamps)


def _key(path: Path, providers: list[str], weights: str) -> str:
    """ONNX Runtime's version, the providers, the graph's bytes and its checkpoint's weights stamp."""
    digest = hashlib.sha256(f"{ort.__version__} {providers}\n{weights}".encode())
    digest.update(path.read_bytes())
    return digest.hexdigest()[:32]
