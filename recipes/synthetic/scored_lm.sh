#!/usr/bin/env bash
# LatentLM training that scores itself as it goes: every $eval_every steps the run stops at a save
# (--stop-at) and that checkpoint is scored on setting A of a frozen test list (fixed seeds, the
# API's defaults, one thread each) into $out/eval/step-N; then training goes on. The campaign's
# step 6 (campaign.sh); the scores are the model card's WER curve and decide whether a checkpoint
# replaces the bundled model.
#
#   bash recipes/synthetic/scored_lm.sh --out exp/campaign/lm-v2 --vae VAE --data LATENTS \
#       --eval-manifest cuts_test-unseen.jsonl.gz [--init CKPT] [--steps 100000] [--eval-every 1000] \
#       [--eval-limit 40] [--train-args "--preset small --lr 3e-4 ..."]
#
# Rerun the same command after any interruption: training resumes from its latest save, and a
# checkpoint whose scores are missing is scored first (what it already synthesised is kept). An
# evaluation that fails is reported and skipped; training goes on.
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

evaluate() {  # $out as it is now, into $out/eval/step-$1
    # shellcheck disable=SC2086  # $eval_args: several options
    python -m tts.cli.main eval --ckpt "$out" --engine torch --manifest "$eval_manifest" --out "$out/eval/step-$1" \
        --settings A --limit "$eval_limit" --asr "$asr" --no-ground-truth --threads 1 $eval_args
}

while :; do
    step=$(trained_steps)
    if [ "$step" -gt 0 ] && [ $((step % eval_every)) -eq 0 ] && ! ls "$out/eval/step-$step"/scores_*.csv >/dev/null 2>&1; then
        evaluate "$step" || echo "scored_lm.sh: the evaluation of step $step failed; training goes on" >&2
    fi
    [ "$step" -lt "$steps" ] || break
    # shellcheck disable=SC2086  # $train_args: several options
    python "$librispeech/train.py" --vae "$vae" --data "$data" --out "$out" ${init:+--init "$init"} \
        --steps "$steps" --stop-at $(((step / eval_every + 1) * eval_every)) $train_args
    [ "$(trained_steps)" -gt "$step" ] || { echo "scored_lm.sh: training made no progress past step $step" >&2; exit 1; }
done
