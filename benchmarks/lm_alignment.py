"""Does text-speech alignment emerge? Train LatentLM variants with/without the alignment aids and measure.

    python benchmarks/lm_alignment.py data --out /tmp/align            # simulated corpus
    python benchmarks/lm_alignment.py train --out /tmp/align --variant aligned_ctc --steps 1500
    python benchmarks/lm_alignment.py eval --out /tmp/align --variant aligned_ctc
    python benchmarks/lm_alignment.py eval --out x --ckpt exp/lm --data data/latents/test   # real audio

Variants: aligned_ctc (both aids), plain_ctc (sequential positions), aligned_noctc (no CTC
loss), plain_noctc (neither). Figures on held-out texts (voice prompt = 3 s of another
utterance of the same speaker, CFG 2, 10 steps):
- length error |T_gen - T_true| / T_true, next to a per-voice rate baseline (N * the speaker's
  mean frames per phoneme in training);
- CTC phoneme error rate of the generated speech (greedy CTC decode of its hidden states vs
  the input text: does every frame know where in the text it is);
- attention monotonicity: Spearman correlation between a speech frame's index and the text
  position it attends to most, best head, on generated sequences.

The corpus is SIMULATED, not audio: a lexicon of phoneme words; each phoneme has a mean
duration (0.5-2 frames at 15 Hz), each speaker a rate (0.8-1.25x) and an offset; a frame's
32-d latent is the phoneme embedding at its time, blended with the next phoneme, plus the
speaker offset and noise. It isolates the alignment problem; it says nothing about audio.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from tts.checkpoint import load_checkpoint
from tts.data import LatentDataset, Utterance, write_latent_dataset
from tts.engine import Engine, SpeechRequest
from tts.train import TrainConfig, train
from vae_audio.config import AudioConfig

SPECIAL = {"pad": 0, "bos": 2, "voice": 3, "voice_end": 4, "text": 5, "text_end": 6, "speech": 7}
VOCAB, FIRST_PHONE, SPACE = 64, 10, 9
VARIANTS = {
    "aligned_ctc": {},
    "plain_ctc": {"aligned_positions": False},
    "aligned_noctc": {"ctc_weight": 0.0},
    "plain_noctc": {"aligned_positions": False, "ctc_weight": 0.0},
}
PROMPT_FRAMES = 45  # 3 s at 15 Hz
MODEL = {"dim": 128, "n_layers": 4, "n_heads": 4, "n_kv_heads": 4, "ffn_dim": 352, "head_dim": 128, "head_layers": 3}


class Simulator:
    def __init__(self, seed: int = 0, n_speakers: int = 24, lexicon: int = 400):
        rng = np.random.default_rng(seed)
        self.emb = rng.standard_normal((VOCAB, 32)).astype(np.float32)
        self.dur = rng.uniform(0.5, 2.0, VOCAB)
        self.dur[SPACE] = 0.4
        self.emb[SPACE] *= 0.2  # near-silence between words
        self.words = [rng.integers(FIRST_PHONE, VOCAB, rng.integers(2, 8)).tolist() for _ in range(lexicon)]
        self.rate = rng.uniform(0.8, 1.25, n_speakers)
        self.offset = 0.5 * rng.standard_normal((n_speakers, 32)).astype(np.float32)

    def text(self, rng) -> list[int]:
        words = [self.words[i] for i in rng.integers(0, len(self.words), rng.integers(4, 14))]
        return [p for w in words for p in (w + [SPACE])][:-1]

    def expected_frames(self, text: list[int], speaker: int) -> float:
        return float(self.dur[text].sum() * self.rate[speaker])

    def speak(self, text: list[int], speaker: int, rng) -> np.ndarray:
        d = self.dur[text] * self.rate[speaker] * rng.uniform(0.8, 1.2, len(text))
        ends = np.cumsum(d)
        n = max(1, int(round(ends[-1])))
        t = np.arange(n) + 0.5
        j = np.minimum(np.searchsorted(ends, t), len(text) - 1)
        starts = ends - d
        frac = np.clip((t - starts[j]) / d[j], 0, 1)[:, None]  # position inside the phoneme
        nxt = np.minimum(j + 1, len(text) - 1)
        blend = np.clip(frac - 0.5, 0, None)  # coarticulation into the next phoneme
        z = (1 - blend) * self.emb[np.array(text)[j]] + blend * self.emb[np.array(text)[nxt]]
        return (z + self.offset[speaker] + 0.3 * rng.standard_normal(z.shape)).astype(np.float32)


def make_data(out: Path, per_speaker: int = 120, n_test: int = 60, seed: int = 0) -> None:
    sim, rng = Simulator(seed), np.random.default_rng(seed + 1)
    utts = []
    for s in range(len(sim.rate)):
        for u in range(per_speaker):
            text = sim.text(rng)
            utts.append(Utterance(f"{s}-{u}", f"spk{s}", sim.speak(text, s, rng), text))
    write_latent_dataset(out / "data", utts, AudioConfig(), VOCAB, SPECIAL)
    tests = []
    for _k in range(n_test):
        s = int(rng.integers(len(sim.rate)))
        text = sim.text(rng)
        tests.append({"speaker": s, "text": text, "frames": sim.expected_frames(text, s)})
    (out / "test.json").write_text(json.dumps(tests))
    hours = sum(len(u.latents) for u in utts) / 15 / 3600
    print(f"{len(utts)} utterances, {hours:.2f} h at 15 Hz, {len(sim.rate)} speakers; {n_test} held-out texts")


def run_train(out: Path, variant: str, steps: int, warmup: int, threads: int) -> None:
    tc = TrainConfig(
        data=str(out / "data"),
        out=str(out / variant),
        preset="small",
        steps=steps,
        batch_size=16,
        lr=1e-3,
        warmup=warmup,
        save_every=100,
        threads=threads,
        tensorboard=False,
        overrides={**MODEL, **VARIANTS[variant]},
    )
    train(tc)


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    ra, rb = np.argsort(np.argsort(a)), np.argsort(np.argsort(b))
    if ra.std() == 0 or rb.std() == 0:
        return 0.0
    return float(np.corrcoef(ra, rb)[0, 1])


def edit_distance(a: list[int], b: list[int]) -> int:
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, y in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (x != y))
    return row[-1]


@torch.no_grad()
def attention_maps(model, batch) -> list[torch.Tensor]:
    """Softmax attention (B, h, L, L) of every layer, recomputed from each block's input."""
    from tts.lm import rope

    maps, _x = [], None

    def grab(block, args, _out):
        x, cos, sin, _mask = args[0], args[1], args[2], args[3]
        a = block.attn
        h = block.attn_norm(x)
        b, n, _ = h.shape
        q = rope(a.q(h).view(b, n, a.n_heads, a.hd).transpose(1, 2), cos, sin)
        k = rope(a.kv(h).view(b, n, 2, a.n_kv, a.hd).permute(2, 0, 3, 1, 4)[0], cos, sin)
        k = k.repeat_interleave(a.n_heads // a.n_kv, dim=1)
        s = q @ k.transpose(-1, -2) / a.hd**0.5
        s = s.masked_fill(~torch.ones(n, n, dtype=torch.bool).tril(), float("-inf"))
        maps.append(s.softmax(-1))

    hooks = [blk.register_forward_hook(grab) for blk in model.blocks]
    model.forward_batch(batch)
    for hk in hooks:
        hk.remove()
    return maps


def simulated_cases(out: Path, limit: int | None) -> list[dict]:
    """Held-out simulated texts; the prompt is 3 s of a training utterance of the same speaker."""
    ds, tests = LatentDataset(out / "data"), json.loads((out / "test.json").read_text())[:limit]
    rates = _speaker_rates(ds)
    rng, cases = np.random.default_rng(0), []
    for t in tests:
        spk = f"spk{t['speaker']}"
        lat, _ = ds.item(int(rng.choice(ds.by_speaker[spk])))
        cases.append(
            {
                "text": t["text"],
                "voice": lat[:PROMPT_FRAMES],
                "frames": t["frames"],
                "baseline": len(t["text"]) * rates[spk],
            }
        )
    return cases


def dataset_cases(data: Path, limit: int | None) -> list[dict]:
    """Every utterance of a held-out latent dataset (real audio through the σ-VAE); the prompt is
    3 s of another utterance of the same speaker, the rate baseline that speaker's other utterances."""
    ds, cases = LatentDataset(data), []
    for i, r in enumerate(ds.index[:limit]):
        others = [j for j in ds.by_speaker[r["speaker"]] if j != i]
        if not others:
            continue
        text = ds.item(i)[1].tolist()
        rate = np.mean([ds.index[j]["frames"] / ds.index[j]["phonemes"] for j in others])
        cases.append(
            {
                "text": text,
                "voice": ds.item(others[0])[0][:PROMPT_FRAMES],
                "frames": r["frames"],
                "baseline": len(text) * rate,
            }
        )
    return cases


def _speaker_rates(ds: LatentDataset) -> dict[str, float]:
    rates = {}
    for r in ds.index:
        rates.setdefault(r["speaker"], []).append(r["frames"] / r["phonemes"])
    return {k: float(np.mean(v)) for k, v in rates.items()}


def evaluate(model, cases: list[dict], guidance_scale: float = 2.0, steps: int = 10) -> dict:
    from tts.layout import build_sequence, collate

    torch.set_num_threads(1)
    len_err, base_err, per, mono, guard = [], [], [], [], 0
    engine = Engine(model)
    for k, c in enumerate(cases):
        req = SpeechRequest(torch.tensor(c["text"]), voice=torch.from_numpy(np.array(c["voice"])))
        result = engine.generate([req], [torch.Generator().manual_seed(k)], steps, guidance_scale)
        z, guard = result.latents[0], guard + int(result.hit_length_guard[0])
        len_err.append(abs(len(z) - c["frames"]) / c["frames"])
        base_err.append(abs(c["baseline"] - c["frames"]) / c["frames"])
        seq = build_sequence(model.cfg, req.text, model.normalize(req.voice), model.normalize(z))
        batch = collate([seq], pad_left=False)
        h = model.forward_batch(batch)[0, seq.speech_start : seq.speech_start + len(z) + 1]
        ids = model.ctc_log_probs(h[None])[0].argmax(-1).tolist()
        decoded = [p for i, p in enumerate(ids) if p != model.cfg.pad_id and (i == 0 or p != ids[i - 1])]
        per.append(edit_distance(decoded, c["text"]) / len(c["text"]))
        mono.append(_monotonicity(attention_maps(model, batch), seq, len(c["text"]), len(z)))
    mono = np.array(mono)  # (cases, layers * heads)
    return {
        "cases": len(cases),
        "length_error": float(np.mean(len_err)),
        "length_error_median": float(np.median(len_err)),
        "rate_baseline": float(np.mean(base_err)),
        "length_guard_hits": guard,
        "ctc_per": float(np.mean(per)),
        "monotonicity_best_head": float(mono.mean(0).max()),
        "monotonicity_mean": float(mono.mean()),
    }


def _monotonicity(maps, seq, n_text: int, n_frames: int) -> list[float]:
    text_start = seq.speech_start - n_text - 1  # first phoneme index
    q = torch.arange(seq.speech_start + 1, seq.speech_start + 1 + n_frames)  # speech frames z_1..z_T
    scores = []
    for a in maps:
        focus = a[0][:, q][:, :, text_start : text_start + n_text].argmax(-1).numpy()  # (h, T)
        scores += [spearman(np.arange(n_frames), f) for f in focus]
    return scores


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("what", choices=["data", "train", "eval"])
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--variant", choices=sorted(VARIANTS), default="aligned_ctc")
    p.add_argument("--steps", type=int, default=1500)
    p.add_argument("--warmup", type=int, default=300)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--guidance-scale", "--cfg-scale", dest="guidance_scale", type=float, default=2.0)
    p.add_argument("--limit", type=int, default=None, help="evaluate only the first N held-out texts")
    p.add_argument("--ckpt", type=Path, default=None, help="eval: this checkpoint instead of OUT/VARIANT")
    p.add_argument(
        "--data",
        type=Path,
        default=None,
        help="eval: a held-out latent dataset (tts/data.py format) instead of the simulated texts",
    )
    args = p.parse_args()
    if args.what == "data":
        make_data(args.out)
    elif args.what == "train":
        run_train(args.out, args.variant, args.steps, args.warmup, args.threads)
    else:
        model, _ = load_checkpoint(args.ckpt or args.out / args.variant)
        cases = dataset_cases(args.data, args.limit) if args.data else simulated_cases(args.out, args.limit)
        print(
            json.dumps(
                {"checkpoint": str(args.ckpt or args.out / args.variant), **evaluate(model, cases, args.guidance_scale)}
            )
        )


if __name__ == "__main__":
    main()
