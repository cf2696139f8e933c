#!/usr/bin/env python3
"""Benchmark the paper's networks on the pybnn engine against float32 NumPy
forwards and ONNX Runtime float32 and int8 (QDQ) models of the same
architectures, all in one run on this machine.

    python scripts/bench_models.py [--runs 7] [--batches 1,8,32,256]

For both networks (MLP 784-4096x3-10, ConvNet 2x128C3-MP2-2x256C3-MP2-
2x512C3-MP2-2x1024FC-10) and for 1 thread and all threads it prints ms per
image at each batch size (median and best of --runs timings; the machine may
be shared, and the best run is the least disturbed one), pybnn's speed-up
over each baseline, GMAC/s and the fraction of the ALU ceiling (the best
register-only XOR + popcount loop of the kernel set on as many threads,
scripts/ceiling.py), and the scaling from 1 to all threads. Then issue 10's
bars, where the run measured them.

Random weights: speed does not depend on them. Needs threadpoolctl, and for
the ONNX Runtime columns onnx and onnxruntime (pip install 'pybnn[bench]');
without them those columns are left out, with a note."""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
from threadpoolctl import threadpool_limits

import pybnn
from pybnn import _core
from pybnn import format as bnn_format

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ceiling  # noqa: E402
from paper_models import convnet_spec, float32_forward, float32_params, mlp_spec  # noqa: E402

BASELINE_BATCHES = (1, 32)  # numpy and ONNX Runtime are timed at these batches only (they are slow)
CLOCK = time.perf_counter   # --cpu-time: time.thread_time (1 thread: everything runs on this thread)


def seconds(fn, runs, min_time=0.05):
    """(median, best) over `runs` timings; each timing repeats fn until min_time passes."""
    fn()  # warm-up
    samples = []
    for _ in range(runs):
        reps, start = 0, CLOCK()
        while True:
            fn()
            reps += 1
            elapsed = CLOCK() - start
            if elapsed >= min_time:
                break
        samples.append(elapsed / reps)
    return statistics.median(samples), min(samples)


def binary_macs(spec):
    """MACs per sample of every weighted layer (the first layer's 8-bit x 1-bit included)."""
    from pybnn.summary import layer_stats
    return sum(s["binary_macs"] + s["first_macs"] for s in layer_stats(spec))


def ort_sessions(name, threads):
    """{label: (session, input layout)} of ONNX Runtime float32 and int8, or
    {} with a note when onnx/onnxruntime are missing."""
    try:
        import onnx_models
        import onnxruntime  # noqa: F401
    except ImportError as e:
        print(f"(ONNX Runtime columns left out: {e}; pip install 'pybnn[bench]')")
        return {}
    shape, layers = onnx_models.convnet_layers() if name == "convnet" else onnx_models.mlp_layers()
    return {f"ORT {kind}": onnx_models.session(onnx_models.build(shape, layers, int8=kind == "int8"), threads)
            for kind in ("f32", "int8")}


