"""The front end shared by the PyTorch (`tts.api.TTS`) and ONNX Runtime (`tts.onnx.OnnxTTS`)
engines: voice prompts, text chunking, batching, joining, streaming, and the one check of every
setting. Torch-free, so the CLI can read the defaults and the ONNX runtime runs without torch.

Voice prompts: without a transcript the prompt is a voice prompt (any clip of the speaker) and
is trimmed to its first `max_voice_seconds` (training prompts are 2-5 s). With a transcript it
starts the speech (continuation, the paper's "prefix" protocol) and may be at most
`max_continuation_seconds`, since cutting it would break the transcript. Prompts with less than
`min_prompt_seconds` of sound after silence trimming, or silent, are refused.

A `lexicon` (`tts.text.lexicon.Lexicon`, set when the synthesizer is made) is applied to every
text and voice transcript before the normalizer's rules.

Long text is split into chunks by the text frontend, synthesised as one batch (at most
`max_batch` sequences at a time) with the same voice, and joined with `pause_seconds` of silence.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, fields
from functools import cached_property
from pathlib import Path

import numpy as np

from latentlm_common.audio import check_samples, load_audio, rms_dbfs, rms_normalize, trim_silence
from latentlm_common.errors import InputError
from tts.alignment import Alignment
from tts.inference import EngineCore, SpeechRequest, StopState
from tts.text import Chunk, Lexicon, PhonemeTokenizer, split_text, text_to_ids
from tts.text.words import symbol_words, written_words

DEFAULT_GUIDANCE_SCALE = 3.0  # v3: WER 48.7 % against 51.2 % at CFG 2 (setting A), 40.1 % against 45.5 % on `say`
DEFAULT_STEPS = 10
MAX_STEPS = 100  # DPM-Solver++(2M) has converged long before; more only costs time
MAX_GUIDANCE_SCALE = 10.0
MAX_RETRIES = 10
MIN_SPEED, MAX_SPEED = 0.5, 2.0  # speaking-rate factors; the model was trained within 0.5x-2x of its average rate
RETRY_SEED_STRIDE = 1_000_003  # retry k of a chunk draws its noise from seed + k * stride
NEAR_SILENCE_DBFS = -50.0  # a take quieter than this is a failed generation, flagged "silent"


@dataclass(frozen=True)
class Settings:
    """Defaults and limits of synthesis; an ONNX export stores them in its config.json ("api")."""

    guidance_scale: float = DEFAULT_GUIDANCE_SCALE
    steps: int = DEFAULT_STEPS
    min_prompt_seconds: float = 1.0
    max_voice_seconds: float = 5.0
    max_continuation_seconds: float = 10.0
    pause_seconds: float = 0.25  # silence between the chunks of a long text
    max_batch: int = 16  # sequences per engine batch

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> Settings:
        """Exports written before the rename store the guidance scale as "cfg_scale"."""
        d = {"guidance_scale": d["cfg_scale"], **d} if "cfg_scale" in d else d
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})


def check_speed(speed: float) -> float:
    """A speaking-rate factor within what the model supports, or a clear error."""
    if isinstance(speed, bool) or not isinstance(speed, (int, float)) or not MIN_SPEED <= speed <= MAX_SPEED:
        raise InputError(f"speed must be a number from {MIN_SPEED} to {MAX_SPEED}, got {speed!r}")
    return float(speed)


def check_retries(retries: int) -> int:
    """A whole number of retries from 0 to MAX_RETRIES (2.0 counts as 2), or a clear error."""
    whole = isinstance(retries, (int, float)) and not isinstance(retries, bool) and int(retries) == retries
    if not whole or not 0 <= retries <= MAX_RETRIES:
        raise InputError(f"retries must be a whole number from 0 to {MAX_RETRIES}, got {retries!r}")
    return int(retries)


def check_settings(guidance_scale: float, steps: int) -> tuple[float, int]:
    """The one check of the per-call settings, shared by every front end and command."""
    if isinstance(steps, bool) or int(steps) != steps or not 1 <= steps <= MAX_STEPS:
        raise InputError(f"steps must be a whole number from 1 to {MAX_STEPS}, got {steps}")
    if not 0.0 <= guidance_scale <= MAX_GUIDANCE_SCALE:  # also refuses NaN
        raise InputError(f"guidance scale must be from 0 to {MAX_GUIDANCE_SCALE:g}, got {guidance_scale}")
    return float(guidance_scale), int(steps)


@dataclass
class Word:
    text: str  # as in the normalized text ("three dollars" for "$3")
    start: float  # seconds from the start of the audio
    end: float


@dataclass
class Audio:
    samples: np.ndarray  # (S,) float32
    sample_rate: int
    length_guard_hit: bool = False  # some chunk ended by the length guard, not the stop head
    words: list[Word] = field(default_factory=list)  # timed by the CTC alignment
    flags: list[str] = field(default_factory=list)  # what went wrong in any chunk: the alignment's flags, "silent"
    takes: int = 1  # the most takes sampled for one of its chunks: 1 + the retries it used

    @property
    def problems(self) -> list[str]:
        """Everything found wrong, as manifests record it: "length_guard", then `flags`."""
        return (["length_guard"] if self.length_guard_hit else []) + list(self.flags)


@dataclass
class Voice:
    latents: np.ndarray  # (K, D) raw σ-VAE latents of the prompt, float32
    ids: list[int] | None  # phoneme ids of its transcript (continuation) or None (voice prompt)


def prompt_audio(
    voice: str | Path | np.ndarray,
    sample_rate: int,
    target_dbfs: float,
    with_transcript: bool,
    settings: Settings = Settings(),
) -> np.ndarray:
    """A prompt file, or float samples at `sample_rate`, checked, trimmed and loudness-normalised."""
    if isinstance(voice, np.ndarray):  # the same checks, trimming and loudness as a file gets
        name = "voice prompt"
        x = np.asarray(voice, dtype=np.float32).reshape(-1)
        check_samples(x, name)
        x = rms_normalize(trim_silence(x, sample_rate), target_dbfs)
    else:
        x, name = load_audio(voice, sample_rate, normalize_dbfs=target_dbfs), str(voice)
    if len(x) < settings.min_prompt_seconds * sample_rate:
        raise InputError(
            f"{name}: the voice prompt has {len(x) / sample_rate:.2f} s of sound; "
            f"at least {settings.min_prompt_seconds:.0f} s is needed."
        )
    if not with_transcript:
        return x[: int(settings.max_voice_seconds * sample_rate)]
    if len(x) > settings.max_continuation_seconds * sample_rate:
        raise InputError(
            f"{name}: a prompt with a transcript may be at most "
            f"{settings.max_continuation_seconds:.0f} s long; it is {len(x) / sample_rate:.1f} s."
        )
    return x


def prompt_rate(n_frames: int, n_phonemes: int, base_rate: float) -> float:
    """Frames per phoneme of a continuation prompt, kept within 0.5x-2x of the training average."""
    return float(np.clip(n_frames / max(1, n_phonemes), 0.5 * base_rate, 2.0 * base_rate))


def join_with_pauses(parts: list[np.ndarray], sample_rate: int, pause_seconds: float) -> np.ndarray:
    """Concatenate audio chunks with `pause_seconds` of silence between them."""
    pause = np.zeros(int(pause_seconds * sample_rate), dtype=np.float32)
    pieces = [p for a in parts for p in (a, pause)][:-1]
    return np.concatenate(pieces).astype(np.float32) if pieces else np.zeros(0, np.float32)


def make_requests(
    chunks: list[list[int]],
    words: list[list[int]],
    voice: Voice | None,
    base_rate: float,
    space_id: int,
    speed: float = 1.0,
) -> list[SpeechRequest]:
    """One engine request per text chunk (ids, and the word of each id, which aligns it). No voice:
    the text alone. A voice prompt without transcript: `voice`. A continuation prompt: its
    transcript, a space and the chunk as the text, the prompt latents starting the speech, and the
    prompt's own speaking rate; the alignment starts after the transcript. `speed` divides the
    frames per phoneme (2.0: twice as fast)."""
    if voice is None or voice.ids is None:
        latents = None if voice is None else voice.latents
        rate = None if speed == 1.0 else base_rate / speed
        return [SpeechRequest(np.array(ids), voice=latents, rate=rate, words=w) for ids, w in zip(chunks, words)]
    rate = prompt_rate(len(voice.latents), len(voice.ids), base_rate) / speed
    head = voice.ids + [space_id]
    return [
        SpeechRequest(np.array(head + ids), prompt=voice.latents, rate=rate, words=[-1] * len(head) + w,
                      align_from=len(head))
        for ids, w in zip(chunks, words)
    ]  # fmt: skip


def timed_words(
    chunk: Chunk,
    alignment: Alignment | None,
    frame_rate: float,
    offset: float,
    lead: float = 0.0,
    until: float = math.inf,
) -> list[Word | None]:
    """Each of the chunk's (normalized) words with the times of its phonemes' CTC spans; None for
    a word none of whose phonemes was reached. CTC step t of position p (p = 0: the token before
    the first frame) describes frame p, which ends at p / frame_rate; `lead` (seconds, the model's
    `ctc_lead_seconds`) is how far ahead of the audio those steps run. Times stop at `until`, the
    chunk's end."""
    words = chunk.text.split()
    if alignment is None:
        return [None] * len(words)
    owner = symbol_words(words, chunk.phonemes)
    k = alignment.steps_per_frame
    spans: dict[int, list[int]] = {}
    for label, span in enumerate(alignment.spans):
        if span is not None and owner[label] >= 0:
            spans.setdefault(owner[label], []).extend(span)
    seconds = lambda t: min(until, offset + max(0.0, (t / k - 1.0) / frame_rate + lead))  # noqa: E731
    return [
        Word(w, seconds(min(spans[i])), seconds(max(spans[i]) + 1)) if i in spans else None for i, w in enumerate(words)
    ]


