#!/usr/bin/env bash
# LibriTTS recipe for the σ-VAE audio tokenizer (ESPnet/icefall-style numbered stages).
#
#   bash recipes/libritts/run.sh --corpus /data/LibriTTS [--stage N] [--stop-stage M] [--nproc 8] [--preset base]
#
#   stage 0  Lhotse manifests for every part under --corpus          -> $manifests/cuts_*.jsonl.gz
#            (a LibriTTS tree, or a LibriSpeech-layout one such as the synthetic corpus)
#   stage 1  train the σ-VAE with torchrun (resumes if $exp exists)  -> $exp/config.json + model.safetensors
#   stage 2  Mel dist / PESQ / STOI / compression on test-other      -> $exp/eval_test-other.txt
#
# No latent statistics here: a LatentLM computes the scale/bias of its training latents itself
# (recipes/librispeech); `latentlm-tts vae stats --ckpt $exp DATA` prints them for inspection.
set -euo pipefail

stage=0
stop_stage=2
corpus=
manifests=data/libritts/manifests
exp=exp/libritts/sigma_vae
preset=small
nproc=1                 # processes per node (GPUs, or CPU processes with gloo)
steps=200000
batch_size=8            # per process
crop_seconds=2.0
save_every=2000
eval_part=test-other
eval_limit=             # empty: the whole part
extra_train_args=       # e.g. "--lr 2e-4 --num-workers 4"

. "$(dirname "$0")/../parse_options.sh"  # --name value for every variable above
here=$(cd "$(dirname "$0")" && pwd)

if [ "$stage" -le 0 ] && [ "$stop_stage" -ge 0 ]; then
    [ -n "$corpus" ] || { echo "run.sh: stage 0 needs --corpus /path/to/LibriTTS" >&2; exit 2; }
    echo "stage 0: manifests from $corpus"
    python "$here/prepare.py" --corpus "$corpus" --out "$manifests"
fi

if [ "$stage" -le 1 ] && [ "$stop_stage" -ge 1 ]; then
    echo "stage 1: training ($preset, $nproc process(es), $steps steps) in $exp"
    # shellcheck disable=SC2086
    python -m torch.distributed.run --standalone --nproc-per-node "$nproc" -m vae_audio.train \
        --data "$manifests/cuts_train.jsonl.gz" --out "$exp" --preset "$preset" --steps "$steps" \
        --batch-size "$batch_size" --crop-seconds "$crop_seconds" --save-every "$save_every" $extra_train_args
fi

if [ "$stage" -le 2 ] && [ "$stop_stage" -ge 2 ]; then
    echo "stage 2: evaluation on $eval_part"
    python -m tts.cli.main vae eval --ckpt "$exp" "$manifests/cuts_$eval_part.jsonl.gz" ${eval_limit:+--limit "$eval_limit"} \
        | tee "$exp/eval_$eval_part.txt"
fi
