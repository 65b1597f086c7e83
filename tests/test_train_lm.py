"""Training the LatentLM decoder: dataset format, exact resume, DDP under torchrun, and an honest overfit."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from latentlm_common.errors import InputError
from tts.checkpoint import load_checkpoint, save_checkpoint
from tts.config import preset
from tts.data import LatentDataset, Utterance, latent_stats, make_batch, make_example, write_latent_dataset
from tts.engine import Engine, SpeechRequest
from tts.lm import LatentLM
from tts.train import TrainConfig, parse_args, train
from vae_audio.config import AudioConfig

SPECIAL = {"pad": 0, "bos": 2, "voice": 3, "voice_end": 4, "text": 5, "text_end": 6, "speech": 7}
VOCAB = 48


def make_corpus(root, n_utts=6, seed=0, min_len=8, max_len=15):
    """Utterances whose latents follow their phonemes: each phoneme id has a fixed latent and
    lasts 1-2 frames (plus noise), two speakers alternating."""
    rng = np.random.default_rng(seed)
    table = rng.standard_normal((VOCAB, 32)).astype(np.float32) * 2 + 1
    utts = []
    for u in range(n_utts):
        ph = rng.integers(10, VOCAB, rng.integers(min_len, max_len)).tolist()
        dur = rng.integers(1, 3, len(ph))
        lat = np.concatenate([np.repeat(table[p][None], d, 0) for p, d in zip(ph, dur)])
        lat = lat + 0.1 * rng.standard_normal(lat.shape).astype(np.float32)
        utts.append(Utterance(f"u{u}", f"spk{u % 2}", lat, ph))
    write_latent_dataset(root, utts, AudioConfig(), VOCAB, SPECIAL)
    return utts


def run_config(data, out, **kw):
    base = dict(
        data=str(data),
        out=str(out),
        preset="tiny",
        batch_size=6,
        lr=3e-3,
        warmup=30,
        save_every=10**6,
        tensorboard=False,
        progress=False,
    )
    return TrainConfig(**{**base, **kw})


def test_dataset_round_trip_and_voice_prompt_from_another_utterance(tmp_path):
    utts = make_corpus(tmp_path, n_utts=4, min_len=40, max_len=60)
    ds = LatentDataset(tmp_path)
    lat, ph = ds.item(2)
    np.testing.assert_array_equal(lat, utts[2].latents)
    assert ph.tolist() == utts[2].phonemes
    assert ds.lm_config_overrides()["vocab_size"] == VOCAB
    cfg = preset("tiny", uncond_prob=0.0, voice_prob=1.0)
    seq, frames, text, has_text = make_example(ds, 0, cfg, np.random.default_rng(0), lambda z: z)
    voice = seq.latents[seq.is_latent][: int(seq.is_latent.sum()) - frames]
    assert 30 <= len(voice) <= min(75, len(utts[2].latents))  # 2-5 s at 15 Hz
    other = utts[2].latents  # speaker spk0 = utterances 0 and 2
    assert any(np.array_equal(voice, other[s : s + len(voice)]) for s in range(len(other) - len(voice) + 1))
    assert has_text and frames == len(utts[0].latents) and text.tolist() == utts[0].phonemes


def test_latent_stats_normalise_to_zero_mean_unit_variance():
    rng = np.random.default_rng(0)
    latents = [3.0 + 2.0 * rng.standard_normal((20 + i, 32)).astype(np.float32) for i in range(5)]
    scale, bias = latent_stats(iter(latents))  # a generator is enough: one pass
    assert bias == pytest.approx(3.0, abs=0.05) and scale == pytest.approx(0.5, rel=0.03)
    z = (np.concatenate(latents).astype(np.float64) - bias) * scale
    assert z.mean() == pytest.approx(0.0, abs=1e-9) and z.std() == pytest.approx(1.0, abs=1e-9)
    with pytest.raises(ValueError, match="at least one"):
        latent_stats([])


def test_the_dataset_decides_the_lm_latent_statistics_and_ignores_old_meta_ones(tmp_path):
    utts = make_corpus(tmp_path, n_utts=4)
    meta = json.loads((tmp_path / "meta.json").read_text())
    (tmp_path / "meta.json").write_text(json.dumps({**meta, "latent_scale": 9.0, "latent_bias": 9.0}))  # an old dataset
    overrides = LatentDataset(tmp_path).lm_config_overrides()
    expected = latent_stats(u.latents for u in utts)
    assert (overrides["latent_scale"], overrides["latent_bias"]) == pytest.approx(expected, rel=1e-9)


def test_cli_flags_set_and_stop_at():
    tc = parse_args(["--data", "d", "--out", "o", "--set", "ctc_weight=0", "--set", "n_layers=1", "--stop-at", "5"])
    assert tc.overrides == {"ctc_weight": 0, "n_layers": 1} and tc.stop_at == 5
    assert parse_args(["--data", "d", "--out", "o"]).overrides == {}
    with pytest.raises(SystemExit):
        parse_args(["--data", "d", "--out", "o", "--model", '{"ctc_weight": 0}'])  # the old flag is gone


def test_overfit_lowers_losses_and_generates_the_right_lengths(tmp_path):
    torch.set_num_threads(1)
    utts = make_corpus(tmp_path / "data")
    history = train(run_config(tmp_path / "data", tmp_path / "ckpt", steps=300))
    first = {k: np.mean([r[k] for r in history[:10]]) for k in ("diffusion", "stop")}
    last = {k: np.mean([r[k] for r in history[-20:]]) for k in ("diffusion", "stop")}
    assert last["diffusion"] < 0.3 * first["diffusion"] and last["stop"] < 0.1 * first["stop"]
    model, _ = load_checkpoint(tmp_path / "ckpt")
    reqs = [SpeechRequest(torch.tensor(u.phonemes)) for u in utts]
    out = Engine(model).generate(reqs, [torch.Generator().manual_seed(i) for i in range(len(reqs))], steps=10)
    for z, u in zip(out.latents, utts):
        assert abs(len(z) - len(u.latents)) <= 0.2 * len(u.latents)
    assert all(out.stopped)
    err = np.mean(
        [np.mean((z[: len(u.latents)].numpy() - u.latents[: len(z)]) ** 2) for z, u in zip(out.latents, utts)]
    )
    assert err < 0.05 * np.var(np.concatenate([u.latents for u in utts]))  # content, not only length


def test_resume_is_exact(tmp_path):
    make_corpus(tmp_path / "data", n_utts=4)
    train(run_config(tmp_path / "data", tmp_path / "straight", steps=6, batch_size=3))
    train(run_config(tmp_path / "data", tmp_path / "resumed", steps=6, batch_size=3, stop_at=3))
    assert (tmp_path / "resumed" / "train_state.pt").is_file()
    train(run_config(tmp_path / "data", tmp_path / "resumed", steps=6, batch_size=3))
    a = load_file(str(tmp_path / "straight" / "model.safetensors"))
    b = load_file(str(tmp_path / "resumed" / "model.safetensors"))
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_batches_built_by_loader_workers_are_the_same_batches(tmp_path):
    make_corpus(tmp_path / "data", n_utts=4)
    inline = train(run_config(tmp_path / "data", tmp_path / "inline", steps=4, batch_size=3))
    workers = train(run_config(tmp_path / "data", tmp_path / "workers", steps=4, batch_size=3, workers=2))
    assert [r["total"] for r in inline] == [r["total"] for r in workers]
    a = load_file(str(tmp_path / "inline" / "model.safetensors"))
    b = load_file(str(tmp_path / "workers" / "model.safetensors"))
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert all(r["seconds"] >= 0 for r in workers) and workers[-1]["seconds"] >= workers[0]["seconds"]


def test_two_process_gloo_run_under_torchrun(tmp_path):
    make_corpus(tmp_path / "data", n_utts=4)
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc_per_node",
        "2",
        "--master_port",
        "29517",
        "-m",
        "tts.train",
        "--data",
        str(tmp_path / "data"),
        "--out",
        str(tmp_path / "ckpt"),
        "--preset",
        "tiny",
        "--steps",
        "2",
        "--batch-size",
        "2",
        "--threads",
        "1",
        "--no-tensorboard",
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    model, config = load_checkpoint(tmp_path / "ckpt")
    assert config["training"]["steps"] == 2


def test_broken_checkpoints_raise_input_error(tmp_path):
    with pytest.raises(InputError, match="no config.json"):
        load_checkpoint(tmp_path)
    save_checkpoint(tmp_path / "ok", LatentLM(preset("tiny")), AudioConfig())
    (tmp_path / "ok" / "model.safetensors").write_bytes(b"not weights")
    with pytest.raises(InputError, match="corrupt weights"):
        load_checkpoint(tmp_path / "ok")
    (tmp_path / "ok" / "config.json").write_text("{")
    with pytest.raises(InputError, match="unreadable"):
        load_checkpoint(tmp_path / "ok")


def test_bf16_autocast_on_cpu_trains(tmp_path):
    make_corpus(tmp_path / "data", n_utts=4)
    history = train(run_config(tmp_path / "data", tmp_path / "ckpt", steps=2, batch_size=3, bf16=True))
    assert len(history) == 2 and all(np.isfinite(r["total"]) for r in history)
    model, _ = load_checkpoint(tmp_path / "ckpt")
    assert next(model.parameters()).dtype == torch.float32  # autocast keeps fp32 master weights


def test_init_warm_starts_from_a_checkpoint_and_rejects_another_shape(tmp_path):
    make_corpus(tmp_path / "data", n_utts=4)
    first = train(run_config(tmp_path / "data", tmp_path / "base", steps=40, batch_size=3))
    tuned = train(run_config(tmp_path / "data", tmp_path / "tuned", steps=2, batch_size=3, init=str(tmp_path / "base")))
    cold = train(run_config(tmp_path / "data", tmp_path / "cold", steps=2, batch_size=3))
    assert tuned[0]["diffusion"] < cold[0]["diffusion"]  # it starts where the first run left off
    assert tuned[0]["diffusion"] < first[0]["diffusion"]
    with pytest.raises(SystemExit, match="unknown LMConfig field"):
        train(run_config(tmp_path / "data", tmp_path / "typo", steps=1, overrides={"n_layer": 1}))
    with pytest.raises(SystemExit, match="same --preset"):
        train(
            run_config(
                tmp_path / "data",
                tmp_path / "other",
                steps=1,
                batch_size=3,
                init=str(tmp_path / "base"),
                overrides={"n_layers": 1},
            )
        )


def test_saved_checkpoint_files_are_readable_by_others(tmp_path):
    save_checkpoint(tmp_path / "ckpt", LatentLM(preset("tiny")), AudioConfig())
    for name in ("config.json", "model.safetensors"):
        assert (tmp_path / "ckpt" / name).stat().st_mode & 0o777 == 0o644, name
    assert sorted(p.name for p in (tmp_path / "ckpt").iterdir()) == ["config.json", "model.safetensors"]


def test_int8_checkpoints_load_every_linear_within_half_a_step_of_its_output_channel(tmp_path):
    model = LatentLM(preset("tiny"))
    save_checkpoint(tmp_path / "q", model, AudioConfig(), int8=True)
    stored = load_file(str(tmp_path / "q" / "model.safetensors"))
    loaded, _ = load_checkpoint(tmp_path / "q")
    linears = {n for n, m in model.named_modules() if isinstance(m, torch.nn.Linear)}
    assert linears and all(stored[f"{n}.weight.int8"].dtype == torch.int8 for n in linears)
    assert not any(f"{n}.weight" in stored for n in linears)
    for name in linears:
        w, back = model.get_submodule(name).weight, loaded.get_submodule(name).weight
        step = w.abs().amax(dim=1, keepdim=True) / 127  # one scale per output channel (a row of w)
        assert back.shape == w.shape and ((back - w).abs() <= step / 2 + 1e-6).all(), name
    assert stored["embed.weight"].dtype == torch.float16  # the other matrices: float16


def checkpoint_of_other_latents(tmp_path):
    """A corpus in tmp_path/data and a checkpoint tmp_path/base trained on it, whose latent scale and
    bias then read (0.5, -0.25), as if it had been trained on other latents; returns the LMConfig
    with the data's own scale and bias."""
    make_corpus(tmp_path / "data", n_utts=4)
    train(run_config(tmp_path / "data", tmp_path / "base", steps=1, batch_size=3))
    data_stats = load_checkpoint(tmp_path / "base")[0].cfg
    config = json.loads((tmp_path / "base" / "config.json").read_text())
    config["lm"]["latent_scale"], config["lm"]["latent_bias"] = 0.5, -0.25
    (tmp_path / "base" / "config.json").write_text(json.dumps(config))
    return data_stats


