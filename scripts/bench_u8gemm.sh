#!/bin/bash
# bench_u8gemm.sh - time the first layer's product (u8gemm) of every kernel set this CPU runs.
#
#   bash scripts/bench_u8gemm.sh [-r ROUNDS] [M,N,K...]
#
# Builds the working tree's C library and scripts/bench_u8gemm.c, then times
# each set's u8gemm in turn, ROUNDS rounds (default 15), checked against the
# reference first. Without shapes: the paper networks' first layers (the
# ConvNet's first conv at batch 1 as [1024,128,27], the MLP's 784 -> 4096 at
# batches 1, 8 and 32) and a 3x3 conv over 128 channels. For example, on a
# Sapphire Rapids guest: [256,128,1152] avxvnni 2.0x avx2, avx512vnni 2.5x.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

rounds=15
while getopts "r:h" opt; do
    case $opt in
    r) rounds=$OPTARG ;;
    *) sed -n '2,4p' "$0" | sed 's/^# *//' >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || set -- 1024,128,27 1,4096,784 8,4096,784 32,4096,784 256,128,1152
for shape in "$@"; do
    [[ $shape =~ ^[1-9][0-9]*,[1-9][0-9]*,[1-9][0-9]*$ ]] ||
        { echo "bench_u8gemm.sh: a shape is M,N,K of positive integers, got $shape" >&2; exit 2; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/pybnn-u8.XXXXXX")
trap 'rm -rf "$work"' EXIT
make -s -C "$root/src" BUILD="$work/build" lib > "$work/log" 2>&1 ||
    { cat "$work/log" >&2; echo "bench_u8gemm.sh: building the library failed" >&2; exit 1; }
cc -O2 -I"$root/src" -I"$root/scripts" -o "$work/bench_u8gemm" "$root/scripts/bench_u8gemm.c" \
    "$work/build/libbnn.a" -lpthread -lm
"$work/bench_u8gemm" "$rounds" "$@"
