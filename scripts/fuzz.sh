#!/usr/bin/env bash
# Coverage-guided fuzzing of the .bnn readers (tests/fuzz/):
#   1. fuzz_model: libFuzzer on the C reader + executor under ASan + UBSan
#      (-fno-sanitize-recover), with the structure-aware mutator that fixes
#      the CRCs; every accepted model is run on every kernel set;
#   2. fuzz_format.py: mutants through pybnn.format.read and the C reader
#      (pybnn._core.CModel), which must accept and reject the same inputs.
# Each runs for SECONDS (default 120). Any finding fails the script and
# prints the reproducer (saved under build-fuzz/findings/).
#
#   bash scripts/fuzz.sh [SECONDS]
#
# Needs clang and its sanitizer runtime (Debian: clang, libclang-rt-14-dev;
# installed when root and missing) and, for the Python harness, pybnn
# installed in $PYTHON (default .venv/bin/python, else python3). The
# corpus grows in build-fuzz/corpus (or $FUZZ_BUILD/corpus); the seeds in tests/fuzz/corpus come
# from tests/fuzz/make_seeds.py.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
SECONDS_EACH=${1:-120}
case "$SECONDS_EACH" in
'' | *[!0-9]*)
    echo "fuzz.sh: SECONDS must be a positive integer, got '$SECONDS_EACH'" >&2
    exit 2
    ;;
esac

source scripts/clang_env.sh # CC (clang), installed from apt when missing

BUILD=${FUZZ_BUILD:-$ROOT/build-fuzz} # a separate one lets two runs go side by side
SAN="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
echo "== build the C library with $SAN"
make -s -j"${JOBS:-2}" -C src CC="$CC" CFLAGS="-O1 -g $SAN -fsanitize=fuzzer-no-link" \
    BUILD="$BUILD/lib" lib
"$CC" -O1 -g $SAN -fsanitize=fuzzer -Isrc tests/fuzz/fuzz_model.c tests/fuzz/fuzz_mutator.c \
    "$BUILD/lib/libbnn.a" -lm -pthread -o "$BUILD/fuzz_model"

mkdir -p "$BUILD/corpus" "$BUILD/findings"
failures=0
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

echo "== fuzz_model for ${SECONDS_EACH}s (C reader + executor, ASan + UBSan)"
log=$BUILD/fuzz_model.log
rc=0
"$BUILD/fuzz_model" -max_total_time="$SECONDS_EACH" -timeout=20 -rss_limit_mb=2560 \
    -max_len=65536 -print_final_stats=1 -artifact_prefix="$BUILD/findings/" \
    "$BUILD/corpus" tests/fuzz/corpus >"$log" 2>&1 || rc=$?
grep -E '^#[0-9]+[[:space:]]+(INITED|DONE)|^stat::|^Done' "$log" || true
if [ "$rc" != 0 ]; then
    failures=$((failures + 1))
    echo "fuzz_model: FAILED (exit $rc); the end of its log ($log):" >&2
    tail -n 40 "$log" >&2
    for f in $(grep -oE "Test unit written to [^ ]+" "$log" | awk '{print $5}'); do
        echo "reproducer: $f ($(stat -c %s "$f") bytes); run again with: $BUILD/fuzz_model $f" >&2
        od -A d -t x1 "$f" | head -n 20 >&2
    done
fi

PYTHON=${PYTHON:-}
if [ -z "$PYTHON" ]; then
    if [ -x .venv/bin/python ]; then PYTHON=.venv/bin/python; else PYTHON=python3; fi
fi
echo "== fuzz_format.py for ${SECONDS_EACH}s (pybnn.format.read vs the C reader)"
if ! "$PYTHON" tests/fuzz/fuzz_format.py --seconds "$SECONDS_EACH" --corpus tests/fuzz/corpus \
    --findings "$BUILD/findings"; then
    failures=$((failures + 1))
fi

if [ "$failures" -gt 0 ]; then
    echo "fuzz.sh: $failures harness(es) found a problem" >&2
    exit 1
fi
echo "fuzz.sh: no findings"