def test_init_and_resume_keep_the_latent_normalisation_of_the_weights(tmp_path):
    """A warm start on other data keeps the init checkpoint's latent scale and bias (the weights were
    trained on that normalisation), and so does a resume of that run; a fresh run takes the data's,
    and so does a warm start with `data_latent_stats` (latents of another σ-VAE)."""
    data_pair = checkpoint_of_other_latents(tmp_path)
    init = str(tmp_path / "base")
    train(run_config(tmp_path / "data", tmp_path / "tuned", steps=2, stop_at=1, batch_size=3, init=init))
    assert (load_checkpoint(tmp_path / "tuned")[0].cfg.latent_scale) == 0.5
    train(run_config(tmp_path / "data", tmp_path / "tuned", steps=2, batch_size=3, init=init))  # resumes
    lm = load_checkpoint(tmp_path / "tuned")[0].cfg
    assert (lm.latent_scale, lm.latent_bias) == (0.5, -0.25)
    assert (data_pair.latent_scale, data_pair.latent_bias) != (0.5, -0.25)
    recode = dict(steps=1, batch_size=3, init=init, data_latent_stats=True)  # latents of another σ-VAE
    train(run_config(tmp_path / "data", tmp_path / "recoded", **recode))
    recoded = load_checkpoint(tmp_path / "recoded")[0].cfg
    assert (recoded.latent_scale, recoded.latent_bias) == (data_pair.latent_scale, data_pair.latent_bias)


