#!/bin/bash
# ab_models.sh - time two versions of the C library on a model, in one process.
#
#   bash scripts/ab_models.sh [-r ROUNDS] [-t THREADS] REV_A REV_B MODEL.bnn [BATCH...]
#
# REV_A and REV_B are git revisions of this repository (HEAD, main~3, a
# commit), or "." for the working tree. Each is built once as a shared
# library (make -C src lib, -O3 -fPIC) under a temporary folder; then
# scripts/ab_models.c loads both and alternates them in 30 ms slices, ROUNDS
# times per batch (default 21), and prints ms/image of each, median and best,
# and B/A. Separate processes on a shared machine differ by the minute they
# ran in; in one process both versions meet the same load (why: ab_models.c).
#
#   bash scripts/ab_models.sh HEAD~1 . convnet.bnn 1 32    # the last commit against the tree
#   bash scripts/ab_models.sh -t 2 main . mlp.bnn 1        # 2 threads
#
# A model to time: python scripts/make_demo_model.py, or pybnn's paper models
# (scripts/paper_models.py, written with pybnn.format.to_bytes).
set -euo pipefail

rounds=21
threads=1
usage() {
    sed -n '2,4p' "$0" | sed 's/^# *//' >&2
    exit 2
}
while getopts "r:t:h" opt; do
    case $opt in
    r) rounds=$OPTARG ;;
    t) threads=$OPTARG ;;
    *) usage ;;
    esac
done
shift $((OPTIND - 1))
[ $# -ge 3 ] || usage
rev_a=$1 rev_b=$2 model=$3
shift 3
batches=("$@")
[ ${#batches[@]} -gt 0 ] || batches=(1)
[ -f "$model" ] || { echo "ab_models.sh: no model file $model" >&2; exit 2; }
model=$(cd "$(dirname "$model")" && pwd)/$(basename "$model")

root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/pybnn-ab.XXXXXX")
trap 'rm -rf "$work"' EXIT

# build REV NAME: the C library of REV as $work/NAME/libbnn.so
build() {
    local rev=$1 name=$2 src
    if [ "$rev" = "." ]; then
        src=$root/src
    else
        git -C "$root" rev-parse --verify -q "$rev^{commit}" > /dev/null ||
            { echo "ab_models.sh: $rev is not a revision of $root" >&2; exit 2; }
        mkdir -p "$work/$name.tree"
        git -C "$root" archive "$rev" src | tar -x -C "$work/$name.tree"
        src=$work/$name.tree/src
    fi
    make -s -C "$src" BUILD="$work/$name" CFLAGS="-O3 -fPIC" lib > "$work/$name.log" 2>&1 ||
        { cat "$work/$name.log" >&2; echo "ab_models.sh: building $rev failed" >&2; exit 1; }
    cc -shared -o "$work/$name/libbnn.so" $(find "$work/$name/obj" -name '*.o') -lpthread -lm
}

echo "A = $rev_a, B = $rev_b: building both" >&2
build "$rev_a" a
build "$rev_b" b
cc -O2 -o "$work/ab_models" "$root/scripts/ab_models.c" -ldl
"$work/ab_models" "$work/a/libbnn.so" "$work/b/libbnn.so" "$model" "$rounds" "$threads" "${batches[@]}"
