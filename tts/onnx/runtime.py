"""OnnxTTS: the Python API of `tts.api.TTS` on exported ONNX graphs, without torch.

    tts = OnnxTTS("my-ckpt/")                          # after `latentlm-tts export-onnx --ckpt my-ckpt/`
    audio = tts.synthesize("Hello there.", voice="me.wav", seed=0)
    for chunk in tts.stream("Hello there.", voice="me.wav"): ...

Built on numpy, onnxruntime, the text frontend (`tts.text`), the inference core
(`tts.inference`) and the sampler table (`tts.sampler`) only; importing this module never
imports torch. Voice prompts, chunking, batching, joining and streaming are
`tts.synthesis.Synthesizer`'s, as for `tts.api.TTS` (its limits and defaults are stored in the
export's onnx.json). Seeds drive numpy generators, so a seed gives the same
audio on every run of OnnxTTS, but not the same audio as the torch engine; for the same
noise both engines agree (see tests/test_onnx.py).

Providers: by default CUDAExecutionProvider first when onnxruntime-gpu offers it, then the CPU.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import onnxruntime as ort
from onnxruntime.capi import onnxruntime_pybind11_state as ortc

from latentlm_common.errors import InputError
from tts.load import ONNX_CONFIG, onnx_config_path
from tts.load import ONNX_FORMAT as FORMAT
from tts.onnx.engine import NoiseSource, OnnxEngine
from tts.onnx.graph_cache import GraphCache, cache_root
from tts.synthesis import Audio, Settings, Synthesizer, Voice
from tts.text import Lexicon, PhonemeTokenizer

GRAPH_ERRORS = (
    ortc.Fail,
    ortc.InvalidArgument,
    ortc.InvalidGraph,
    ortc.InvalidProtobuf,
    ortc.NoSuchFile,
    ortc.RuntimeException,
)

__all__ = ["OnnxTTS", "Audio", "Voice", "GraphStreamDecoder", "FORMAT"]


def default_session_options(threads: int | None = None) -> ort.SessionOptions:
    """Our sessions' options: `threads` intra-op threads (default: ONNX Runtime's, one per core),
    and idle threads sleep instead of spinning. Spinning threads took a 10-word `say` from 1.5 s
    to 3 s on a 2-core machine whose other core was busy."""
    options = ort.SessionOptions()
    options.log_severity_level = 4  # fatal only: a graph that fails to load is one error line (Sessions)
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    if threads is not None:
        options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
    return options


def default_providers() -> list[str]:
    """CUDA first when this onnxruntime build has it, the CPU always."""
    available = ort.get_available_providers()
    return [p for p in ("CUDAExecutionProvider", "CPUExecutionProvider") if p in available]


def read_config(directory: Path) -> dict:
    """The export's runtime config (`tts.load.onnx_config_path`)."""
    path = onnx_config_path(directory)
    if not path.is_file():
        raise InputError(f"{directory}: not an ONNX export (no {ONNX_CONFIG}); run `latentlm-tts export-onnx`.")
    try:
        config = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise InputError(f"{path}: invalid JSON ({e.msg}).") from None
    if config.get("format") != FORMAT:
        raise InputError(f"{path}: not an ONNX export of LatentLM-TTS (format {config.get('format')!r}).")
    return config