def as_written(owners: list[tuple[str, int]] | None, timed: list[Word | None]) -> list[Word]:
    """Timed normalized words regrouped into the words as written, `owners` being each normalized
    word's written token (`tts.text.words.written_words`): "$3.50" is one word, from the start of
    its first to the end of its last spoken word. Without owners, the normalized words themselves."""
    if owners is None:
        return [w for w in timed if w is not None]
    out: list[Word] = []
    last = None
    for (token, j), w in zip(owners, timed):
        if w is None:
            continue
        if j == last:
            out[-1].end = w.end
        else:
            out.append(Word(token, w.start, w.end))
        last = j
    return out


@dataclass
class Take:
    """One generated chunk: its audio, whether the length guard ended it, and its alignment."""

    samples: np.ndarray
    guard: bool
    alignment: Alignment | None

    @cached_property
    def flags(self) -> list[str]:
        """What went wrong: the alignment's flags (tts.alignment), and "silent" for a take quieter
        than NEAR_SILENCE_DBFS."""
        silent = rms_dbfs(self.samples) < NEAR_SILENCE_DBFS
        return (self.alignment.flags if self.alignment else []) + (["silent"] if silent else [])

    @property
    def badness(self) -> int:
        """0 for a clean take; retries keep the take with the least."""
        return len(self.flags) + int(self.guard)


