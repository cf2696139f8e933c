#!/usr/bin/env python3
"""Benchmark pybnn.bgemm against numpy float32 matmul and an XOR+popcount roofline.

For each shape [M, N, K] and thread count it measures, in the same run:
  - binary MAC/s of pybnn.bgemm (M*N*K / s, K bits per dot product),
  - float32 MAC/s of numpy.matmul on the same shape (OpenBLAS; its kernel is
    printed via threadpoolctl), and the ratio of the two,
  - the fraction of the roofline: bit-ops/s of a streaming XOR + popcount +
    accumulate over two L1-resident arrays with the same kernel set
    (pybnn._core.roofline_xor_popcount; with T threads, T copies side by side).
Every figure is the median of --repeats runs, each run long enough to time.
Each shape's figures are taken back to back (bgemm and roofline round-robin,
run by run), so that load from elsewhere on a shared machine shifts them
alike instead of skewing their ratios; numpy runs first, then its OpenBLAS
threads, which spin after a call, are given time to fall asleep.

OpenBLAS reads OPENBLAS_CORETYPE once, at load, so numpy under another core
type is measured in a child process (this script with --numpy-child), right
after the in-process figures of the same shape:
  - if OPENBLAS_CORETYPE is set here, numpy is also measured with it unset;
  - --coretype Haswell measures numpy with OPENBLAS_CORETYPE=Haswell (float32
    held to AVX2 width, the comparison for the AVX2 bar).

Bars (from the issue): AVX2 >= 4x numpy float32 at OPENBLAS_CORETYPE=Haswell,
1 thread, [1024,1024,1024] and [256,4096,4096]; AVX-512 >= 10x numpy and >= 50%
of the roofline.

    python scripts/bench_bgemm.py                      # best kernel set
    python scripts/bench_bgemm.py --isa avx2 --coretype Haswell
    python scripts/bench_bgemm.py --isa scalar --repeats 5
    python scripts/bench_bgemm.py --shape 256,1024,576 --shape 1024,1024,1024 --threads 1
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import threading
import time

import numpy as np

SHAPES = [(1, 4096, 4096), (64, 2048, 2048), (256, 4096, 4096), (1024, 1024, 1024)]
BAR_SHAPES = [(1024, 1024, 1024), (256, 4096, 4096)]
MIN_RUN_SECONDS = 0.05   # one timed run repeats the call until it lasts this long
ROOFLINE_WORDS = 1024    # 2 x 8 KiB: both arrays sit in L1 (32 KiB and up)
# OpenBLAS worker threads spin for a while (about 2^28 cycles) after a call:
# let them fall asleep before timing anything else on the same cores.
OPENBLAS_SETTLE_SECONDS = 0.3


def all_threads():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def calls_per_run(fn):
    """Warm fn up (page in buffers, settle the clock) and return how many
    calls make one run of at least MIN_RUN_SECONDS."""
    fn()
    t = time.perf_counter()
    fn()
    return max(1, int(MIN_RUN_SECONDS / max(time.perf_counter() - t, 1e-7)))


def median_rates(benches, repeats):
    """benches: {name: (fn, work per call)}. Runs them round-robin, `repeats`
    rounds; returns {name: median work/s}."""
    calls = {name: calls_per_run(fn) for name, (fn, _) in benches.items()}
    rates = {name: [] for name in benches}
    for _ in range(repeats):
        for name, (fn, work) in benches.items():
            t = time.perf_counter()
            for _ in range(calls[name]):
                fn()
            rates[name].append(work * calls[name] / (time.perf_counter() - t))
    return {name: statistics.median(r) for name, r in rates.items()}


# ---- numpy (float32 matmul) -------------------------------------------------

def openblas_info():
    """(architecture, version) of the BLAS numpy uses, via threadpoolctl."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown (pip install threadpoolctl)", ""
    for lib in threadpool_info():
        if lib.get("user_api") == "blas":
            return lib.get("architecture") or lib.get("internal_api", "?"), lib.get("version", "")
    return "no BLAS found", ""


def numpy_bench(m, n, k):
    """(fn, work) for numpy.matmul of float32 (m, k) @ (k, n); run it inside
    blas_threads(t)."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((m, k), dtype=np.float32)
    b = rng.standard_normal((k, n), dtype=np.float32)
    return (lambda: np.matmul(a, b)), m * n * k


def blas_threads(threads):
    """Context: numpy's BLAS limited to `threads` threads (pybnn takes its own)."""
    from threadpoolctl import threadpool_limits
    return threadpool_limits(limits=threads, user_api="blas")


