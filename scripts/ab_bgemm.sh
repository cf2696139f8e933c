#!/bin/bash
# ab_bgemm.sh - time two versions of the C library's bgemm, in one process.
#
#   bash scripts/ab_bgemm.sh [-r ROUNDS] [-t THREADS] [-p] REV_A REV_B M,N,K...
#
# As scripts/ab_models.sh, for products: REV_A and REV_B are git revisions
# (or "." for the working tree), each built once as a shared library; then
# scripts/ab_bgemm.c alternates bnn_bgemm (with -p: bnn_bgemm_prepared, on B
# prepared by each library) of the two in 20 ms slices, ROUNDS times per
# shape (default 21), checks that both give the same product, and prints
# GMAC/s of each, median and best, and B/A.
#
#   bash scripts/ab_bgemm.sh HEAD~1 . 64,1024,576 1,512,1152
#   bash scripts/ab_bgemm.sh -p -t 2 main . 256,4096,4096
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/scripts/ab_common.sh"

rounds=21
threads=1
prepared=0
while getopts "r:t:ph" opt; do
    case $opt in
    r) rounds=$OPTARG ;;
    t) threads=$OPTARG ;;
    p) prepared=1 ;;
    *) ab_usage ;;
    esac
done
shift $((OPTIND - 1))
[ $# -ge 3 ] || ab_usage
rev_a=$1 rev_b=$2
shift 2
for shape in "$@"; do
    [[ $shape =~ ^[1-9][0-9]*,[1-9][0-9]*,[1-9][0-9]*$ ]] ||
        { echo "ab_bgemm.sh: a shape is M,N,K of positive integers, got $shape" >&2; exit 2; }
done

ab_build_both "$root" "$rev_a" "$rev_b"
cc -O2 -o "$work/ab_bgemm" "$root/scripts/ab_bgemm.c" -ldl
PREPARED=$prepared "$work/ab_bgemm" "$work/a/libbnn.so" "$work/b/libbnn.so" "$rounds" "$threads" "$@"
