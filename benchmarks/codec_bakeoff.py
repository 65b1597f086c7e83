"""Codec bake-off: σ-VAE decoder candidates trained for equal process CPU time, scored at fixed marks.

    python benchmarks/codec_bakeoff.py --train data/synthetic-6h/train --eval data/synthetic-6h/test-unseen \
        --out exp/bakeoff [--hours 0.5,1,2,3] [--candidates istft,apnet,hnm,mel-ceiling] [--threads 1]

Every candidate is a `small` σ-VAE (encoder trained with its decoder) that differs only in what
`CANDIDATES` overrides; all are trained by `vae_audio.train.Trainer` (reconstruction losses, no
GAN) on the same crops with the same seed, batch, learning rate and thread count. Only the
training steps' process CPU time counts against the budget (data loading and evaluation do
not), so a busy machine does not change the result. The candidates advance in rounds: all
reach the first mark, are scored, then all reach the next. From the second mark on, a candidate
clearly behind the leader (STOI more than 0.03 and PESQ more than 0.1 below it) is stopped
(successive halving), and where it stopped is recorded.

Scores at each mark, on the same items: `--limit` utterances spread over the --eval speakers,
plus the recorded human speech that installed packages ship (evaluation only, never training):
mel distance, PESQ-wb, STOI, F0 RMSE (Hz, frames voiced in both), Moonshine WER on the first
`--wer-items` transcribed utterances, and Resemblyzer SIM between each input and its
resynthesis. Ceilings beside the candidates: the ground truth itself (WER, SIM), WORLD
copy-synthesis of the same audio, and `mel-ceiling`, the same decoder trained for the same
budget on ground-truth log-mel frames instead of 15 Hz latents (what the bottleneck costs).

`--score DIR,...` trains nothing: it scores trained σ-VAE checkpoints (the bundled one,
`tts/pretrained/default/vae`, or a decoder trained on with `vae_audio.train --freeze-encoder`) on the
same items, beside the ceilings, and writes OUT/scored.md.

The run resumes: rerun the same command and each candidate continues from its last save
(every `--save-minutes` of wall time and at every mark). It writes OUT/results.md (the table),
OUT/results.png (quality against CPU hours) and OUT/results.jsonl (one row per candidate and mark).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from latentlm_common.files import atomic_write
from tts.eval.human import human_speech
from vae_audio.config import VAE_PRESETS
from vae_audio.data import AudioSource, CropDataset
from vae_audio.head_apnet import RECOMMENDED_LOSS
from vae_audio.metrics import MelDistance, pesq_wb, spaced, stoi
from vae_audio.model import SigmaVAE

log = logging.getLogger("codec_bakeoff")

# name -> VAEConfig overrides (`--set KEY=JSON` of vae_audio.train) on top of the preset
CANDIDATES: dict[str, dict] = {
    "istft": {},  # (a) today's decoder: ConvNeXt + Vocos-style iSTFT head
    # (b) phase-explicit iSTFT head, amplitude/phase/consistency losses (vae_audio/head_apnet.py)
    "apnet": {"head": "apnet", "loss": dict(RECOMMENDED_LOSS)},
    # (c) harmonic-plus-noise source-filter head, F0 supervised by pyworld (vae_audio/head_hnm.py)
    "hnm": {"head": "hnm", "loss": {"f0": 5.0, "voicing": 1.0}},
    # the same decoder on ground-truth log-mel frames (75 Hz, the preset's n_mels): no bottleneck
    "mel-ceiling": {"encoder": "mel", "sigma_c": 0.0, "loss": {"mu_l2": 0.0}},
}
CEILINGS = ("mel-ceiling",)  # trained like the candidates, never stopped early, never the winner
NO_GAN = {"loss": {"warmup_steps": 10**9}}  # reconstruction losses only: a GAN step costs 3.6 s here
HUMAN_SECONDS = 8.0  # the first seconds of each clip
META = "bakeoff.json"  # per candidate: CPU seconds and step of its saved weights, scores per mark


@dataclass
class Item:
    name: str
    group: str  # "test-unseen" (or the --eval folder's name) or "human"
    audio: np.ndarray  # mono float32 at the model rate, loudness-normalised
    text: str | None  # transcript (for WER)


# ---- evaluation items and metrics ------------------------------------------------------
def eval_items(eval_dir: Path, limit: int, sample_rate: int, target_dbfs: float) -> list[Item]:
    source = AudioSource(eval_dir, sample_rate, target_dbfs)
    texts = transcripts(eval_dir)
    items = [
        Item(source.name(i), eval_dir.name, source.load(i), texts.get(source.name(i)))
        for i in spaced(len(source), limit)
    ]
    from latentlm_common.audio import load_audio

    for name, path in human_speech():
        x = load_audio(path, sample_rate, normalize_dbfs=target_dbfs)
        items.append(Item(name, "human", x[: int(HUMAN_SECONDS * sample_rate)], None))
    return items


def transcripts(root: Path) -> dict[str, str]:
    """Utterance id -> text of the LibriSpeech-layout *.trans.txt files under root."""
    texts = {}
    for path in root.rglob("*.trans.txt"):
        for line in path.read_text().splitlines():
            uid, _, text = line.partition(" ")
            texts[uid] = text
    return texts


def f0_rmse(ref: np.ndarray, deg: np.ndarray, sample_rate: int) -> float:
    """RMSE in Hz of WORLD's F0 (dio + stonemask, 5 ms frames) over frames voiced in both; NaN if none."""
    import pyworld

    n = min(len(ref), len(deg))
    f0s = []
    for x in (ref[:n], deg[:n]):
        x = x.astype(np.float64)
        f0, t = pyworld.dio(x, sample_rate, frame_period=5.0)
        f0s.append(pyworld.stonemask(x, f0, t, sample_rate))
    voiced = (f0s[0] > 0) & (f0s[1] > 0)
    return float(np.sqrt(np.mean((f0s[0][voiced] - f0s[1][voiced]) ** 2))) if voiced.any() else math.nan


