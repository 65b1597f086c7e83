#!/usr/bin/env bash
# LatentLM training that scores itself as it goes: every $eval_every steps the run stops at a save
# (--stop-at), copies that checkpoint to $out/eval/step-N/, and goes on training while the copy is
# scored on setting A of a frozen test list (fixed seeds, the API's defaults, one thread, at the
# lowest CPU priority, so on the core training leaves) into $out/eval/step-N; the copy is removed
# once scored. The campaign's steps 4 and 8 (campaign.sh); the scores are the model card's WER curve and
# decide whether a checkpoint replaces the bundled model.
#
#   bash recipes/synthetic/scored_lm.sh --out exp/campaign/lm-v2 --vae VAE --data LATENTS \
#       --eval-manifest cuts_test-unseen.jsonl.gz [--init CKPT] [--steps 100000] [--eval-every 1000] \
#       [--eval-limit 40] [--train-args "--preset small --lr 3e-4 ..."]
#
# Rerun the same command after any interruption: training resumes from its latest save, and every
# copy not yet scored is scored (what it already synthesised is kept). An evaluation that fails is
# reported and skipped (its copy removed); training goes on. The script returns when training and
# scoring are done.
set -euo pipefail

out=
vae=
data=
init=                   # empty: from scratch
steps=100000            # the schedule's length (--steps of tts.train)
eval_manifest=
eval_every=1000
eval_limit=40
eval_args=              # more options of `latentlm-tts eval`, e.g. "--min-seconds 0"
asr=moonshine
train_args=             # more options of tts.train, e.g. "--preset small --lr 3e-4 --threads 1"

. "$(dirname "$0")/../parse_options.sh"  # --name value for every variable above
for v in out vae data eval_manifest; do
    [ -n "${!v}" ] || { echo "scored_lm.sh: --${v//_/-} is required" >&2; exit 2; }
done
librispeech=$(cd "$(dirname "$0")/../librispeech" && pwd)

trained_steps() {  # the step of the latest save in $out (0 before the first)
    python -c 'import json, sys; print(json.load(open(sys.argv[1]))["training"]["steps"])' "$out/config.json" \
        2>/dev/null || echo 0
}

snapshot() {  # $out's weights at step $1 into $out/eval/step-$1/NAME (NAME: $out's, the scores' system name)
    local dir="$out/eval/step-$1" tmp
    mkdir -p "$dir"
    tmp=$(mktemp -d "$dir/.copy.XXXXXX")  # whole or not at all: a killed copy leaves no snapshot
    cp "$out/config.json" "$out/model.safetensors" "$tmp/" && cp -r "$out/vae" "$tmp/vae" && mv "$tmp" "$dir/$name"
}

scored() { ls "$out/eval/step-$1"/scores_*.csv >/dev/null 2>&1; }

score_snapshots() {  # every snapshot not yet scored, oldest first, one at a time, at the lowest priority
    local ckpt step
    for ckpt in $(ls -d "$out"/eval/step-*/"$name" 2>/dev/null | sort -V); do
        step=${ckpt%/*}
        step=${step##*/step-}
        # shellcheck disable=SC2086  # $eval_args: several options
        nice -n 19 python -m tts.cli.main eval --ckpt "$ckpt" --engine torch --manifest "$eval_manifest" \
            --out "$out/eval/step-$step" --settings A --limit "$eval_limit" --asr "$asr" --no-ground-truth \
            --threads 1 $eval_args || echo "scored_lm.sh: the evaluation of step $step failed; training goes on" >&2
        rm -rf "$ckpt"  # scored, or failed: reported and skipped, not retried at every mark
    done
}

name=$(basename "$out")
scoring=  # the background job scoring snapshots
while :; do
    step=$(trained_steps)
    if [ "$step" -gt 0 ] && [ $((step % eval_every)) -eq 0 ] && ! scored "$step" && [ ! -d "$out/eval/step-$step/$name" ]; then
        snapshot "$step" || echo "scored_lm.sh: could not copy step $step for scoring; training goes on" >&2
    fi
    if [ -z "$scoring" ] || ! kill -0 "$scoring" 2>/dev/null; then  # else the next mark (or the end) takes it
        score_snapshots &
        scoring=$!
    fi
    [ "$step" -lt "$steps" ] || break
    # shellcheck disable=SC2086  # $train_args: several options
    python "$librispeech/train.py" --vae "$vae" --data "$data" --out "$out" ${init:+--init "$init"} \
        --steps "$steps" --stop-at $(((step / eval_every + 1) * eval_every)) $train_args
    [ "$(trained_steps)" -gt "$step" ] || { echo "scored_lm.sh: training made no progress past step $step" >&2; exit 1; }
done
wait
score_snapshots  # any snapshot made while the last job ran
