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
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/scripts/ab_common.sh"

rounds=21
threads=1
while getopts "r:t:h" opt; do
    case $opt in
    r) rounds=$OPTARG ;;
    t) threads=$OPTARG ;;
    *) ab_usage ;;
    esac
done
shift $((OPTIND - 1))
[ $# -ge 3 ] || ab_usage
rev_a=$1 rev_b=$2 model=$3
shift 3
batches=("$@")
[ ${#batches[@]} -gt 0 ] || batches=(1)
[ -f "$model" ] || { echo "ab_models.sh: no model file $model" >&2; exit 2; }
model=$(cd "$(dirname "$model")" && pwd)/$(basename "$model")

ab_build_both "$root" "$rev_a" "$rev_b"
cc -O2 -o "$work/ab_models" "$root/scripts/ab_models.c" -ldl
"$work/ab_models" "$work/a/libbnn.so" "$work/b/libbnn.so" "$model" "$rounds" "$threads" "${batches[@]}"
