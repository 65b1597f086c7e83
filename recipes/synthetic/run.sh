#!/usr/bin/env bash
# The bundled default model, end to end on a 2-core CPU: corpus -> σ-VAE -> latents -> LatentLM ->
# evaluation -> package (tts/pretrained/default). It chains the corpus builder with the LibriTTS
# (σ-VAE) and LibriSpeech (LatentLM) recipes; every stage resumes, so rerun the same command after
# an interruption. The values below are the ones the shipped model was trained with (model card:
# tts/pretrained/default/README.md).
#
#   bash recipes/synthetic/run.sh [--stage N] [--stop-stage M] [--vae-steps S] [--lm-steps S]
#
#   stage 0  synthetic corpora (LibriSpeech layout, test-unseen voices held out)  -> $vae_corpus, $corpus
#   stage 1  σ-VAE on $vae_corpus: manifests, training, statistics, codec scores  -> $exp/vae
#   stage 2  LatentLM: latents, training                                          -> $exp/lm
#   stage 3  zero-shot evaluation on test-unseen, settings A and B                -> $exp/lm/eval
#   stage 4  package as the bundled default (float16 weight matrices)             -> $package
set -euo pipefail

stage=0
stop_stage=4
vae_corpus=data/synthetic-1h  # 1 h, ASR-checked: the σ-VAE's training audio
corpus=data/synthetic-6h      # 6 h, 120 speakers, unchecked: the LatentLM's
hours=6
speakers=120
data=data/synthetic
exp=exp/synthetic
package=tts/pretrained/default
vae_steps=12000         # schedule length; a CPU run stops earlier with --vae-stop-after
vae_stop_after=
lm_steps=20000
lm_stop_at=
threads=2
eval_limit=40

. "$(dirname "$0")/../parse_options.sh"  # --name value for every variable above
here=$(cd "$(dirname "$0")" && pwd)
recipes=$(dirname "$here")

if [ "$stage" -le 0 ] && [ "$stop_stage" -ge 0 ]; then
    echo "stage 0: 1 h into $vae_corpus, $hours h with $speakers speakers into $corpus"
    python -m recipes.synthetic.build --out "$vae_corpus" --hours 1 --seed 0 --jobs 1
    python -m recipes.synthetic.build --out "$corpus" --hours "$hours" --speakers "$speakers" --seed 0 \
        --jobs 1 --no-qc --no-similarity
fi

if [ "$stage" -le 1 ] && [ "$stop_stage" -ge 1 ]; then
    echo "stage 1: σ-VAE in $exp/vae"
    bash "$recipes/libritts/run.sh" --corpus "$vae_corpus" --manifests "$data/vae_manifests" --exp "$exp/vae" \
        --steps "$vae_steps" --batch-size 8 --save-every 500 --eval-part test-unseen --eval-limit "$eval_limit" \
        --extra-train-args "--lr 6e-4 --threads $threads --num-workers 1 --audio-every 0 \
${vae_stop_after:+--stop-after $vae_stop_after}"
fi

if [ "$stage" -le 2 ] && [ "$stop_stage" -ge 2 ]; then
    echo "stage 2: LatentLM in $exp/lm"
    python "$recipes/librispeech/prepare.py" --corpus "$corpus" --out "$data/manifests"
    bash "$recipes/librispeech/run.sh" --stage 1 --stop-stage 2 --manifests "$data/manifests" \
        --latents "$data/latents" --vae "$exp/vae" --exp "$exp/lm" --config small --steps "$lm_steps" \
        --extra-train-args "--threads $threads ${lm_stop_at:+--stop-at $lm_stop_at}"
fi

if [ "$stage" -le 3 ] && [ "$stop_stage" -ge 3 ]; then
    echo "stage 3: zero-shot evaluation on test-unseen"
    bash "$recipes/librispeech/run.sh" --stage 3 --stop-stage 4 --manifests "$data/manifests" --exp "$exp/lm" \
        --test-part test-unseen --eval-limit "$eval_limit" --min-seconds 4 --max-seconds 10 --prefix-seconds 3
fi

if [ "$stage" -le 4 ] && [ "$stop_stage" -ge 4 ]; then
    echo "stage 4: packaging $exp/lm as $package"
    python -m recipes.synthetic.package --ckpt "$exp/lm" --out "$package"
fi