def numpy_rate_in_child(m, n, k, threads, repeats, coretype):
    """(OpenBLAS kernel, float32 MAC/s) in a fresh process with
    OPENBLAS_CORETYPE=coretype (None: unset)."""
    env = dict(os.environ)
    env.pop("OPENBLAS_CORETYPE", None)
    if coretype is not None:
        env["OPENBLAS_CORETYPE"] = coretype
    spec = json.dumps({"shape": [m, n, k], "threads": threads, "repeats": repeats})
    proc = subprocess.run([sys.executable, os.path.abspath(__file__), "--numpy-child", spec],
                          env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"numpy child (OPENBLAS_CORETYPE={coretype}) failed:\n{proc.stderr}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    return result["architecture"], result["rate"]


def numpy_child_main(spec_json):
    spec = json.loads(spec_json)
    with blas_threads(spec["threads"]):
        rate = median_rates({"numpy": numpy_bench(*spec["shape"])}, spec["repeats"])
    print(json.dumps({"architecture": openblas_info()[0], "rate": rate["numpy"]}))


# ---- pybnn ------------------------------------------------------------------

def bgemm_bench(m, n, k, threads):
    """(fn, work) for pybnn.bgemm of random packed rows."""
    import pybnn
    rng = np.random.default_rng(1)
    words = (k + 63) // 64
    a = rng.integers(0, 2**63, (m, words), dtype=np.uint64)
    b = rng.integers(0, 2**63, (n, words), dtype=np.uint64)
    if k % 64:  # keep the padding bits 0, as packed rows have them
        keep = np.uint64((1 << (k % 64)) - 1)
        a[:, -1] &= keep
        b[:, -1] &= keep
    return (lambda: pybnn.bgemm(a, b, k, threads=threads)), m * n * k


def roofline_bench(isa, threads):
    """(fn, bit-ops) for `threads` roofline kernels running side by side."""
    from pybnn import _core
    rng = np.random.default_rng(2)
    arrays = [(rng.integers(0, 2**63, ROOFLINE_WORDS, dtype=np.uint64),
               rng.integers(0, 2**63, ROOFLINE_WORDS, dtype=np.uint64)) for _ in range(threads)]
    t = time.perf_counter()
    _core.roofline_xor_popcount(isa, *arrays[0], 1000)
    reps = max(1, int(1000 * MIN_RUN_SECONDS / 4 / max(time.perf_counter() - t, 1e-7)))

    def run():
        workers = [threading.Thread(target=_core.roofline_xor_popcount, args=(isa, a, b, reps))
                   for a, b in arrays]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
    return run, ROOFLINE_WORDS * 64 * reps * threads


# ---- report -----------------------------------------------------------------

def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--isa", help="kernel set to use (pybnn._core.select_isa); default: the best")
    parser.add_argument("--coretype", help="also measure numpy with OPENBLAS_CORETYPE=this (child process)")
    parser.add_argument("--repeats", type=int, default=7, help="timed runs per figure (median; >= 5)")
    parser.add_argument("--threads", default="1,all", help="comma list of thread counts; 'all' = every core")
    parser.add_argument("--shape", action="append", metavar="M,N,K",
                        help="measure this shape instead of the default list (repeatable)")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--numpy-child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.numpy_child:
        numpy_child_main(args.numpy_child)
        return 0
    if args.repeats < 5:
        parser.error(f"--repeats: expected at least 5 (figures are medians), got {args.repeats}")
    shapes = SHAPES
    if args.shape:
        try:
            shapes = [tuple(int(v) for v in spec.split(",")) for spec in args.shape]
        except ValueError:
            shapes = []
        if not shapes or any(len(s) != 3 or min(s) < 1 for s in shapes):
            parser.error(f"--shape: expected M,N,K of positive ints, got {args.shape}")

    import pybnn
    from pybnn import _core
    if args.isa:
        _core.select_isa(args.isa)
    isa = _core.isa()
    n_all = all_threads()
    thread_counts = sorted({n_all if t.strip() == "all" else int(t) for t in args.threads.split(",")})

    arch, blas_version = openblas_info()
    env_coretype = os.environ.get("OPENBLAS_CORETYPE")
    print(f"pybnn {pybnn.__version__} bgemm: kernel set '{isa}' (available: "
          f"{', '.join(_core.available_isas())}); CPU: {cpu_name()}, {n_all} threads usable")
    print(f"numpy {np.__version__}: OpenBLAS {blas_version} kernel '{arch}' "
          f"(OPENBLAS_CORETYPE={env_coretype if env_coretype is not None else 'unset'})")
    print(f"medians of {args.repeats} runs, each >= {MIN_RUN_SECONDS * 1000:.0f} ms; per shape: "
          f"numpy, then bgemm and roofline round-robin")

    # numpy columns besides the in-process one, measured in child processes
    children = []  # (coretype or None, label)
    if env_coretype is not None:
        children.append((None, "CORETYPE unset"))
    if args.coretype:
        children.append((args.coretype, f"CORETYPE={args.coretype}"))

    try:  # a kernel set may have no roofline kernel yet (then: no "% roof")
        _core.roofline_xor_popcount(isa, *(np.zeros(_core.ROOFLINE_WORDS_MULTIPLE, np.uint64),) * 2, 1)
        has_roofline = True
    except NotImplementedError as e:
        print(f"no roofline: {e}")
        has_roofline = False
    results = {}  # (m, n, k, t) -> {"bgemm", "roofline", "numpy[...]"...}
    labels = [f"numpy[{arch}]"]
    for m, n, k in shapes:
        for t in thread_counts:
            with blas_threads(t):
                r = median_rates({labels[0]: numpy_bench(m, n, k)}, args.repeats)
            time.sleep(OPENBLAS_SETTLE_SECONDS)
            benches = {"bgemm": bgemm_bench(m, n, k, t)}
            if has_roofline:
                benches["roofline"] = roofline_bench(isa, t)
            r.update(median_rates(benches, args.repeats))
            for coretype, note in children:
                child_arch, rate = numpy_rate_in_child(m, n, k, t, args.repeats, coretype)
                label = f"numpy[{child_arch}, {note}]"
                if label not in labels:
                    labels.append(label)
                r[label] = rate
            results[(m, n, k, t)] = r

    for t in thread_counts if has_roofline else []:
        roof = statistics.median(r["roofline"] for key, r in results.items() if key[3] == t)
        print(f"roofline ({isa} XOR+popcount+accumulate, 2 x {ROOFLINE_WORDS * 8 // 1024} KiB in L1), "
              f"{t} thread(s): {roof / 1e9:.1f} Gbit-op/s (median over the shapes' runs)")
    print()
    head = f"{'M':>5} {'N':>5} {'K':>5} {'thr':>3} | {'bgemm GMAC/s':>12} {'% roof':>6}"
    for label in labels:
        head += f" | {label + ' GMAC/s':>34} {'ratio':>6}"
    print(head)
    print("-" * len(head))
    for (m, n, k, t), r in results.items():
        roof = f"{100 * r['bgemm'] / r['roofline']:5.0f}%" if has_roofline else f"{'n/a':>6}"
        line = f"{m:5d} {n:5d} {k:5d} {t:3d} | {r['bgemm'] / 1e9:12.1f} {roof}"
        for label in labels:
            line += f" | {r[label] / 1e9:34.1f} {r['bgemm'] / r[label]:5.1f}x"
        print(line)
    print()
    bar_lines(isa, thread_counts, results, labels, has_roofline)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"isa": isa, "cpu": cpu_name(), "openblas": arch, "repeats": args.repeats,
                       "results": [[list(key), r] for key, r in results.items()]}, f, indent=1)
    return 0


