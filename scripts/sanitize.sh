#!/usr/bin/env bash
# The C tests under sanitizers (clang):
#   ASan + UBSan (-fno-sanitize-recover: the first report fails the run):
#     test_kernels and test_u8gemm (default kernels and SIMD disabled),
#     bnn_classify on a model of every layer combination (scores equal with
#     SIMD on and off) and on bad input (missing file, directory, FIFO,
#     truncated model, short input: an error and exit 1 or 2, no report),
#     test_threads (several threads on one model);
#   TSan: test_threads (callers sharing one model, each run split over the
#     thread pool, loads meanwhile) and test_kernels (the pool in bgemm).
#
#   bash scripts/sanitize.sh
#
# Builds into build-sanitize/{asan,tsan}. Needs clang with its sanitizer
# runtime (installed from apt when root and missing, see clang_env.sh) and
# pybnn importable by $PYTHON (default .venv/bin/python, else python3) for
# the models (scripts/make_classify_fixtures.py).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
source scripts/clang_env.sh

B=$ROOT/build-sanitize
ASAN="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all"
TSAN="-O1 -g -fno-omit-frame-pointer -fsanitize=thread"
echo "== build ASan + UBSan"
make -s -j"${JOBS:-2}" -C src CC="$CC" CFLAGS="$ASAN" BUILD="$B/asan" lib tests
echo "== build TSan"
make -s -j"${JOBS:-2}" -C src CC="$CC" CFLAGS="$TSAN" BUILD="$B/tsan" lib tests

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:exitcode=66}
NO_SIMD=avx2,avx512,neon

PYTHON=${PYTHON:-}
if [ -z "$PYTHON" ]; then
    if [ -x .venv/bin/python ]; then PYTHON=.venv/bin/python; else PYTHON=python3; fi
fi
FIX=$B/fixtures
"$PYTHON" scripts/make_classify_fixtures.py "$FIX"

results=()
failures=0
run() { # label, then the command; passes on exit 0
    local label=$1 out rc=0
    shift
    out=$("$@" 2>&1) || rc=$?
    if [ "$rc" = 0 ]; then
        results+=("PASS  $label: $(printf '%s\n' "$out" | tail -n 1)")
    else
        printf '%s\n' "$out" | tail -n 40
        results+=("FAIL  $label (exit $rc)")
        failures=$((failures + 1))
    fi
}
expect_error() { # label, then the command; passes on exit 1 or 2 with no sanitizer report
    local label=$1 out rc=0
    shift
    out=$(timeout 20 "$@" 2>&1) || rc=$?
    if { [ "$rc" = 1 ] || [ "$rc" = 2 ]; } && ! grep -q "Sanitizer" <<<"$out"; then
        results+=("PASS  $label: exit $rc: $(printf '%s\n' "$out" | head -n 1)")
    else
        printf '%s\n' "$out" | tail -n 40
        results+=("FAIL  $label (exit $rc; expected 1 or 2 and no sanitizer report)")
        failures=$((failures + 1))
    fi
}

# Scores with SIMD on and off, both under ASan, must be the same bytes.
classify_all() {
    local name count bad=0
    while read -r name count; do
        "$B/asan/bnn_classify" "$FIX/$name.bnn" "$FIX/$name.u8" "$count" \
            --scores "$FIX/$name.simd.f32" >/dev/null
        PYBNN_DISABLE_CPU_FEATURES=$NO_SIMD "$B/asan/bnn_classify" "$FIX/$name.bnn" \
            "$FIX/$name.u8" "$count" --scores "$FIX/$name.scalar.f32" --threads 2 >/dev/null
        cmp -s "$FIX/$name.simd.f32" "$FIX/$name.scalar.f32" || {
            echo "$name: scores differ with SIMD off"
            bad=$((bad + 1))
        }
    done <"$FIX/list.txt"
    echo "$(wc -l <"$FIX/list.txt") models, $bad differ"
    [ "$bad" = 0 ]
}
threads_all() { # build (asan or tsan), then the test_threads arguments after N
    local build=$1 name count
    shift
    while read -r name count; do
        "$B/$build/test_threads" "$FIX/$name.bnn" "$FIX/$name.u8" "$count" "$@" || return 1
    done <"$FIX/list.txt"
}

echo "== ASan + UBSan"
run "asan test_kernels" "$B/asan/test_kernels"
run "asan test_kernels, SIMD off" env PYBNN_DISABLE_CPU_FEATURES=$NO_SIMD "$B/asan/test_kernels" --expect-isa scalar
run "asan test_u8gemm" "$B/asan/test_u8gemm"
run "asan test_u8gemm, SIMD off" env PYBNN_DISABLE_CPU_FEATURES=$NO_SIMD "$B/asan/test_u8gemm" --expect-isa scalar
run "asan bnn_classify, every model, SIMD on and off" classify_all
run "asan test_threads, every model" threads_all asan 4 10
first=$(head -n 1 "$FIX/list.txt" | cut -d' ' -f1)
head -c 100 "$FIX/$first.bnn" >"$FIX/truncated.bnn"
rm -f "$FIX/fifo.bnn" && mkfifo "$FIX/fifo.bnn"
expect_error "asan bnn_classify, missing model" "$B/asan/bnn_classify" "$FIX/missing.bnn" "$FIX/$first.u8" 1
expect_error "asan bnn_classify, a directory" "$B/asan/bnn_classify" "$FIX" "$FIX/$first.u8" 1
expect_error "asan bnn_classify, a FIFO" "$B/asan/bnn_classify" "$FIX/fifo.bnn" "$FIX/$first.u8" 1
expect_error "asan bnn_classify, truncated model" "$B/asan/bnn_classify" "$FIX/truncated.bnn" "$FIX/$first.u8" 1
expect_error "asan bnn_classify, input too short" "$B/asan/bnn_classify" "$FIX/$first.bnn" "$FIX/$first.u8" 1000
expect_error "asan bnn_classify, bad N" "$B/asan/bnn_classify" "$FIX/$first.bnn" "$FIX/$first.u8" -3

echo "== TSan"
run "tsan test_threads, every model" threads_all tsan 4 10
run "tsan test_kernels" "$B/tsan/test_kernels"

echo "== summary"
printf '%s\n' "${results[@]}"
if [ "$failures" -gt 0 ]; then
    echo "sanitize.sh: $failures run(s) failed" >&2
    exit 1
fi