def world_copy_synthesis(x: np.ndarray, sample_rate: int) -> np.ndarray:
    """WORLD analysis (harvest, CheapTrick, D4C) and resynthesis of the clip: a signal-processing ceiling."""
    import pyworld

    y = pyworld.synthesize(*pyworld.wav2world(x.astype(np.float64), sample_rate), sample_rate)
    return y[: len(x)].astype(np.float32)


class Scorer:
    """All metrics of the module docstring for one resynthesis function over the items."""

    def __init__(self, items: list[Item], sample_rate: int, wer_items: int, asr: bool = True, sim: bool = True):
        self.items, self.sr = items, sample_rate
        self.mel = MelDistance(sample_rate)
        transcribed = [i for i, it in enumerate(items) if it.text]
        self.wer_items = set(transcribed[:wer_items])
        self.asr = None
        if asr and self.wer_items:
            from tts.eval.worker import open_asr

            self.asr = open_asr("moonshine")
        self.sim, self.ref_embeddings = None, {}
        if sim:
            from tts.eval.similarity import load_speaker_encoder

            self.sim = load_speaker_encoder("resemblyzer")
            self.ref_embeddings = {i: self.sim.embed(it.audio, sample_rate) for i, it in enumerate(items)}

    def __call__(self, resynthesize) -> dict[str, float]:
        """{metric_group: mean}, e.g. "stoi" (the --eval utterances) and "human_stoi"."""
        from tts.eval.wer import wer

        rows, refs, hyps = [], [], []
        for i, it in enumerate(self.items):
            y = resynthesize(it.audio)
            row = {
                "group": it.group,
                "mel": self.mel(it.audio, y),
                "pesq": pesq_wb(it.audio, y, self.sr),
                "stoi": stoi(it.audio, y, self.sr),
                "f0_rmse": f0_rmse(it.audio, y, self.sr),
            }
            if self.sim is not None:
                row["sim"] = float(self.ref_embeddings[i] @ self.sim.embed(y, self.sr))
            if self.asr is not None and i in self.wer_items:
                refs.append(it.text)
                hyps.append(self.asr.transcribe(y, self.sr))
            rows.append(row)
        out = {}
        for group, prefix in (("human", "human_"), (None, "")):
            chosen = [r for r in rows if (r["group"] == "human") == (group == "human")]
            for key in ("mel", "pesq", "stoi", "f0_rmse", "sim"):
                values = [r[key] for r in chosen if key in r and not math.isnan(r[key])]
                if values:
                    out[prefix + key] = float(np.mean(values))
        if refs:
            out["wer"] = 100.0 * wer(refs, hyps)
        return out