def bar_lines(isa, thread_counts, results, labels, has_roofline):
    """The issue's bars, where this run measured what they need."""
    if isa == "avx2":
        haswell = [label for label in labels if "Haswell" in label]
        if 1 not in thread_counts or not haswell:
            print("AVX2 bar: needs 1 thread and numpy at OpenBLAS 'Haswell' (use --coretype Haswell)")
            return
        label = haswell[-1]
        for m, n, k in BAR_SHAPES:
            if (m, n, k, 1) not in results:
                continue
            r = results[(m, n, k, 1)]
            ratio = r["bgemm"] / r[label]
            print(f"AVX2 bar [{m},{n},{k}], 1 thread: {ratio:.1f}x {label} "
                  f"(need >= 4x): {'PASS' if ratio >= 4 else 'FAIL'}")
    elif isa == "avx512" and has_roofline:
        for m, n, k in BAR_SHAPES:
            for t in thread_counts:
                if (m, n, k, t) not in results:
                    continue
                r = results[(m, n, k, t)]
                ratio, frac = r["bgemm"] / r[labels[0]], r["bgemm"] / r["roofline"]
                ok = ratio >= 10 and frac >= 0.5
                print(f"AVX-512 bar [{m},{n},{k}], {t} thread(s): {ratio:.1f}x {labels[0]}, "
                      f"{100 * frac:.0f}% of roofline (need >= 10x and >= 50%): {'PASS' if ok else 'FAIL'}")
    else:
        print(f"no bar is set for kernel set '{isa}'")


if __name__ == "__main__":
    sys.exit(main())
