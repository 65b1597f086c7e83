#!/usr/bin/env bash
# The bundled default model, end to end on a 2-core CPU: corpora -> σ-VAE -> latents -> LatentLM ->
# evaluation -> package (tts/pretrained/default). It chains the corpus builder with the LibriTTS
# (σ-VAE) and LibriSpeech (LatentLM) recipes; every stage resumes, so rerun the same command after
# an interruption. The values below are the ones the shipped model was trained with (model card:
# tts/pretrained/default/README.md).
#
#   bash recipes/synthetic/run.sh [--stage N] [--stop-stage M] [--name value ...]
#
#   stage 0  synthetic corpora (LibriSpeech layout, test-unseen voices held out)
#            1 h ASR-checked -> $vae_corpus; 6 h -> $base_corpus; 20 h -> $corpus (copies the 6 h audio)
#   stage 1  σ-VAE: whole model on $vae_corpus -> $exp/vae_base, then its decoder alone (encoder
#            frozen, so latents keep their meaning) on $base_corpus -> $exp/vae
#   stage 2  LatentLM: $lm_base_steps steps on the 6 h latents -> $exp/lm_base, then
#            $lm_steps steps on the 20 h latents, starting from it -> $exp/lm
#   stage 3  codec and zero-shot evaluation on test-unseen (settings A and B) -> $exp/vae/eval_*.txt, $exp/lm/eval
#   stage 4  package as the bundled default (float16 weight matrices)         -> $package
#
# Why two steps each: a 2-core CPU cannot train on 20 h from scratch in a sitting, so the stages
# that need the most updates (the encoder, the LM's alignment) run on the smaller corpora first.
set -euo pipefail

stage=0
stop_stage=4
vae_corpus=data/synthetic-1h   # 1 h, ASR-checked: the whole σ-VAE's training audio
base_corpus=data/synthetic-6h  # 6 h, unchecked: the decoder's and the first LM run's
corpus=data/synthetic-20h      # 20 h, unchecked, 120 speakers: the final LM run's
speakers=120
data=data/synthetic
exp=exp/synthetic
package=tts/pretrained/default
vae_steps=12000         # schedule length of the whole-model run ...
vae_stop_at=2000        # ... stopped here, as the adversarial phase starts (3.6 s a step on CPU)
dec_steps=20000         # schedule length of the decoder run (reconstruction losses only) ...
dec_stop_at=6000        # ... stopped here (the shipped decoder: see the model card)
lm_base_steps=1200
lm_steps=1000
threads=1               # per training process; two processes share the 2 cores
eval_limit=40

. "$(dirname "$0")/../parse_options.sh"  # --name value for every variable above
here=$(cd "$(dirname "$0")" && pwd)
recipes=$(dirname "$here")

if [ "$stage" -le 0 ] && [ "$stop_stage" -ge 0 ]; then
    echo "stage 0: corpora $vae_corpus (1 h), $base_corpus (6 h), $corpus (20 h)"
    python -m recipes.synthetic.build --out "$vae_corpus" --hours 1 --seed 0 --jobs 1
    for spec in "6:$base_corpus:" "20:$corpus:$base_corpus"; do
        IFS=: read -r hours out reuse <<< "$spec"
        python -m recipes.synthetic.build --out "$out" --hours "$hours" --speakers "$speakers" --seed 0 \
            --jobs 1 --no-qc --no-similarity ${reuse:+--reuse "$reuse"}
    done
fi

if [ "$stage" -le 1 ] && [ "$stop_stage" -ge 1 ]; then
    echo "stage 1: σ-VAE in $exp/vae_base, then its decoder in $exp/vae"
    bash "$recipes/libritts/run.sh" --corpus "$vae_corpus" --manifests "$data/vae_manifests" --exp "$exp/vae_base" \
        --stop-stage 1 --steps "$vae_steps" --batch-size 8 --save-every 500 \
        --extra-train-args "--lr 6e-4 --threads $threads --num-workers 1 --audio-every 0 --stop-at $vae_stop_at"
    python -m vae_audio.train --data "$base_corpus/train" --out "$exp/vae" --init "$exp/vae_base" --freeze-encoder \
        --steps "$dec_steps" --stop-at "$dec_stop_at" --lr 4e-4 --lr-decay 0.9999 --batch-size 8 \
        --crop-seconds 2.0 --threads "$threads" --num-workers 1 --save-every 250 --audio-every 0 \
        --set 'loss={"warmup_steps": 1000000}'
fi

if [ "$stage" -le 2 ] && [ "$stop_stage" -ge 2 ]; then
    echo "stage 2: LatentLM in $exp/lm_base (6 h), then $exp/lm (20 h)"
    python "$recipes/librispeech/prepare.py" --corpus "$base_corpus" --out "$data/base_manifests"
    bash "$recipes/librispeech/run.sh" --stage 1 --stop-stage 2 --manifests "$data/base_manifests" \
        --latents "$data/base_latents" --vae "$exp/vae_base" --exp "$exp/lm_base" --config small \
        --steps "$lm_base_steps" --warmup 100 --extra-train-args "--threads $threads"
    python "$recipes/librispeech/prepare.py" --corpus "$corpus" --out "$data/manifests"
    bash "$recipes/librispeech/run.sh" --stage 1 --stop-stage 2 --manifests "$data/manifests" \
        --latents "$data/latents" --vae "$exp/vae" --exp "$exp/lm" --config small --steps "$lm_steps" \
        --lr 5e-4 --warmup 50 --save-every 100 --extra-train-args "--threads $threads --init $exp/lm_base"
fi

if [ "$stage" -le 3 ] && [ "$stop_stage" -ge 3 ]; then
    echo "stage 3: codec and zero-shot evaluation on test-unseen"
    python -m tts.cli.main vae eval --ckpt "$exp/vae" "$data/manifests/cuts_test-unseen.jsonl.gz" \
        --limit 100 | tee "$exp/vae/eval_test-unseen.txt"
    bash "$recipes/librispeech/run.sh" --stage 3 --stop-stage 4 --manifests "$data/manifests" --exp "$exp/lm" \
        --test-part test-unseen --eval-limit "$eval_limit" --min-seconds 4 --max-seconds 10 --prefix-seconds 3
fi

if [ "$stage" -le 4 ] && [ "$stop_stage" -ge 4 ]; then
    echo "stage 4: packaging $exp/lm as $package"
    python -m recipes.synthetic.package --ckpt "$exp/lm" --out "$package"
fi
