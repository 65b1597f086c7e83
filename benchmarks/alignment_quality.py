"""How well the CTC alignment times words and flags broken speech (`tts.alignment`).

    PYTHONPATH=. python benchmarks/alignment_quality.py [--ckpt default] [--items 40]   (repository root)

Reference speech is spoken by espeak-ng (the library in the espeakng-loader wheel), whose word
events give each word's exact start. For each sentence:

- word-time error: the sentence's σ-VAE latents are fed to the LatentLM (teacher forcing) in
  the row a guided request is aligned on: with their text (the continuation layout), or without
  it when the head listens (`LMConfig.ctc_listens`, the CFG negative's layout); the CTC
  posteriors are aligned as during generation, and each word's start is compared with
  espeak-ng's (mean absolute error, ms);
- flag quality: the same is done with the audio of one word cut out, and with one word said
  twice; a flag on those counts as a detection, a flag on the clean audio as a false flag;
- generated speech: the sentence is synthesised with the espeak-ng clip as voice prompt, and
  the alignment's word starts are compared with pocketsphinx's forced alignment of the result.
"""

from __future__ import annotations

import argparse
import re

import numpy as np
import soxr
import torch

from latentlm_common.audio import rms_normalize
from recipes.synthetic.espeak import espeak_library
from tts.alignment import CTCAligner
from tts.layout import build_sequence, collate
from tts.synthesis import timed_words
from tts.text import split_text

SENTENCES = [
    "The old man walked slowly along the quiet river bank.",
    "She opened the window and listened to the birds outside.",
    "We should leave early if we want to catch the morning train.",
    "His brother painted the kitchen a bright shade of yellow.",
    "The children laughed when the little dog chased its tail.",
    "A cold wind blew across the empty field all night long.",
    "They found the missing letter under a pile of old books.",
    "Please remember to water the plants while I am away.",
    "The doctor told him to rest for a few more days.",
    "Every summer the family visits a small village by the sea.",
    "The teacher wrote the answer on the board in large letters.",
    "After dinner they played cards until it was very late.",
    "The market was crowded with people buying fresh bread.",
    "He forgot his umbrella and came home soaking wet.",
    "The museum opens at nine and closes in the evening.",
    "Her favourite song was playing softly on the radio.",
    "The captain ordered the sailors to raise the heavy anchor.",
    "I would like a cup of tea with a little milk please.",
    "The mountain road was narrow and full of sharp turns.",
    "Nobody knew where the strange noise was coming from.",
]
VOICES = ["en-us", "en"]


def reference(text: str, voice: str, sample_rate: int, target_dbfs: float):
    """(audio at sample_rate, [(word, start s)]) from espeak-ng and its word events."""
    lib = espeak_library()
    x = lib.synth(text, voice)
    starts = [(re.sub(r"\W", "", text[a : a + n]).lower(), t) for a, n, t in lib.words]
    return rms_normalize(soxr.resample(x, lib.sample_rate, sample_rate).astype(np.float32), target_dbfs), starts


def teacher_forced(tts, chunk, audio: np.ndarray):
    """The alignment of the chunk's phonemes to the CTC posteriors of the audio's own latents."""
    m = tts.model
    z = tts.encode(audio)
    ids = tts.tokenizer.encode(chunk.phonemes)
    text = None if m.cfg.ctc_listens else np.array(ids)  # the row generation aligns on (guided)
    seq = build_sequence(m.cfg, text, None, m.normalize(torch.from_numpy(z)).numpy())
    with torch.no_grad():
        h = m.forward_batch(collate([seq], pad_left=False))[0]
        log_probs = m.ctc_log_probs(h[seq.speech_start : seq.speech_start + len(z) + 1][None])[0].numpy()
    aligner = CTCAligner(ids, m.cfg.pad_id, m.cfg.ctc_upsample, tts.tokenizer.word_index(ids))
    for t in range(0, len(log_probs), m.cfg.ctc_upsample):  # frame by frame, as while generating
        aligner.push(log_probs[t : t + m.cfg.ctc_upsample])
    return aligner.finish()


def start_errors(words, ref: list[tuple[str, float]]) -> list[float]:
    """start - reference start (negative: early) of the words both sides have, matched in order by their letters."""
    errors, j = [], 0
    for w in (w for w in words if w is not None):
        key = re.sub(r"\W", "", w.text).lower()
        for k in range(j, len(ref)):
            if ref[k][0] == key:
                errors.append(w.start - ref[k][1])
                j = k + 1
                break
    return errors


def corrupted(audio: np.ndarray, ref: list[tuple[str, float]], sr: int, rng) -> tuple[np.ndarray, np.ndarray]:
    """(a middle word cut out, a middle word said twice), cut at espeak-ng's word starts."""
    k = int(rng.integers(1, len(ref) - 2))
    a, b = int(ref[k][1] * sr), int(ref[k + 1][1] * sr)
    return np.concatenate([audio[:a], audio[b:]]), np.concatenate([audio[:b], audio[a:b], audio[b:]])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--ckpt", default="default")
    p.add_argument("--items", type=int, default=40, help="sentence x voice pairs")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    from tts.api import TTS
    from tts.eval.protocol import align_words

    tts = TTS.from_pretrained(args.ckpt)
    sr, fr = tts.sample_rate, tts.sample_rate / tts.hop
    rng = np.random.default_rng(args.seed)
    gt_err, gen_err, flags = [], [], {"clean": [], "cut": [], "doubled": []}
    pairs = [(s, v) for s in SENTENCES for v in VOICES][: args.items]
    for n, (text, voice) in enumerate(pairs):
        audio, ref = reference(text, voice, sr, tts.target_dbfs)
        (chunk,) = split_text(text)
        clean = teacher_forced(tts, chunk, audio)
        gt_err += start_errors(timed_words(chunk, clean, fr, 0.0, tts.model.cfg.ctc_lead_seconds), ref)
        flags["clean"].append(clean.flagged)
        cut, doubled = corrupted(audio, ref, sr, rng)
        flags["cut"].append(teacher_forced(tts, chunk, cut).flagged)
        flags["doubled"].append(teacher_forced(tts, chunk, doubled).flagged)
        out = tts.synthesize(text, voice=audio, seed=args.seed + n)
        forced = align_words(out.samples, sr, text)
        if forced:
            gen_err += start_errors(out.words, [(re.sub(r"\W", "", w).lower(), a) for w, a, _ in forced])
    ms = lambda e: (  # noqa: E731
        f"{1000 * np.mean(np.abs(e)):.0f} ms (median {1000 * np.median(np.abs(e)):.0f} ms; "
        f"signed mean {1000 * np.mean(e):+.0f} ms, negative: early; {len(e)} words)"
    )
    print(f"{len(pairs)} sentences x voices; espeak-ng word events as reference")
    print(f"word-start error, ground-truth latents (teacher forced): {ms(gt_err)}")
    print(f"word-start error, generated speech vs pocketsphinx forced alignment: {ms(gen_err)}")
    print(f"false flags on clean ground truth: {100 * np.mean(flags['clean']):.1f} %")
    both = flags["cut"] + flags["doubled"]
    print(f"detected: a word cut out {100 * np.mean(flags['cut']):.1f} %, a word doubled ", end="")
    print(f"{100 * np.mean(flags['doubled']):.1f} %, both {100 * np.mean(both):.1f} %")


if __name__ == "__main__":
    main()
