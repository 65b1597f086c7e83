"""The data card (DATA.md): what was built, from which voices, how intelligible and how distinct."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import fields
from pathlib import Path

import numpy as np

SPLIT_ORDER = ("train", "dev", "test", "test-unseen")


def table(header: list[str], rows: list[list]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]


def split_rows(records: list[dict], key: str) -> list[list]:
    """Utterances, hours and speakers per (key value, split)."""
    groups = defaultdict(list)
    for r in records:
        groups[(r[key], r["split"])].append(r)
    rows = []
    for (value, split), rs in sorted(groups.items(), key=lambda kv: (kv[0][0], SPLIT_ORDER.index(kv[0][1]))):
        rows.append(
            [value, split, len(rs), f"{sum(r['seconds'] for r in rs) / 3600:.3f}", len({r["speaker"] for r in rs})]
        )
    return rows


def wer_rows(records: list[dict], rejected: list[dict]) -> list[list]:
    """Per engine: mean WER of every checked utterance, of the kept ones, and how many QC dropped."""
    rows = []
    for engine in sorted({r["engine"] for r in records + rejected}):
        checked = [r["wer"] for r in records + rejected if r["engine"] == engine and "wer" in r]
        kept = [r["wer"] for r in records if r["engine"] == engine and "wer" in r]
        dropped = sum(1 for r in rejected if r["engine"] == engine and r["reason"] == "wer")
        other = sum(1 for r in rejected if r["engine"] == engine and r["reason"] != "wer")
        rows.append([engine, len(checked), _mean(checked), _mean(kept), dropped, other])
    return rows


def voice_rows(summary: dict) -> list[list]:
    """Per base voice: its licence, what the build holds of it, and its WER (this build's QC where it
    ran, and the reference measurement of voice_wer.py on the same sentences for every voice)."""
    from recipes.synthetic.voice_wer import read_voice_wer

    reference = read_voice_wer()
    records, rejected = summary["records"], summary["rejected"]
    bases = {s.base.key: s.base for s in summary["speakers"]}
    rows = []
    for key, base in sorted(bases.items(), key=lambda kv: kv[1].code):
        kept = [r for r in records if r["base_voice"] == key]
        checked = [r["wer"] for r in kept + rejected if r.get("base_voice") == key and "wer" in r]
        ref = reference.get(key)
        rows.append(
            [
                base.code,
                key,
                base.sex,
                base.licence.use,
                base.licence.name,
                sum(s.base.key == key for s in summary["speakers"]),
                f"{sum(r['seconds'] for r in kept) / 3600:.3f}",
                _mean(checked),
                f"{100 * float(ref['mean_wer']):.1f}%" if ref else "n/a",
            ]
        )
    return rows


def voice_section(summary: dict) -> list[str]:
    rows = voice_rows(summary)
    restricted = sum(float(r[6]) for r in rows if r[3] != "any")
    lines = ["## Per base voice: licence and ground-truth WER", ""]
    lines += table(
        ["code", "voice", "sex", "use", "licence", "speakers", "hours", "WER, this build's QC", "WER, reference"],
        rows,
    )
    return lines + [
        "",
        "WER, reference: `python -m recipes.synthetic.voice_wer` (Moonshine base-en, the same bundled "
        'sentences for every voice, unwarped). Use "non-commercial": the voice data may not be sold or '
        "put in a product that is sold without its owner's leave (Debian copyright file of the voice). "
        f"Hours from such voices: {restricted:.3f}.",
        "",
    ]


def _mean(xs: list[float]) -> str:
    return f"{100 * float(np.mean(xs)):.1f}%" if xs else "n/a"


def similarity_section(summary: dict, out: Path) -> list[str]:
    """resemblyzer cosine between utterance groups, with the per-speaker distinctness check."""
    from recipes.synthetic.qc import distinct_fraction, similarity_stats, speaker_embeddings

    cfg, records = summary["cfg"], summary["records"]
    groups = defaultdict(list)
    for r in records:
        if len(groups[(r["speaker"], r["split"])]) < cfg.similarity_utts:
            chapter = r["id"].split("-")[1]
            groups[(r["speaker"], r["split"])].append(
                str(out / r["split"] / str(r["speaker"]) / chapter / f"{r['id']}.flac")
            )
    emb = speaker_embeddings(dict(groups))
    base_of = {s.id: s.base.key for s in summary["speakers"]}
    stats = similarity_stats(emb, base_of)
    hits, total = distinct_fraction(emb, base_of)
    lines = [
        "## Speaker similarity (resemblyzer, mean cosine of utterance d-vectors)",
        "",
        f"Up to {cfg.similarity_utts} utterances per speaker and split.",
        "",
    ]
    lines += table(["pairs of utterances", "mean cosine", "pairs"], [[k, f"{m:.3f}", n] for k, (m, n) in stats.items()])
    lines += [
        "",
        f"Pseudo-speakers closer to themselves than to every other speaker of the same base voice: "
        f"**{hits} / {total}**.",
        "",
    ]
    return lines


def build_command(cfg) -> str:
    """The command line that rebuilds this corpus: every option that changes its content and is
    not at its default."""
    default = {f.name: f.default for f in fields(cfg)}
    args = [f"--out {cfg.out} --hours {cfg.hours} --seed {cfg.seed}"]
    if cfg.speakers:
        args.append(f"--speakers {cfg.speakers}")
    for flag, name in (("--engines", "engines"), ("--text", "text_sources")):
        if tuple(getattr(cfg, name)) != tuple(default[name]):
            args.append(f"{flag} {','.join(getattr(cfg, name))}")
    if cfg.unseen_voices != default["unseen_voices"]:
        args.append(f"--unseen-voices {cfg.unseen_voices}")
    if cfg.voices is not None:
        args.append(f"--voices {','.join(v.key for v in cfg.voices)}")
    elif cfg.mix != default["mix"]:
        args.append(f"--mix {cfg.mix}")
    args.append(f"--max-wer {cfg.max_wer}" if cfg.qc else "--no-qc")
    if cfg.reuse:
        args.append(f"--reuse {cfg.reuse}")
    if not cfg.similarity:
        args.append("--no-similarity")
    idle = f" --idle-jobs {cfg.idle_jobs}" if cfg.idle_jobs else ""
    return f"python -m recipes.synthetic.build {' '.join(args)} --jobs {cfg.jobs}{idle}"


def write_data_card(summary: dict, out: Path) -> None:
    cfg, records, rejected = summary["cfg"], summary["records"], summary["rejected"]
    hours = sum(r["seconds"] for r in records) / 3600
    lines = [
        "# Synthetic multi-speaker English corpus: data card",
        "",
        f"- built with `{build_command(cfg)}` in {summary['build_seconds'] / 60:.1f} min",
        f"- {len(records)} utterances, {hours:.2f} h, {len(summary['speakers'])} speakers, "
        f"24 kHz FLAC, LibriSpeech layout",
        "- text sources (sentences after filtering): "
        + ", ".join(f"{k} {v}" for k, v in summary["text_counts"].items()),
        f"- QC: {'ASR, utterances with WER > ' + str(cfg.max_wer) + ' dropped' if cfg.qc else 'off'}",
        "",
    ]
    if summary["skipped"]:
        lines += ["## Skipped engines and voices", ""] + [f"- {m}" for m in summary["skipped"]] + [""]
    if summary["short_speakers"]:
        lines += [
            f"**Speakers with fewer than {cfg.min_utts} utterances in their main split:** "
            + ", ".join(map(str, summary["short_speakers"])),
            "",
        ]
    per_split = [row[1:] for row in split_rows([{**r, "all": ""} for r in records], "all")]
    lines += ["## Per split", ""] + table(["split", "utterances", "hours", "speakers"], per_split)
    lines += ["", "## Per engine and split", ""]
    lines += table(["engine", "split", "utterances", "hours", "speakers"], split_rows(records, "engine"))
    lines += [""] + voice_section(summary)
    if cfg.qc:
        lines += ["## Ground-truth WER per engine (ASR against the text the audio was made from)", ""]
        lines += table(
            [
                "engine",
                "checked",
                "mean WER, all checked",
                "mean WER, kept",
                "dropped by WER",
                "dropped (duration, synthesis)",
            ],
            wer_rows(records, rejected),
        ) + [""]
    if cfg.similarity and records:
        lines += similarity_section(summary, out)
    (out / "DATA.md").write_text("\n".join(lines) + "\n")