def test_a_missing_dataset_is_one_line_and_exit_2(tmp_path, capsys):
    from tts.train import main

    with pytest.raises(InputError, match="not a latent dataset"):
        LatentDataset(tmp_path)
    with pytest.raises(SystemExit) as e:
        main(["--data", str(tmp_path / "none"), "--out", str(tmp_path / "out")])
    assert e.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("python -m tts.train: error:") and "\n" not in err


def test_train_only_the_ctc_head_leaves_every_other_weight_as_it_was(tmp_path):
    make_corpus(tmp_path / "data", n_utts=4)
    train(run_config(tmp_path / "data", tmp_path / "base", steps=3, batch_size=3))
    tuned = tmp_path / "tuned"
    run = run_config(tmp_path / "data", tuned, steps=5, batch_size=3, init=str(tmp_path / "base"))
    run.train_only, run.overrides = ["ctc_head"], {"ctc_listens": True, "uncond_prob": 0.5}
    train(run)
    before, after = load_file(tmp_path / "base" / "model.safetensors"), load_file(tuned / "model.safetensors")
    changed = sorted(k for k in before if not torch.equal(before[k], after[k]))
    assert changed == ["ctc_head.bias", "ctc_head.weight"]
    assert json.loads((tuned / "config.json").read_text())["lm"]["ctc_listens"] is True
    assert parse_args(["--data", "d", "--out", "o", "--train-only", "ctc_head", "stop_head"]).train_only == [
        "ctc_head",
        "stop_head",
    ]
    with pytest.raises(SystemExit, match="no submodule ctc"):
        run.train_only, run.out = ["ctc"], str(tmp_path / "typo")
        train(run)


def test_a_listening_ctc_head_learns_from_unconditional_rows(tmp_path):
    """With ctc_listens, an unconditional example (no text in context) still gets a CTC loss: its
    phonemes are the target. Without it, a batch of unconditional rows has no CTC loss at all."""
    make_corpus(tmp_path / "data", n_utts=4)
    ds = LatentDataset(tmp_path / "data")
    for listens, has_loss in ((False, False), (True, True)):
        cfg = preset("tiny", **{**ds.lm_config_overrides(), "uncond_prob": 1.0, "ctc_listens": listens})
        torch.manual_seed(0)
        model = LatentLM(cfg)
        tb = make_batch(ds, [0, 1, 2], cfg, seed=0, step=0, normalize=cfg.normalize).to("cpu")
        assert not tb.has_text.any()
        ctc = model.loss(tb.batch, tb.n_frames, tb.text, tb.text_lens, tb.has_text).ctc
        assert (float(ctc) > 0) == has_loss
        if has_loss:
            ctc.backward()
            assert model.ctc_head.weight.grad.abs().sum() > 0
