#!/usr/bin/env python3
"""Benchmark the paper's networks on the pybnn engine against float32 NumPy
forwards of the same architectures, all in one run on this machine.

    python scripts/bench_models.py [--runs 7] [--quick]

Prints medians of --runs repetitions. Random weights: speed does not depend
on them. Needs threadpoolctl (pip install 'pybnn[bench]')."""
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
from pybnn import format as bnn_format

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from paper_models import convnet_spec, float32_forward, float32_params, mlp_spec  # noqa: E402


def median_seconds(fn, runs, min_time=0.05):
    """Median over `runs` timings; each timing repeats fn until min_time passes."""
    fn()  # warm-up
    samples = []
    for _ in range(runs):
        reps, start = 0, time.perf_counter()
        while True:
            fn()
            reps += 1
            elapsed = time.perf_counter() - start
            if elapsed >= min_time:
                break
        samples.append(elapsed / reps)
    return statistics.median(samples)


def binary_macs(spec):
    """MACs per sample of every weighted layer (the first layer's 8-bit x 1-bit included)."""
    from pybnn.summary import layer_stats
    return sum(s["binary_macs"] + s["first_macs"] for s in layer_stats(spec))


def bgemm_peak(threads, runs):
    """Best bgemm MAC/s over a few large shapes (the kernels benchmark's peak)."""
    rng = np.random.default_rng(0)
    best = 0.0
    for m, n, k in [(1024, 1024, 1024), (256, 4096, 4096), (1024, 1024, 4608)]:
        a = rng.integers(0, 2**63, (m, (k + 63) // 64), dtype=np.uint64)
        b = rng.integers(0, 2**63, (n, (k + 63) // 64), dtype=np.uint64)
        t = median_seconds(lambda: pybnn.bgemm(a, b, k, threads=threads), runs)
        best = max(best, m * n * k / t)
    return best


def bench_mlp(runs, all_threads):
    rng = np.random.default_rng(1)
    spec = mlp_spec(rng)
    model = pybnn.load(bnn_format.to_bytes(spec))
    params = float32_params(spec)
    print("\n== MLP 784-4096-4096-4096-10")
    print(f"{'threads':>7} {'batch':>5} {'pybnn':>14} {'numpy f32':>14} {'speed-up':>9}")
    for threads in (1, all_threads):
        for batch in (256, 1):
            x = rng.integers(0, 256, (batch, 784), dtype=np.uint8)
            t_bnn = median_seconds(lambda: model.run(x, threads=threads), runs)
            with threadpool_limits(limits=threads):
                t_np = median_seconds(lambda: float32_forward(params, x), runs)
            unit = (lambda t: f"{batch / t:10.0f} im/s") if batch > 1 else (lambda t: f"{t * 1e3:10.3f} ms")
            print(f"{threads:>7} {batch:>5} {unit(t_bnn):>14} {unit(t_np):>14} {t_np / t_bnn:8.1f}x")
    return spec


def bench_convnet(runs, all_threads):
    rng = np.random.default_rng(2)
    spec = convnet_spec(rng)
    model = pybnn.load(bnn_format.to_bytes(spec))
    params = float32_params(spec)
    macs = binary_macs(spec)
    print(f"\n== ConvNet 2x128C3-MP2-2x256C3-MP2-2x512C3-MP2-2x1024FC-10 ({macs / 1e6:.0f} M MACs/image)")
    print(f"{'threads':>7} {'batch':>5} {'pybnn ms/im':>12} {'numpy ms/im':>12} {'speed-up':>9} "
          f"{'GMAC/s':>8} {'bgemm peak':>10} {'of peak':>8}")
    for threads in (1, all_threads):
        peak = bgemm_peak(threads, runs)
        for batch in (1, 32):
            x = rng.integers(0, 256, (batch, 32, 32, 3), dtype=np.uint8)
            t_bnn = median_seconds(lambda: model.run(x, threads=threads), runs) / batch
            with threadpool_limits(limits=threads):
                t_np = median_seconds(lambda: float32_forward(params, x), max(3, runs // 2)) / batch
            rate = macs / t_bnn
            print(f"{threads:>7} {batch:>5} {t_bnn * 1e3:12.3f} {t_np * 1e3:12.3f} {t_np / t_bnn:8.1f}x "
                  f"{rate / 1e9:8.1f} {peak / 1e9:10.1f} {rate / peak:7.0%}")
    return spec


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


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7, help="timings per figure; the median is printed")
    args = parser.parse_args()
    info = pybnn.kernel_info()
    all_threads = info["threads"]
    print(f"pybnn {pybnn.__version__}, kernels {info['isa']}, {all_threads} threads")
    mlp = bench_mlp(args.runs, all_threads)
    conv = bench_convnet(args.runs, all_threads)
    report_sizes([("mlp", mlp), ("convnet", conv)])
    report_bench_rss(mlp)


if __name__ == "__main__":
    main()