# ---- training --------------------------------------------------------------------------
class Candidate:
    """One candidate's Trainer, data and budget bookkeeping in OUT/<name> (resumed when present)."""

    def __init__(self, name: str, args):
        from latentlm_common.distributed import setup_distributed
        from vae_audio.train import Trainer, build_parser, crop_samples

        self.name, self.dir = name, Path(args.out) / name
        overrides = {**NO_GAN, **CANDIDATES[name]}
        if overrides.get("encoder") == "mel":  # the "latents" are the preset's mel frames
            preset = VAE_PRESETS[args.preset]
            overrides["audio"] = {"hop": preset.frame_hop, "latent_dim": preset.n_mels}
        loss = {**NO_GAN["loss"], **CANDIDATES[name].get("loss", {})}
        argv = ["--data", str(args.train), "--out", str(self.dir), "--preset", args.preset, "--lr", str(args.lr)]
        argv += ["--batch-size", str(args.batch_size), "--crop-seconds", str(args.crop_seconds), "--seed", "0"]
        for key, value in {**overrides, "loss": loss}.items():
            argv += ["--set", f"{key}={json.dumps(value)}"]
        self.args = build_parser().parse_args(argv)
        self.trainer = Trainer(self.args, setup_distributed())
        config = self.trainer.model.config
        source = AudioSource(args.train, config.audio.sample_rate, config.audio.target_dbfs)
        self.crops = CropDataset(source, crop_samples(self.args, config), seed=0)
        self.meta_path = self.dir / META
        self.meta = read_meta(self.dir)
        self.meta.setdefault("cpu_seconds", 0.0)
        self.meta.setdefault("step", self.trainer.start_step)
        self.meta.setdefault("evals", {})

    @property
    def model(self) -> SigmaVAE:
        return self.trainer.model

    def train_until(self, cpu_seconds: float, save_minutes: float) -> None:
        last_save = time.monotonic()
        while self.meta["cpu_seconds"] < cpu_seconds:
            step = self.meta["step"]
            b = self.args.batch_size
            x = torch.stack([self.crops[step * b + j] for j in range(b)])
            start = time.process_time()
            self.model.train()
            self.trainer.step(step, x)
            self.meta["cpu_seconds"] += time.process_time() - start
            self.meta["step"] = step + 1
            if time.monotonic() - last_save > 60 * save_minutes:
                self.save()
                last_save = time.monotonic()
        self.save()

    def save(self) -> None:
        self.trainer.save(self.meta["step"])  # weights first, then this record of them
        atomic_write(self.meta_path, lambda tmp: Path(tmp).write_text(json.dumps(self.meta, indent=1)))

    def resynthesize(self, x: np.ndarray) -> np.ndarray:
        self.model.eval()
        return self.model.reconstruct(x)


# ---- the run ---------------------------------------------------------------------------
def behind(row: dict, leader: dict) -> bool:
    return row["stoi"] < leader["stoi"] - 0.03 and row["pesq"] < leader["pesq"] - 0.1


def setup(args) -> tuple[Path, Scorer, dict[str, dict]]:
    """The run directory, the scorer of the --eval items and the ceilings' scores (cached)."""
    torch.set_num_threads(args.threads)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    probe = SigmaVAE.from_preset(args.preset)
    sr, dbfs = probe.config.audio.sample_rate, probe.config.audio.target_dbfs
    items = eval_items(Path(args.eval), args.limit, sr, dbfs)
    scorer = Scorer(items, sr, args.wer_items, asr=args.wer_items > 0, sim=not args.no_sim)
    ceilings = cached(
        out / "ceilings.json",
        lambda: {
            "ground truth": scorer(lambda x: x),
            "WORLD copy-synthesis": scorer(lambda x: world_copy_synthesis(x, sr)),
        },
    )
    return out, scorer, ceilings