def bench_net(name, spec, runs, thread_counts, batches, ceilings):
    """Rows {(threads, batch): {column: (median s/image, best s/image)}}."""
    rng = np.random.default_rng(3)
    model = pybnn.load(bnn_format.to_bytes(spec))
    params = float32_params(spec)
    macs = binary_macs(spec)
    shape = spec.input_shape
    rows = {}
    for threads in thread_counts:
        sessions = ort_sessions(name, threads)
        for batch in batches:
            x = rng.integers(0, 256, (batch, *shape), dtype=np.uint8)
            med, best = seconds(lambda: model.run(x, threads=threads), runs)
            row = {"pybnn": (med / batch, best / batch)}
            if batch in BASELINE_BATCHES:
                base_runs = max(3, runs // 2)
                with threadpool_limits(limits=threads):
                    med, best = seconds(lambda: float32_forward(params, x), base_runs)
                row["numpy f32"] = (med / batch, best / batch)
                xf = (x.astype(np.float32) / 255)
                if xf.ndim == 4:
                    xf = np.ascontiguousarray(xf.transpose(0, 3, 1, 2))  # ONNX convs are channels first
                for label, sess in sessions.items():
                    med, best = seconds(lambda: sess.run(None, {"x": xf}), base_runs)
                    row[label] = (med / batch, best / batch)
            rows[(threads, batch)] = row
    columns = ["numpy f32"] + [c for c in ("ORT f32", "ORT int8") if any(c in r for r in rows.values())]
    head = (f"{'thr':>3} {'batch':>5} | {'pybnn ms/im':>11} {'(best)':>8} {'GMAC/s':>7} {'%ceil*':>6} | "
            + " | ".join(f"{c + ' ms/im':>14} {'ratio':>6}" for c in columns))
    print(head)
    print("-" * len(head))
    for (threads, batch), row in rows.items():
        med, best = row["pybnn"]
        rate = macs / med
        line = (f"{threads:3d} {batch:5d} | {med * 1e3:11.3f} {best * 1e3:8.3f} {rate / 1e9:7.1f} "
                f"{100 * rate / ceilings[threads].cpu:5.0f}% | ")
        cells = []
        for c in columns:
            cells.append(f"{row[c][0] * 1e3:14.3f} {row[c][0] / med:5.1f}x" if c in row else f"{'':14} {'':6}")
        print(line + " | ".join(cells))
    print("(* median against the ALU ceiling in CPU time (scripts/ceiling.py): the MACs of the binary "
          "and first layers over the ceiling of the binary ones)")
    if len(thread_counts) > 1:
        lo, hi = thread_counts[0], thread_counts[-1]
        print(f"scaling, {hi} threads' time over {lo}'s (median of {runs} rounds that time both in turn, "
              f"and best over best):")
        for b in batches:
            x = rng.integers(0, 256, (b, *shape), dtype=np.uint8)
            ratio, best = interleaved_scaling(lambda t: model.run(x, threads=t), lo, hi, runs)
            rows[("scaling", hi, b)] = ratio
            print(f"  batch {b:3d}: {ratio:.2f}x (best {best:.2f}x)")
    return rows


def interleaved_scaling(run, lo, hi, rounds):
    """(median over rounds of time(hi threads) / time(lo threads), best hi /
    best lo): each round times both back to back, so a busy spell on a shared
    machine falls on both sides of a ratio instead of on one figure."""
    ratios, lows, highs = [], [], []
    for _ in range(rounds):
        t_lo = seconds(lambda: run(lo), 1)[0]
        t_hi = seconds(lambda: run(hi), 1)[0]
        ratios.append(t_hi / t_lo)
        lows.append(t_lo)
        highs.append(t_hi)
    return statistics.median(ratios), min(highs) / min(lows)


def report_sizes(specs):
    print("\n== model size")
    for name, spec in specs:
        size = len(bnn_format.to_bytes(spec))
        f32 = 4 * sum(int(np.prod(a.shape)) for layer in spec.layers
                      for a in vars(layer).values() if isinstance(a, np.ndarray))
        print(f"{name:8} .bnn {size / 1e6:8.2f} MB  float32 params {f32 / 1e6:8.2f} MB  ratio 1/{f32 / size:.1f}")


def report_bench_rss(spec):
    """Peak RSS of the `pybnn bench` command on the MLP, in a child process."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "mlp.bnn")
        bnn_format.write(path, spec)
        # cwd=tmp: run from the repository root, `python -m pybnn` would find the
        # source tree (first on sys.path) instead of the installed package.
        out = subprocess.run([sys.executable, "-m", "pybnn", "bench", path, "--batch", "256", "--runs", "3"],
                             check=True, capture_output=True, text=True, cwd=tmp).stdout
    # The child reports its own peak: RUSAGE_CHILDREN would count this process's pages copied by fork.
    rss = next(line for line in out.splitlines() if line.startswith("peak RSS"))
    print(f"\n== `pybnn bench mlp.bnn --batch 256`: {rss}")


def bars(isa, mlp, conv, all_threads, int8=None):
    """Issue 10's bars (medians), where this run measured them. int8:
    (binary ceiling, int8 ceiling, ConvNet MACs per image), 1 thread, to say
    what the ratio to ONNX Runtime's int8 model asks of pybnn here."""
    def check(what, value, op, need, unit=""):
        ok = value <= need if op == "<=" else value >= need
        print(f"bar {what}: {value:.3f}{unit} (need {op} {need}{unit}): {'PASS' if ok else 'FAIL'}")

    print("\n== bars (issue 10; medians)")
    two = 2 if all_threads >= 2 else None
    for name, rows in (("MLP", mlp), ("ConvNet", conv)):
        if two and ("scaling", two, 1) in rows:
            check(f"{name} batch 1, 2 threads / 1 thread (interleaved)", rows[("scaling", two, 1)], "<=", 0.6, "x")
    if isa.startswith("avx512"):
        if two and (two, 1) in mlp:
            check("MLP batch 1, 2 threads", mlp[(two, 1)]["pybnn"][0] * 1e3, "<=", 0.15, " ms")
        if (1, 1) in conv:
            check("ConvNet batch 1, 1 thread", conv[(1, 1)]["pybnn"][0] * 1e3, "<=", 0.95, " ms")
        if two and (two, 1) in conv:
            check("ConvNet batch 1, 2 threads", conv[(two, 1)]["pybnn"][0] * 1e3, "<=", 0.6, " ms")
    if (1, 1) in conv and (1, 32) in conv:
        check("ConvNet batch 32 / batch 1 per image, 1 thread",
              conv[(1, 32)]["pybnn"][0] / conv[(1, 1)]["pybnn"][0], "<=", 1.0, "x")
    for batch in (1, 32):
        row = conv.get((1, batch), {})
        if "ORT int8" in row:
            check(f"ConvNet vs ORT int8, batch {batch}, 1 thread", row["ORT int8"][0] / row["pybnn"][0], ">=", 3, "x")
            if int8:
                binary_ceiling, int8_ceiling, macs = int8
                ort = macs / row["ORT int8"][0] / int8_ceiling
                print(f"    (ORT int8 ran at {100 * ort:.0f}% of this core's int8 ceiling; 3x it needs pybnn at "
                      f"{100 * 3 * ort * int8_ceiling / binary_ceiling:.0f}% of the binary ceiling, which is "
                      f"{binary_ceiling / int8_ceiling:.2f}x the int8 one; pybnn ran at "
                      f"{100 * macs / row['pybnn'][0] / binary_ceiling:.0f}%)")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7, help="timings per figure; median and best printed")
    parser.add_argument("--batches", default="1,8,32,256", help="comma list of batch sizes")
    parser.add_argument("--cpu-time", action="store_true",
                        help="1 thread only, timed in this thread's CPU time (pybnn, numpy and ONNX Runtime "
                             "all run on it): on a shared machine, leaves out time given to others")
    args = parser.parse_args()
    try:
        batches = [int(b) for b in args.batches.split(",")]
    except ValueError:
        batches = []
    if not batches or min(batches) < 1:
        parser.error(f"--batches: expected a comma list of positive ints, got {args.batches!r}")
    info = pybnn.kernel_info()
    all_threads = info["threads"]
    thread_counts = sorted({1, all_threads})
    if args.cpu_time:
        global CLOCK
        CLOCK, thread_counts = time.thread_time, [1]
    print(f"pybnn {pybnn.__version__}, kernels {info['isa']}, {all_threads} threads; "
          f"medians (and best) of {args.runs} runs in {'CPU time, 1 thread' if args.cpu_time else 'wall clock'}; "
          f"baselines at batch {', '.join(map(str, BASELINE_BATCHES))}")
    ceilings = {}
    for t in thread_counts:
        ceilings[t] = ceiling.measure(_core.isa(), t, args.runs, streams=False)
        print(ceilings[t].describe())
    int8 = ceiling.int8_ceiling(_core.isa(), args.runs)
    if int8:
        print(f"int8 ceiling ({_core.isa()}, 1 thread): {int8[1] / 1e9:.1f} G int8-MAC/s per CPU-second "
              f"({int8[0]}; median of {args.runs} runs); binary ceiling / int8 ceiling: "
              f"{ceilings[1].cpu / int8[1]:.2f}x, how much faster a binary network can run than its int8 "
              f"twin on this core at equal efficiency")
    mlp = mlp_spec(np.random.default_rng(1))
    conv = convnet_spec(np.random.default_rng(2))
    print(f"\n== MLP 784-4096-4096-4096-10 ({binary_macs(mlp) / 1e6:.0f} M MACs/image)")
    mlp_rows = bench_net("mlp", mlp, args.runs, thread_counts, batches, ceilings)
    print(f"\n== ConvNet 2x128C3-MP2-2x256C3-MP2-2x512C3-MP2-2x1024FC-10 ({binary_macs(conv) / 1e6:.0f} M MACs/image)")
    conv_rows = bench_net("convnet", conv, args.runs, thread_counts, batches, ceilings)
    report_sizes([("mlp", mlp), ("convnet", conv)])
    report_bench_rss(mlp)
    bars(_core.isa(), mlp_rows, conv_rows, all_threads,
         (ceilings[1].cpu, int8[1], binary_macs(conv)) if int8 else None)


if __name__ == "__main__":
    main()
