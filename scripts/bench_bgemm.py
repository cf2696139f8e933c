#!/usr/bin/env python3
"""Benchmark pybnn.bgemm against numpy float32 matmul and the XOR+popcount ceiling.

For each shape [M, N, K] and thread count it measures, in the same run:
  - binary MAC/s of bgemm (M*N*K / s, K bits per dot product), as a C
    caller of bnn_bgemm that reuses its output buffer gets it (every timed
    call writes the same C; products under 10^9 MACs are repeated from C in
    one Python call), and beside it one pybnn.bgemm call from Python
    per product (which adds ~2 us of Python per call),
  - the same with B prepared once (pybnn.prepare_b, bnn_bgemm_prepared:
    laid out for the kernels, as a model's weights are), as a C caller
    gets it,
  - float32 MAC/s of numpy.matmul on the same shape (OpenBLAS; its kernel is
    printed via threadpoolctl), and the ratio of the two,
  - the fraction of the ALU ceiling (scripts/ceiling.py): the best of a few
    register-only XOR + popcount + accumulate loops of the same kernel set
    (with T threads, T copies side by side). The streaming rates from L1 and
    L2 are printed beside it. A bgemm measured above the ceiling by more than
    its noise makes the script fail (exit 1): the ceiling would not be one.
Figures are medians of --repeats runs, with the best run beside them (the
machine may be shared: the best run is the least disturbed one), each run
long enough to time. Each shape's bgemm and ceiling are taken back to back,
round-robin run by run, so that load from elsewhere shifts them alike;
numpy runs first, then its OpenBLAS threads, which spin after a call, are
given time to fall asleep.

OpenBLAS reads OPENBLAS_CORETYPE once, at load, so numpy under another core
type is measured in a child process (this script with --numpy-child), right
after the in-process figures of the same shape:
  - if OPENBLAS_CORETYPE is set here, numpy is also measured with it unset;
  - --coretype Haswell measures numpy with OPENBLAS_CORETYPE=Haswell (float32
    held to AVX2 width, the comparison for the AVX2 bar).

Bars (issue 10), checked where the run measured them: bgemm >= 85% of the
ceiling at [256,4096,4096], >= 75% at M = 64 for every K of the paper's
layers, >= 50% at M = 1 (for B as rows, then for B prepared); at [1024,1024,1024] on 1 thread >= 12x numpy
(AVX-512) or >= 8x numpy at OPENBLAS_CORETYPE=Haswell (AVX2); 2 threads
>= 1.8x 1 thread at [256,4096,4096].

    python scripts/bench_bgemm.py                      # best kernel set, all bar shapes
    python scripts/bench_bgemm.py --isa avx2 --coretype Haswell
    python scripts/bench_bgemm.py --isa scalar --repeats 5
    python scripts/bench_bgemm.py --shape 256,1024,576 --shape 1024,1024,1024 --threads 1
    python scripts/bench_bgemm.py --threads 1 --cpu-time   # 1 thread on a shared machine
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ceiling  # noqa: E402

# K of the paper's layers: convs (3x3 x 64..512 channels) and dense layers
CONV_KS = (576, 1152, 2304, 4608)
DENSE_KS = (1024, 4096, 8192)
M64_SHAPES = [(64, 1024, k) for k in CONV_KS + DENSE_KS]
M1_SHAPES = [(1, 4096, k) for k in DENSE_KS] + [(1, 512, k) for k in CONV_KS]
M8_SHAPES = [(8, 1024, k) for k in CONV_KS[:2]]  # small images, a few rows: no bar, shown
SHAPES = [(256, 4096, 4096), (1024, 1024, 1024)] + M64_SHAPES + M1_SHAPES + M8_SHAPES
MIN_RUN_SECONDS = 0.05   # one timed run repeats the call until it lasts this long
# OpenBLAS worker threads spin for a while (about 2^28 cycles) after a call:
# let them fall asleep before timing anything else on the same cores.
OPENBLAS_SETTLE_SECONDS = 0.3


def all_threads():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def median_rates(benches, repeats):
    """benches: {name: (fn, work per call)}. Runs them round-robin, `repeats`
    rounds; returns {name: median work/s} and {name: best work/s}."""
    samples = ceiling.rate_samples(benches, repeats)
    return ({name: statistics.median(r) for name, r in samples.items()},
            {name: max(r) for name, r in samples.items()})


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
        rate, _ = median_rates({"numpy": numpy_bench(*spec["shape"])}, spec["repeats"])
    print(json.dumps({"architecture": openblas_info()[0], "rate": rate["numpy"]}))


# ---- pybnn ------------------------------------------------------------------

# A timed call of bgemm_benches' "bgemm" runs at least this many MACs, as repeated C calls
# into one C: Python's ~2 us per call is not the kernel's, and neither are a fresh C's first
# writes, which miss the cache (at 10^8, [64,1024,576] ran 3 products a call, 20% slower).
MIN_MACS_PER_CALL = 10**9


def bgemm_benches(m, n, k, threads):
    """{label: (fn, work)} for bgemm of random packed rows: "bgemm", bnn_bgemm
    called from C, repeated so that one fn() does MIN_MACS_PER_CALL, "python", one pybnn.bgemm call per
    fn(), and "prepared", as "bgemm" on B prepared once (pybnn.prepare_b)."""
    import pybnn
    from pybnn import _core
    rng = np.random.default_rng(1)
    # packed by pybnn.pack_bits, as a user's rows are (on a cache line, padding bits 0)
    a, b = (pybnn.pack_bits(2 * rng.integers(0, 2, (rows, k), dtype=np.int8) - 1)
            for rows in (m, n))
    reps = max(1, -(-MIN_MACS_PER_CALL // (m * n * k)))
    prepared = pybnn.prepare_b(b, k)
    c = pybnn.bgemm(a, b, k)  # one C for every timed C call, as a C caller keeps its buffer
    return {"bgemm": ((lambda: _core.bgemm_repeat(a, b, k, threads, reps, c)), m * n * k * reps),
            "python": ((lambda: pybnn.bgemm(a, b, k, threads=threads)), m * n * k),
            "prepared": ((lambda: _core.bgemm_repeat(a, prepared, k, threads, reps, c)), m * n * k * reps)}


def b_words(n, k):
    """Words of a B of n rows of k bits."""
    return n * ((k + 63) // 64)


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
    parser.add_argument("--cpu-time", action="store_true",
                        help="time runs in the calling thread's CPU time (1 thread only): on a shared "
                             "machine, leaves out the time the OS gave the core to others")
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
    if args.cpu_time:
        if thread_counts != [1]:
            parser.error(f"--cpu-time: times the calling thread only, so needs --threads 1, got {args.threads}")
        if args.coretype:
            parser.error("--cpu-time: numpy in a child process is timed in wall clock; leave out --coretype")
        ceiling.CLOCK = time.thread_time

    arch, blas_version = openblas_info()
    env_coretype = os.environ.get("OPENBLAS_CORETYPE")
    print(f"pybnn {pybnn.__version__} bgemm: kernel set '{isa}' (available: "
          f"{', '.join(_core.available_isas())}); CPU: {cpu_name()}, {n_all} threads usable")
    print(f"numpy {np.__version__}: OpenBLAS {blas_version} kernel '{arch}' "
          f"(OPENBLAS_CORETYPE={env_coretype if env_coretype is not None else 'unset'})")
    print(f"medians of {args.repeats} runs, each >= {MIN_RUN_SECONDS * 1000:.0f} ms of "
          f"{'CPU time of the calling thread' if args.cpu_time else 'wall clock'}; per shape: "
          f"numpy, then bgemm and the ALU ceiling round-robin")

    # numpy columns besides the in-process one, measured in child processes
    children = []  # (coretype or None, label)
    if env_coretype is not None:
        children.append((None, "CORETYPE unset"))
    if args.coretype:
        children.append((args.coretype, f"CORETYPE={args.coretype}"))

    ceilings = {}
    for t in thread_counts:
        ceilings[t] = ceiling.measure(isa, t, args.repeats)
        print(ceilings[t].describe())
    l2 = ceiling.l2_bytes()
    results = {}  # (m, n, k, t) -> {"bgemm", "ceiling", "numpy[...]"...}, medians
    bests = {}    # the same keys: the best run of each
    labels = [f"numpy[{arch}]"]
    for m, n, k in shapes:
        for t in thread_counts:
            with blas_threads(t):
                r, best = median_rates({labels[0]: numpy_bench(m, n, k)}, args.repeats)
            time.sleep(OPENBLAS_SETTLE_SECONDS)
            benches = bgemm_benches(m, n, k, t)
            alu = ceiling.alu_benches(isa, t)
            benches["ceiling"] = alu["alu: " + ceilings[t].form]
            if m == 1 and l2 and b_words(n, k) * 8 // t > l2:  # each bit of B is one MAC: how fast does B arrive?
                stream = ceiling.stream_once_bench(isa, b_words(n, k), t)
                if stream:
                    benches["B once"] = stream
            r2, best2 = median_rates(benches, args.repeats)
            r.update(r2)
            best.update(best2)
            for coretype, note in children:
                child_arch, rate = numpy_rate_in_child(m, n, k, t, args.repeats, coretype)
                label = f"numpy[{child_arch}, {note}]"
                if label not in labels:
                    labels.append(label)
                r[label] = rate
            r["threads used"] = _core.bgemm_threads(m, n, k, t)
            results[(m, n, k, t)] = r
            bests[(m, n, k, t)] = best

    print("\nbgemm: bnn_bgemm called from C (small shapes repeated in one Python call, so Python's "
          "per-call overhead is left out); py: one pybnn.bgemm call from Python per product; prepared: "
          "bgemm on B prepared once (pybnn.prepare_b), from C, and its % of the ceiling.\n"
          "ran: the threads the call ran on (pybnn runs a small product on fewer: a helper would cost more than it saves).\n"
          "% ceil: median (and best) bgemm run against the ALU ceiling of those threads in CPU time; %wall: against the "
          "ceiling timed in wall clock beside it, round-robin (both shift alike under load); %Bonce (M = 1, B larger than "
          "L2 per thread): against the streaming kernel reading B once from where it lives "
          "(ceiling.stream_once_bench): how fast memory delivers B, a reference rather than a hard bound")
    head = (f"{'M':>5} {'N':>5} {'K':>5} {'thr':>3} {'ran':>3} | {'bgemm GMAC/s':>12} {'(best)':>8} "
            f"{'% ceil':>6} {'(best)':>6} {'%wall':>6} {'%Bonce':>6} {'py':>7} | {'prepared':>8} {'% ceil':>6}")
    for label in labels:
        head += f" | {label + ' GMAC/s':>34} {'ratio':>6}"
    print(head)
    print("-" * len(head))
    exceeded = []
    for (m, n, k, t), r in results.items():
        best = bests[(m, n, k, t)]
        top = ceiling_of(r, t, ceilings).cpu
        # %wall: against the ceiling measured beside this shape, on t threads
        line = (f"{m:5d} {n:5d} {k:5d} {t:3d} {r['threads used']:3d} | {r['bgemm'] / 1e9:12.1f} "
                f"{best['bgemm'] / 1e9:8.1f} {100 * r['bgemm'] / top:5.0f}% {100 * best['bgemm'] / top:5.0f}% "
                + (f"{100 * r['bgemm'] / r['ceiling']:5.0f}% " if r["threads used"] == t else f"{'':6} ")
                + (f"{100 * r['bgemm'] / r['B once']:5.0f}% " if "B once" in r else f"{'':6} ")
                + f"{r['python'] / 1e9:7.1f} | {r['prepared'] / 1e9:8.1f} "
                f"{100 * r['prepared'] / top:5.0f}%")
        for label in labels:
            line += f" | {r[label] / 1e9:34.1f} {r['bgemm'] / r[label]:5.1f}x"
        print(line)
        for name in ("bgemm", "prepared"):
            over = ceilings[t].exceeded_by(best[name], best["ceiling"])
            if over is not None:
                exceeded.append(f"[{m},{n},{k}] {name} on {t} thread(s): best run {best[name] / 1e9:.1f} GMAC/s "
                                f"is {100 * over:.0f}% above the best ALU ceiling run "
                                f"{max(ceilings[t].best, best['ceiling']) / 1e9:.1f} Gbit-op/s")
    print()
    bar_lines(isa, thread_counts, results, labels, ceilings, bests)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"isa": isa, "cpu": cpu_name(), "openblas": arch, "repeats": args.repeats,
                       "ceilings": {t: {"cpu": c.cpu, "rate": c.rate, "best": c.best, "form": c.form, "streams": c.streams}
                                    for t, c in ceilings.items()},
                       "results": [[list(key), r, bests[key]] for key, r in results.items()]}, f, indent=1)
    if exceeded:
        print("\nERROR: a kernel ran faster than the ALU ceiling allows; the ceiling is not one "
              "(or the timing is wrong):", file=sys.stderr)
        for line in exceeded:
            print("  " + line, file=sys.stderr)
        return 1
    return 0


def ceiling_of(r, t, ceilings):
    """The ceiling a result on t threads is held to: that of the threads the
    call ran on (bnn_bgemm_threads: a small product runs on fewer) where this
    run measured it, else that of t."""
    return ceilings.get(min(r["threads used"], t), ceilings[t])


def bar_lines(isa, thread_counts, results, labels, ceilings, bests):
    """The issue's bars, where this run measured what they need (medians; the
    best run beside the % of ceiling ones, as a noisy machine moves them)."""
    def check(what, value, need, unit, best=None):
        beside = f" (best run {best:.2f}{unit})" if best is not None else ""
        print(f"bar {what}: {value:.2f}{unit}{beside} (need >= {need}{unit}): "
              f"{'PASS' if value >= need else 'FAIL'}")

    if not isa.startswith(("avx512", "avx2", "avxvnni")):  # avxvnni: avx2 with a VNNI first layer
        print(f"no bar is set for kernel set '{isa}'")
        return
    for name, what in (("bgemm", ""), ("prepared", ", B prepared,")):
        for key, r in results.items():
            m, n, k, t = key
            top = ceiling_of(r, t, ceilings)
            frac = 100 * r[name] / top.cpu
            best = 100 * bests[key][name] / top.cpu
            ran = r["threads used"]
            label = f"[{m},{n},{k}] {t} thread(s){what} % of ceiling" + (
                f" (ran on {ran}: too small to share)" if ran < t else "")
            if (m, n, k) == (256, 4096, 4096):
                check(label, frac, 85, "%", best)
            elif m == 64 and k in CONV_KS + DENSE_KS:
                check(label, frac, 75, "%", best)
            elif m == 1:
                check(label, frac, 50, "%", best)
                if "B once" in r:
                    stream = 100 * r["B once"] / top.cpu
                    print(f"    (streaming its B once, {b_words(n, k) * 8 // 1024} KiB, runs at {stream:.0f}% "
                          f"of the ceiling; this does {100 * r[name] / r['B once']:.0f}% of that)")
    key = (1024, 1024, 1024, 1)
    if key in results:
        if isa.startswith("avx512"):
            check(f"[1024,1024,1024] 1 thread vs {labels[0]}", results[key]["bgemm"] / results[key][labels[0]], 12, "x")
        else:
            haswell = [label for label in labels if "Haswell" in label]
            if haswell:
                check(f"[1024,1024,1024] 1 thread vs {haswell[-1]}",
                      results[key]["bgemm"] / results[key][haswell[-1]], 8, "x")
            else:
                print("AVX2 numpy bar: needs numpy at OpenBLAS 'Haswell' (use --coretype Haswell)")
    scaling = [t for t in thread_counts if t > 1 and (256, 4096, 4096, t) in results]
    if (256, 4096, 4096, 1) in results and 2 in scaling:
        check("[256,4096,4096] 2 threads / 1 thread",
              results[(256, 4096, 4096, 2)]["bgemm"] / results[(256, 4096, 4096, 1)]["bgemm"], 1.8, "x")


if __name__ == "__main__":
    sys.exit(main())
