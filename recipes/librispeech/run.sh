#!/usr/bin/env bash
# LibriSpeech recipe for the LatentLM decoder and the zero-shot evaluation of the paper's Table 4
# (ESPnet/icefall-style numbered stages; see recipes/librispeech/README.md).
#
#   bash recipes/librispeech/run.sh --corpus /data/LibriSpeech --vae exp/libritts/sigma_vae \
#       [--config small|paper] [--stage N] [--stop-stage M] [--nproc 8]
#
#   stage 0  Lhotse manifests of the chosen parts                  -> $manifests/cuts_*.jsonl.gz
#   stage 1  σ-VAE latents + phoneme ids of the training cuts     -> $latents/ (tts/data.py format)
#   stage 2  LatentLM training under torchrun (resumes)           -> $exp/ (a complete TTS checkpoint)
#   stage 3  test lists (settings A, B) and their synthesis       -> $exp/eval/{A,B}.jsonl, {A,B}/*.wav
#   stage 4  WER / SIM table and per-utterance CSV                -> $exp/eval/results_*.md, scores_*.csv
set -euo pipefail

stage=0
stop_stage=4
config=small            # small: CPU-sized; paper: GPU-sized (values below, README for their sources)
corpus=
vae=
parts=                  # empty: every part found under --corpus
train_part=train        # cuts_<train_part>.jsonl.gz (train: all train* parts together)
test_part=test-clean
manifests=data/librispeech/manifests
latents=data/librispeech/latents
exp=
nproc=1                 # processes per node (GPUs, or CPU processes with gloo), stages 1-3
nnodes=1                # >1: multi-node, with --node-rank and --rdzv-endpoint host:port
node_rank=0
rdzv_endpoint=
device=cpu              # stages 1 and 3 (cuda: each process's own GPU)
asr=moonshine           # stage 4 backends; the paper's: --asr hubert --sim wavlm
sim=resemblyzer
min_seconds=4
max_seconds=10
prefix_seconds=3
eval_limit=             # empty: every test item
preset= steps= batch_size= lr= warmup= save_every=
extra_train_args=       # e.g. "--bf16 --threads 2"

. "$(dirname "$0")/../parse_options.sh"  # --name value for every variable above
case "$config" in  # an option given on the command line wins over the config's value
    small) : "${preset:=small}" "${steps:=20000}" "${batch_size:=16}" "${lr:=1e-3}" "${warmup:=300}" "${save_every:=1000}" ;;
    paper) : "${preset:=paper}" "${steps:=300000}" "${batch_size:=32}" "${lr:=3e-4}" "${warmup:=4000}" "${save_every:=5000}" ;;
    *) echo "run.sh: --config is small or paper, not $config" >&2; exit 2 ;;
esac
exp=${exp:-exp/librispeech/lm_$config}
here=$(cd "$(dirname "$0")" && pwd)
if [ "$nnodes" -gt 1 ]; then
    launch=(--nnodes "$nnodes" --node-rank "$node_rank" --rdzv-backend c10d --rdzv-endpoint "$rdzv_endpoint")
else
    launch=(--standalone)
fi
sharded() {  # stages 1 and 3: under torchrun when there is more than one process, else plain python
    if [ "$nproc" -gt 1 ] || [ "$nnodes" -gt 1 ]; then
        python -m torch.distributed.run "${launch[@]}" --nproc-per-node "$nproc" "$@"
    else
        python "$@"
    fi
}

if [ "$stage" -le 0 ] && [ "$stop_stage" -ge 0 ]; then
    [ -n "$corpus" ] || { echo "run.sh: stage 0 needs --corpus /path/to/LibriSpeech" >&2; exit 2; }
    echo "stage 0: manifests from $corpus"
    # shellcheck disable=SC2086
    python "$here/prepare.py" --corpus "$corpus" --out "$manifests" ${parts:+--parts $parts}
fi

if [ "$stage" -le 1 ] && [ "$stop_stage" -ge 1 ]; then
    [ -n "$vae" ] || { echo "run.sh: stage 1 needs --vae DIR (a σ-VAE, e.g. from recipes/libritts)" >&2; exit 2; }
    echo "stage 1: latents of cuts_$train_part into $latents/$train_part"
    sharded "$here/extract.py" --manifest "$manifests/cuts_$train_part.jsonl.gz" --vae "$vae" \
        --out "$latents/$train_part" --device "$device"
fi

if [ "$stage" -le 2 ] && [ "$stop_stage" -ge 2 ]; then
    [ -n "$vae" ] || { echo "run.sh: stage 2 needs --vae DIR (copied into the checkpoint)" >&2; exit 2; }
    echo "stage 2: LatentLM $preset, $nnodes node(s) x $nproc process(es), $steps steps, in $exp"
    # shellcheck disable=SC2086
    python -m torch.distributed.run "${launch[@]}" --nproc-per-node "$nproc" "$here/train.py" --vae "$vae" \
        --data "$latents/$train_part" --out "$exp" --preset "$preset" --steps "$steps" --batch-size "$batch_size" \
        --lr "$lr" --warmup "$warmup" --save-every "$save_every" $extra_train_args
fi

if [ "$stage" -le 3 ] && [ "$stop_stage" -ge 3 ]; then
    echo "stage 3: synthesis of $test_part ($min_seconds-$max_seconds s) into $exp/eval"
    sharded "$here/synthesize.py" --ckpt "$exp" --manifest "$manifests/cuts_$test_part.jsonl.gz" --out "$exp/eval" \
        --min-seconds "$min_seconds" --max-seconds "$max_seconds" --prefix-seconds "$prefix_seconds" \
        --device "$device" ${eval_limit:+--limit "$eval_limit"}
fi

if [ "$stage" -le 4 ] && [ "$stop_stage" -ge 4 ]; then
    echo "stage 4: scoring with $asr / $sim"
    python "$here/score.py" --eval-dir "$exp/eval" --asr "$asr" --sim "$sim" ${eval_limit:+--limit "$eval_limit"}
fi