class OnnxTTS(Synthesizer):
    def __init__(
        self,
        directory: str | Path,
        providers: list[str] | None = None,
        session_options: ort.SessionOptions | None = None,
        lexicon: Lexicon | str | Path | None = None,
        threads: int | None = None,
    ):
        """`session_options` replaces ours (`default_session_options(threads)`), and then no graph
        is cached (`tts.onnx.graph_cache`); nor is one when a provider other than the CPU runs."""
        self.checkpoint_dir = Path(directory)
        self.config = read_config(self.checkpoint_dir)
        self.providers = providers or default_providers()
        options = session_options if session_options is not None else default_session_options(threads)
        root = cache_root() if session_options is None and self.providers == ["CPUExecutionProvider"] else None
        cache = GraphCache(root, self.checkpoint_dir, lambda: default_session_options(threads)) if root else None
        unrolled = self.providers[0] != "CPUExecutionProvider"
        order = ("vae_encoder", "lm_prefill", "lm_step", "sampler" if unrolled else "head_step", "vae_decoder")
        self.sessions = Sessions(self.checkpoint_dir, self.config["graphs"], self.providers, options, order, cache)
        self.engine = OnnxEngine(self.sessions, self.config, unrolled=unrolled)
        self.tokenizer = PhonemeTokenizer.from_dict(self.config["tokenizer"])
        self.audio = self.config["audio"]
        self.sample_rate, self.hop = int(self.audio["sample_rate"]), int(self.audio["hop"])
        self.target_dbfs = float(self.audio["target_dbfs"])
        self.settings = Settings.from_dict(self.config["api"])
        self.lexicon = Lexicon.load(lexicon)

    # ---- backend hooks of Synthesizer ------------------------------------------------
    def encode(self, samples: np.ndarray) -> np.ndarray:
        """(S,) float samples -> μ (ceil(S / hop), D), zero-padded to whole hops like `SigmaVAE.encode`."""
        x = np.pad(samples.astype(np.float32), (0, -len(samples) % self.hop))[None]
        return self.sessions["vae_encoder"].run(None, {"audio": x})[0][0]

    @staticmethod
    def _noise(seed: int, n: int) -> list[NoiseSource]:
        return [np.random.default_rng(seed + i) for i in range(n)]

    def _graph_decoder(self, batch_size: int) -> GraphStreamDecoder:
        return GraphStreamDecoder(self.sessions["vae_decoder"], self.config["vae"]["decoder_states"], batch_size)

    def _stream_decoder(self):
        decoder = self._graph_decoder(1)
        return lambda latents: decoder.push(np.asarray(latents, np.float32)[None])[0]

    def decoder_state(self) -> list[np.ndarray]:
        return self._graph_decoder(1).states

    def decode_slots(self, states: list, latents: np.ndarray) -> tuple[np.ndarray, list]:
        decoder = self._graph_decoder(len(states))
        decoder.states = [np.concatenate(column) for column in zip(*states)]
        audio = decoder.push(np.asarray(latents, np.float32))
        return audio, [[s[i : i + 1] for s in decoder.states] for i in range(len(states))]


class Sessions(Mapping):
    """The graphs' sessions by name. The graphs named in `prefetch` are created in order on a
    background thread as soon as this is built: ONNX Runtime releases the GIL while it optimises a
    graph, so a synthesis reads its prompt, phonemises and runs the first graphs while the later
    ones (the σ-VAE decoder last) are still being prepared. Any other graph is created on first use."""

    def __init__(self, directory: Path, files: dict[str, str], providers: list[str], options, prefetch=(), cache=None):
        """`cache`: a `GraphCache` to load the graphs through, or None."""
        self.directory, self.files, self.providers, self.options = directory, files, providers, options
        self.cache: GraphCache | None = cache
        self.open: dict[str, ort.InferenceSession] = {}
        for file in files.values():
            if not (directory / file).is_file():
                raise InputError(f"{directory / file}: missing graph of the ONNX export.")
        self.lock = threading.Lock()
        self.pending: dict[str, Future] = {}
        if prefetch:
            pool = ThreadPoolExecutor(1, thread_name_prefix="onnx-sessions")
            self.pending = {name: pool.submit(self._create, name) for name in prefetch}
            pool.shutdown(wait=False)  # the thread ends after the last graph

    def _create(self, name: str) -> ort.InferenceSession:
        path = self.directory / self.files[name]
        try:
            if self.cache is not None:
                return self.cache.session(path, self.providers, GRAPH_ERRORS)
            return ort.InferenceSession(str(path), sess_options=self.options, providers=self.providers)
        except GRAPH_ERRORS as e:  # a truncated graph, or weights it points at that are missing or cut
            detail = str(e).splitlines()[0].split(" : ")[-1] if str(e) else ""
            raise InputError(f"{path}: unreadable ONNX graph or weights ({detail})") from None

    def __getitem__(self, name: str) -> ort.InferenceSession:
        with self.lock:
            if name not in self.open:
                future = self.pending.pop(name, None)
                self.open[name] = future.result() if future else self._create(name)
            return self.open[name]

    def __iter__(self):
        return iter(self.files)

    def __len__(self) -> int:
        return len(self.files)


class GraphStreamDecoder:
    """The σ-VAE decoder graph with its conv and iSTFT states carried between calls:
    `push((B, k, D))` returns the k * hop samples those latents complete."""

    def __init__(self, session: ort.InferenceSession, state_shapes: list[list[int]], batch_size: int):
        self.session = session
        self.states = [np.zeros((batch_size, *s), np.float32) for s in state_shapes]
        self.names = [i.name for i in session.get_inputs()]

    def push(self, latents: np.ndarray) -> np.ndarray:
        if latents.shape[1] == 0:
            return np.zeros((latents.shape[0], 0), np.float32)
        audio, *self.states = self.session.run(None, dict(zip(self.names, [latents.astype(np.float32), *self.states])))
        return audio
