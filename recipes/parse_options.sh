# Option parsing shared by the recipes' run.sh scripts (ESPnet/Kaldi style), sourced after the
# defaults are set: every variable already defined can be given as `--name value`, with dashes or
# underscores; an unknown option or a missing value stops the script with exit status 2.
# It also makes the script run its own checkout's code: the Python scripts it starts by path
# (recipes/librispeech/*.py, benchmarks/) would otherwise import whichever copy pip installed.
export PYTHONPATH="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)${PYTHONPATH:+:$PYTHONPATH}"
while [ $# -gt 0 ]; do
    name=${1#--}; name=${name//-/_}
    [ $# -ge 2 ] || { echo "run.sh: $1 needs a value" >&2; exit 2; }
    declare -p "$name" >/dev/null 2>&1 || { echo "run.sh: unknown option $1" >&2; exit 2; }
    printf -v "$name" '%s' "$2"; shift 2
done