class Synthesizer:
    """Text (+ an optional voice prompt) in, audio out, on an `EngineCore` backend.

    Subclasses set `engine`, `tokenizer`, `sample_rate`, `hop`, `target_dbfs` and `settings`
    and implement the hooks below; everything else is shared."""

    engine: EngineCore
    tokenizer: PhonemeTokenizer
    sample_rate: int
    hop: int
    target_dbfs: float
    settings: Settings
    lexicon: Lexicon | None = None  # the user's pronunciation fixes (subclasses take it as `lexicon=`)

    # ---- backend hooks ---------------------------------------------------------------
    def encode(self, samples: np.ndarray) -> np.ndarray:
        """(S,) float samples -> raw latents (ceil(S / hop), D) float32."""
        raise NotImplementedError

    def _noise(self, seed: int, n: int) -> list:
        """n noise sources for the engine, seeded seed, seed + 1, ..."""
        raise NotImplementedError

    def _stream_decoder(self):
        """A fresh decoder state: a callable from raw latents (k, D) (numpy or the engine's
        arrays) to the k * hop float32 samples they complete."""
        raise NotImplementedError

    def decoder_state(self):
        """A fresh streaming-decoder state of one sequence, for `decode_slots`."""
        raise NotImplementedError

    def decode_slots(self, states: list, latents: np.ndarray) -> tuple[np.ndarray, list]:
        """Raw latents (n, k, D) of n sequences, each with its decoder state -> (n, k * hop) float32
        samples and the n new states, in one batched decoder call (`tts.serve`)."""
        raise NotImplementedError

    def _decode_all(self, latents: np.ndarray) -> np.ndarray:
        """Raw latents (T, D), T > 0, -> T * hop samples; by default one push of a fresh decoder."""
        return self._stream_decoder()(latents)

    def _numpy(self, latents) -> np.ndarray:
        """The engine's latents (T, D) as float32 numpy."""
        return np.asarray(latents, dtype=np.float32)

    # ---- inputs ----------------------------------------------------------------------
    def load_voice(self, voice: str | Path | np.ndarray, voice_text: str | None = None) -> Voice:
        """Prompt audio (a file, or float samples at the model rate) -> latents, per the module docstring."""
        x = prompt_audio(voice, self.sample_rate, self.target_dbfs, voice_text is not None, self.settings)
        ids = text_to_ids(voice_text, self.tokenizer, self.lexicon) if voice_text is not None else None
        return Voice(self.encode(x), ids)

    def _voice(self, voice, voice_text: str | None) -> Voice | None:
        """A prompt given as a file or samples is loaded; a `Voice` from `load_voice` is used as is."""
        if voice is None or isinstance(voice, Voice):
            return voice
        return self.load_voice(voice, voice_text)

    def _voices(self, voice, voice_text: str | None, n: int) -> list[Voice | None]:
        """One voice per text: `voice` for all of them, or a list of one each (see `synthesize_batch`)."""
        if not isinstance(voice, list):
            return [self._voice(voice, voice_text)] * n
        if len(voice) != n:
            raise InputError(f"{len(voice)} voices for {n} texts: give one voice, or one per text")
        return [self._voice(v, voice_text) for v in voice]

    def _chunks(self, text: str) -> list[Chunk]:
        return split_text(text, lexicon=self.lexicon)

    def _requests(self, chunks: list[Chunk], voice: Voice | None, speed: float = 1.0) -> list[SpeechRequest]:
        ids = [self.tokenizer.encode(c.phonemes) for c in chunks]
        words = [self.tokenizer.word_index(i) for i in ids]
        base_rate, space = self.engine.cfg.frames_per_phoneme, self.tokenizer.encode(" ")[0]
        return make_requests(ids, words, voice, base_rate, space, speed)

    def resolve_settings(self, guidance_scale=None, steps=None, cfg_scale=None) -> tuple[float, int]:
        """Defaults filled in (`cfg_scale` is the old name of `guidance_scale`), then checked."""
        if cfg_scale is not None and guidance_scale is None:
            guidance_scale = cfg_scale
        guidance_scale = self.settings.guidance_scale if guidance_scale is None else guidance_scale
        return check_settings(guidance_scale, self.settings.steps if steps is None else steps)

    @staticmethod
    def _seed(seed: int | None) -> int:
        return random.SystemRandom().randrange(2**31) if seed is None else int(seed)

    def plan(self, text: str, voice: Voice | None, seed: int, speed: float = 1.0) -> list[tuple[SpeechRequest, object]]:
        """The (request, noise source) of each chunk of `text`, as `stream` generates them one by one;
        `speed` divides the speaking rate (frames per phoneme)."""
        chunks = self._chunks(text)
        return list(zip(self._requests(chunks, voice, check_speed(speed)), self._noise(seed, len(chunks))))

    # ---- synthesis -------------------------------------------------------------------
    def synthesize(
        self,
        text: str,
        voice=None,
        voice_text: str | None = None,
        guidance_scale: float | None = None,
        steps: int | None = None,
        seed: int | None = None,
        *,
        retries: int = 0,
        speed: float = 1.0,
        cfg_scale: float | None = None,
    ) -> Audio:
        """One text as audio. `voice`: a file, float samples at the model rate, or a `Voice`;
        `retries`: chunks the alignment flags (or the length guard ends) are sampled again with
        other seeds up to this many times, and the least flagged take is kept (the earliest among
        equals; when a few chunks are left, their remaining attempts share one batch); `speed`:
        speaking-rate factor, MIN_SPEED to MAX_SPEED."""
        return self.synthesize_batch(
            [text], voice, voice_text, guidance_scale, steps, [seed], retries=retries, speed=speed, cfg_scale=cfg_scale
        )[0]

    def synthesize_batch(
        self,
        texts: list[str],
        voice=None,
        voice_text: str | None = None,
        guidance_scale: float | None = None,
        steps: int | None = None,
        seeds: list[int | None] | None = None,
        *,
        retries: int = 0,
        speed: float = 1.0,
        cfg_scale: float | None = None,
    ) -> list[Audio]:
        """One Audio per text, all chunks of all texts batched (see `synthesize`). `voice`: one voice
        for every text, or a list with one per text (a file, samples or a `Voice` each, `voice_text`
        applying to all; pass `Voice`s from `load_voice` to give each its own transcript), so one
        batch can mix speakers."""
        guidance_scale, steps = self.resolve_settings(guidance_scale, steps, cfg_scale)
        speed = check_speed(speed)
        retries = check_retries(retries)
        seeds = [self._seed(s) for s in (seeds if seeds is not None else [None] * len(texts))]
        voices = self._voices(voice, voice_text, len(texts))
        flat = [(t, i, c) for t, text in enumerate(texts) for i, c in enumerate(self._chunks(text))]
        takes: list[Take | None] = [None] * len(flat)
        sampled = [0] * len(flat)  # takes sampled per chunk
        todo, attempt = list(range(len(flat))), 0
        while todo and attempt <= retries:
            # after the first takes, a few flagged chunks run their remaining attempts side by side in
            # spare batch rows; taken in attempt order, the kept take is the one a take-by-take loop keeps
            ahead = 1 if attempt == 0 else min(retries + 1 - attempt, max(1, self.settings.max_batch // len(todo)))
            work = [(a, j) for a in range(attempt, attempt + ahead) for j in todo]
            noise = [self._noise(seeds[flat[j][0]] + flat[j][1] + a * RETRY_SEED_STRIDE, 1)[0] for a, j in work]
            chunks, chunk_voices = [flat[j][2] for _, j in work], [voices[flat[j][0]] for _, j in work]
            for (_, j), take in zip(work, self._takes(chunks, noise, chunk_voices, steps, guidance_scale, speed)):
                sampled[j] += 1
                if takes[j] is None or take.badness < takes[j].badness:
                    takes[j] = take
            todo, attempt = [j for j in todo if takes[j].badness > 0], attempt + ahead
        own = [[j for j, (t, _, _) in enumerate(flat) if t == i] for i in range(len(texts))]
        return [
            self._join(text, [(flat[j][2], takes[j]) for j in js], max(sampled[j] for j in js))
            for text, js in zip(texts, own)
        ]

    def _takes(self, chunks: list[Chunk], noise: list, voices: list, steps: int, guidance_scale: float, speed):
        """One `Take` per chunk (spoken in the voice at the same place of `voices`), generated
        `max_batch` at a time."""
        takes, size = [], self.settings.max_batch
        for start in range(0, len(chunks), size):
            part = slice(start, start + size)
            reqs = [r for c, v in zip(chunks[part], voices[part]) for r in self._requests([c], v, speed)]
            out = self.engine.generate(reqs, noise[part], steps, guidance_scale)
            for z, guard, alignment, voice in zip(out.latents, out.hit_length_guard, out.alignments, voices[part]):
                takes.append(Take(self.decode(z, voice), guard, alignment))
        return takes

    def decode(self, latents, voice: Voice | None = None) -> np.ndarray:
        """Raw latents (T, D) -> samples; a continuation prompt primes the decoder and is cut off."""
        latents = self._numpy(latents)
        prefix = voice.latents if voice is not None and voice.ids is not None else latents[:0]
        if len(prefix) + len(latents) == 0:
            return np.zeros(0, np.float32)
        return self._decode_all(np.concatenate([prefix, latents]))[len(prefix) * self.hop :]

    def _join(self, text: str, parts: list[tuple[Chunk, Take]], takes: int) -> Audio:
        """The chunks of `text`: their audio with pauses between them, their timed words (as
        written), their flags and the most `takes` sampled for one of them."""
        frame_rate, pause = self.sample_rate / self.hop, self.settings.pause_seconds
        words, flags, offset = [], [], 0.0
        for chunk, take in parts:
            end = offset + len(take.samples) / self.sample_rate
            words += timed_words(chunk, take.alignment, frame_rate, offset, self.engine.cfg.ctc_lead_seconds, end)
            flags += [f for f in take.flags if f not in flags]
            offset = end + pause
        audio = join_with_pauses([take.samples for _, take in parts], self.sample_rate, pause)
        owners = written_words(text, [w for chunk, _ in parts for w in chunk.text.split()], self.lexicon)
        guard = any(take.guard for _, take in parts)
        return Audio(audio, self.sample_rate, guard, as_written(owners, words), flags, takes)

    def stream(
        self,
        text: str,
        voice=None,
        voice_text: str | None = None,
        guidance_scale: float | None = None,
        steps: int | None = None,
        seed: int | None = None,
        frames_per_chunk: int = 1,
        *,
        with_words: bool = False,
        speed: float = 1.0,
        cfg_scale: float | None = None,
    ) -> Iterator[np.ndarray] | Iterator[tuple[np.ndarray, list[Word]]]:
        """Audio chunks (float32 samples) as the frames are generated; the first arrives after
        `frames_per_chunk` frames (each frame is hop samples). `with_words`: yield (samples, words)
        pairs instead, the words of each sentence (timed from the start of the stream) arriving
        with the last audio of that sentence, and none with the other pieces."""
        guidance_scale, steps = self.resolve_settings(guidance_scale, steps, cfg_scale)
        speed = check_speed(speed)
        v = self._voice(voice, voice_text)
        chunks = self._chunks(text)
        noise = self._noise(self._seed(seed), len(chunks))
        offset, pause = 0.0, np.zeros(int(self.settings.pause_seconds * self.sample_rate), dtype=np.float32)
        owners, first = written_words(text, [w for c in chunks for w in c.text.split()], self.lexicon), 0
        for i, (chunk, source) in enumerate(zip(chunks, noise)):
            if i:
                offset += len(pause) / self.sample_rate
                yield (pause, []) if with_words else pause
            state, start = StopState.empty(1), offset
            pieces = self._stream_chunk(chunk, source, steps, guidance_scale, v, frames_per_chunk, state, speed)
            for samples in pieces:
                offset += len(samples) / self.sample_rate
                yield (samples, []) if with_words else samples
            if with_words:
                alignment = state.alignment(0)
                lead = self.engine.cfg.ctc_lead_seconds
                timed = timed_words(chunk, alignment, self.sample_rate / self.hop, start, lead, offset)
                mine = owners[first : first + len(timed)] if owners else None
                first += len(timed)
                yield np.zeros(0, np.float32), as_written(mine, timed)

    def _stream_chunk(self, chunk, source, steps, guidance_scale, voice: Voice | None, frames_per_chunk, state, speed):
        decode, size = self._stream_decoder(), max(1, int(frames_per_chunk))
        if voice is not None and voice.ids is not None:
            decode(voice.latents)  # prime the causal decoder state, output dropped
        pending = []
        for frame in self.engine.stream(self._requests([chunk], voice, speed), [source], steps, guidance_scale, state):
            pending.append(frame.latents[0])
            if len(pending) == size:
                yield decode(self.engine.stack(pending))
                pending = []
        if pending:
            yield decode(self.engine.stack(pending))
