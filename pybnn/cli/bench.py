"""`pybnn bench MODEL`: latency, throughput and peak memory of a model."""
import os
import statistics
import time

import numpy as np

from .args import add_backend_arguments, positive_int


def cmd_bench(args):
    """Latency and throughput of MODEL on random uint8 input, medians of --runs."""
    from .. import kernel_info, load
    model = load(args.model, threads=args.threads, backend=args.backend, device=args.device)
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (args.batch,) + tuple(model.input_shape), dtype=np.uint8)
    model.run(x)  # warm-up
    times = []
    for _ in range(args.runs):
        start = time.perf_counter()
        model.run(x)
        times.append(time.perf_counter() - start)
    t = statistics.median(times)
    where = (f"threads {model.threads or kernel_info()['threads']}" if model.backend == "cpu"
             else f"{model.backend} on {model.device}")
    print(f"model {os.path.basename(args.model)}: batch {args.batch}, {where}, "
          f"median of {args.runs} runs")
    print(f"latency    {t * 1e3:.3f} ms per batch ({t * 1e3 / args.batch:.4f} ms per sample)")
    print(f"throughput {args.batch / t:.1f} samples/s")
    print(f"peak RSS   {peak_rss_mib():.1f} MiB")
    return 0


def peak_rss_mib():
    """This process's peak resident memory. Linux: VmHWM, which starts afresh
    at exec (ru_maxrss would also count the pages of a parent that forked us)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 2**10
    except OSError:
        pass
    import resource
    import sys
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB; bytes on macOS
    return rss / 2**20 if sys.platform == "darwin" else rss / 2**10


def add_parser(sub):
    p = sub.add_parser("bench", help="latency and throughput of a .bnn model")
    p.add_argument("model", help="the .bnn file")
    p.add_argument("--batch", type=positive_int, default=1, help="samples per run (default 1)")
    add_backend_arguments(p)
    p.add_argument("--threads", type=positive_int, help="threads (default: every core)")
    p.add_argument("--runs", type=positive_int, default=20, help="timed runs; the median is shown (default 20)")
    p.set_defaults(func=cmd_bench)