def score_checkpoints(args) -> list[dict]:
    """--score: each checkpoint's row on the same items, beside the ceilings; nothing trains."""
    out, scorer, ceilings = setup(args)
    rows = []
    for directory in args.score:
        model = SigmaVAE.from_pretrained(directory)  # in eval mode
        row = {"candidate": directory, "params": sum(p.numel() for p in model.parameters())}
        rows.append({**row, **scorer(model.reconstruct)})
    text = table(rows, ceilings) + "\n"
    atomic_write(out / "scored.md", lambda tmp: Path(tmp).write_text(text))
    print(text, flush=True)
    return rows


def run(args) -> list[dict]:
    out, scorer, ceilings = setup(args)
    names = args.candidates
    rows = []
    stopped = {n: m["stopped"] for n in names if "stopped" in (m := read_meta(out / n))}
    for k, hours in enumerate(args.hours):
        at_mark = []
        for name in names:
            if name in stopped:
                continue
            cand = Candidate(name, args)
            key = f"{hours:g}"
            if key not in cand.meta["evals"]:
                log.info("%s: training to %.2f CPU hours (now %.2f)", name, hours, cand.meta["cpu_seconds"] / 3600)
                cand.train_until(hours * 3600, args.save_minutes)
                cand.meta["evals"][key] = {
                    "params": sum(p.numel() for p in cand.model.parameters()),
                    "steps": cand.meta["step"],
                    **scorer(cand.resynthesize),
                }
                cand.save()
            row = {"candidate": name, "cpu_hours": hours, **cand.meta["evals"][key]}
            at_mark.append(row)
            rows.append(row)
        if k >= 1:
            stop_behind(at_mark, args, hours, stopped)
        report(out, rows, ceilings, stopped)
    return rows


def stop_behind(at_mark: list[dict], args, hours: float, stopped: dict[str, str]) -> None:
    """Successive halving: stop the candidates clearly behind the leader at this mark."""
    contenders = [r for r in at_mark if r["candidate"] not in CEILINGS]
    if len(contenders) < 2:
        return
    leader = max(contenders, key=lambda r: r["stoi"])
    for r in contenders:
        if r is not leader and behind(r, leader) and r["candidate"] not in stopped:
            why = f"stopped at {hours:g} CPU h: STOI {r['stoi']:.3f} / PESQ {r['pesq']:.2f} vs {leader['candidate']}"
            why += f" {leader['stoi']:.3f} / {leader['pesq']:.2f}"
            meta = read_meta(Path(args.out) / r["candidate"])
            meta["stopped"] = stopped[r["candidate"]] = why
            path = Path(args.out) / r["candidate"] / META
            atomic_write(path, lambda tmp, m=meta: Path(tmp).write_text(json.dumps(m, indent=1)))


def read_meta(directory: Path) -> dict:
    """A candidate's record (CPU seconds, step, scores per mark, why it stopped); {} before its first save."""
    path = directory / META
    return json.loads(path.read_text()) if path.is_file() else {}


def cached(path: Path, compute) -> dict:
    if path.is_file():
        return json.loads(path.read_text())
    value = compute()
    atomic_write(path, lambda tmp: Path(tmp).write_text(json.dumps(value, indent=1)))
    return value


COLUMNS = [  # (key, header, format)
    ("mel", "Mel dist", "{:.3f}"),
    ("pesq", "PESQ", "{:.2f}"),
    ("stoi", "STOI", "{:.3f}"),
    ("f0_rmse", "F0 RMSE Hz", "{:.1f}"),
    ("wer", "WER %", "{:.1f}"),
    ("sim", "SIM", "{:.3f}"),
    ("human_pesq", "human PESQ", "{:.2f}"),
    ("human_stoi", "human STOI", "{:.3f}"),
    ("human_sim", "human SIM", "{:.3f}"),
]


def table(rows: list[dict], ceilings: dict[str, dict]) -> str:
    head = ["system", "CPU h", "steps", "params M"] + [h for _, h, _ in COLUMNS]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    cell = lambda r, k, f: f.format(r[k]) if k in r and not math.isnan(r[k]) else "–"  # noqa: E731
    for name, r in ceilings.items():
        lines.append("| " + " | ".join([name, "–", "–", "–"] + [cell(r, k, f) for k, _, f in COLUMNS]) + " |")
    for r in rows:
        hours, steps = (f"{r['cpu_hours']:g}", str(r["steps"])) if "steps" in r else ("–", "–")  # --score: unknown
        first = [r["candidate"], hours, steps, f"{r['params'] / 1e6:.1f}"]
        lines.append("| " + " | ".join(first + [cell(r, k, f) for k, _, f in COLUMNS]) + " |")
    return "\n".join(lines)


def report(out: Path, rows: list[dict], ceilings: dict[str, dict], stopped: dict[str, str]) -> None:
    text = table(rows, ceilings) + "\n" + "".join(f"\n- {name}: {why}" for name, why in stopped.items()) + "\n"
    atomic_write(out / "results.md", lambda tmp: Path(tmp).write_text(text))
    lines = "".join(json.dumps(r) + "\n" for r in rows)
    atomic_write(out / "results.jsonl", lambda tmp: Path(tmp).write_text(lines))
    plot(out / "results.png", rows, ceilings)
    print(text, flush=True)


def plot(path: Path, rows: list[dict], ceilings: dict[str, dict]) -> None:
    """STOI and PESQ against CPU hours, one line per candidate, ceilings dashed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, key, label in zip(axes, ("stoi", "pesq"), ("STOI", "PESQ-wb")):
        for name in dict.fromkeys(r["candidate"] for r in rows):
            mine = [r for r in rows if r["candidate"] == name]
            ax.plot([r["cpu_hours"] for r in mine], [r[key] for r in mine], marker="o", label=name)
        for (name, c), style in zip(ceilings.items(), (":", "--")):
            if key in c and name != "ground truth":
                ax.axhline(c[key], linestyle=style, color="gray", label=name)
        ax.set_xlabel("training CPU hours (one thread)")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=100))
    plt.close(fig)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--train", help="training audio: a directory or a Lhotse manifest (not with --score)")
    p.add_argument("--eval", required=True, help="held-out LibriSpeech-layout directory (test-unseen)")
    p.add_argument("--out", required=True, help="run directory (resumed when it exists)")
    p.add_argument("--hours", default="0.5,1,2,3", help="CPU-hour marks at which every candidate is scored")
    p.add_argument("--candidates", default=",".join(CANDIDATES), help=f"comma-separated, of {', '.join(CANDIDATES)}")
    p.add_argument("--preset", default="small", help="σ-VAE preset every candidate starts from")
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--crop-seconds", type=float, default=1.0)
    p.add_argument("--lr", type=float, default=6e-4)
    p.add_argument("--threads", type=int, default=1, help="torch threads (the budget is per process)")
    p.add_argument("--limit", type=int, default=100, help="--eval utterances scored at every mark")
    p.add_argument("--wer-items", type=int, default=40, help="of those, transcribed by Moonshine (0: no WER)")
    p.add_argument("--no-sim", action="store_true", help="skip Resemblyzer similarity")
    p.add_argument("--save-minutes", type=float, default=10.0, help="wall minutes between saves while training")
    p.add_argument(
        "--score", default="", help="comma-separated σ-VAE checkpoint directories: score them, train nothing"
    )
    return p


def main(argv: list[str] | None = None) -> list[dict]:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    parser = build_parser()
    args = parser.parse_args(argv)
    args.score = [d.strip() for d in args.score.split(",") if d.strip()]
    if args.score:
        return score_checkpoints(args)
    if not args.train:
        parser.error("--train is required (or --score to score checkpoints without training)")
    args.hours = sorted(float(h) for h in args.hours.split(","))
    args.candidates = [c.strip() for c in args.candidates.split(",") if c.strip()]
    unknown = [c for c in args.candidates if c not in CANDIDATES]
    if unknown:
        raise SystemExit(
            f"codec_bakeoff: unknown candidate(s) {', '.join(unknown)}; choose from {', '.join(CANDIDATES)}"
        )
    return run(args)


if __name__ == "__main__":
    main()
