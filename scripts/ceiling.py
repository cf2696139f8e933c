"""The XOR + popcount ceilings of a pybnn kernel set, measured on this machine
(used by bench_bgemm.py and bench_models.py).

ALU ceiling: XOR, popcount and accumulate on registers only (no loads), with
enough independent accumulators to hide latency, in every form the kernel set
has (pybnn._core.roofline_alu_forms); the best form is the ceiling. No bgemm
of that kernel set can do binary MACs faster (one MAC = one bit-op), so every
"% of peak" figure is taken against it; a kernel measured above it by more
than the noise means the ceiling (or the timing) is wrong, and the benchmarks
fail loudly.

Streaming rates: the same work over two arrays read from L1 or L2 with no
reuse (pybnn._core.roofline_xor_popcount), reported beside it: a GEMM reuses
every loaded vector across a tile, so it may beat these but not the ALU.

With T threads, T copies run side by side (the GIL is released). The ALU
ceiling is timed twice: in wall-clock time, round-robin with what it is
compared to, and in each copy's own CPU time (time.thread_time), which
leaves out the time the OS gave the core to other processes: on a shared
machine that is the ceiling of T undisturbed cores, the one no kernel can
beat, and the "% of ceiling" figures and the exceeded-ceiling check use it."""
import os
import statistics
import threading
import time

import numpy as np

from pybnn import _core

MIN_RUN_SECONDS = 0.05
# The clock of rate_samples: wall clock, or time.thread_time for 1-thread
# figures on a shared machine (bench_bgemm.py --cpu-time).
CLOCK = time.perf_counter
STREAM_SIZES = {"L1": 1024, "L2": 16384}   # words per array: 2 x 8 KiB, 2 x 128 KiB
# A kernel may show above the ceiling by timing noise alone; beyond this
# fraction plus the ceiling's own spread across runs, something is wrong.
NOISE_FLOOR = 0.03


def side_by_side(fn, threads):
    """fn() on `threads` threads at once (fn releases the GIL)."""
    if threads == 1:
        return fn
    def run():
        workers = [threading.Thread(target=fn) for _ in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
    return run


def _reps_for(fn_of_reps, start=64):
    """Reps that make one call of fn_of_reps last about MIN_RUN_SECONDS / 2."""
    reps = start
    while True:
        t = time.perf_counter()
        fn_of_reps(reps)
        dt = time.perf_counter() - t
        if dt >= MIN_RUN_SECONDS / 8:
            return max(1, int(reps * MIN_RUN_SECONDS / 2 / dt))
        reps *= 4


def alu_benches(isa, threads):
    """{label: (fn, bit-ops per call)}: every ALU form of kernel set isa,
    on `threads` threads side by side."""
    benches = {}
    for index, (name, bits) in enumerate(_core.roofline_alu_forms(isa)):
        reps = _reps_for(lambda r, i=index: _core.roofline_alu(isa, i, r), 1024)
        fn = side_by_side(lambda i=index, r=reps: _core.roofline_alu(isa, i, r), threads)
        benches[f"alu: {name}"] = (fn, reps * bits * threads)
    return benches


def stream_benches(isa, threads):
    """{label: (fn, bit-ops per call)}: the streaming rates from L1 and L2."""
    rng = np.random.default_rng(2)
    benches = {}
    try:
        _core.roofline_xor_popcount(isa, *(np.zeros(_core.ROOFLINE_WORDS_MULTIPLE, np.uint64),) * 2, 1)
    except NotImplementedError:
        return benches  # this kernel set has no streaming kernel: ALU ceiling only
    for level, words in STREAM_SIZES.items():
        a = rng.integers(0, 2**63, words, dtype=np.uint64)
        b = rng.integers(0, 2**63, words, dtype=np.uint64)
        reps = _reps_for(lambda r: _core.roofline_xor_popcount(isa, a, b, r), 1)
        fn = side_by_side(lambda a=a, b=b, r=reps: _core.roofline_xor_popcount(isa, a, b, r), threads)
        benches[f"stream {level} (2 x {words * 8 // 1024} KiB)"] = (fn, words * 64 * reps * threads)
    return benches


def l2_bytes():
    """This machine's L2 per core in bytes (Linux sysfs), or None."""
    base = "/sys/devices/system/cpu/cpu0/cache"
    try:
        for index in sorted(os.listdir(base)):
            with open(f"{base}/{index}/level") as f:
                level = f.read().strip()
            with open(f"{base}/{index}/type") as f:
                kind = f.read().strip()
            if level == "2" and kind in ("Unified", "Data"):
                with open(f"{base}/{index}/size") as f:
                    size = f.read().strip()
                scale = {"K": 1 << 10, "M": 1 << 20}.get(size[-1:], 1)
                return int(size.rstrip("KM")) * scale
    except (OSError, ValueError):
        pass
    return None


def stream_once_bench(isa, words, threads):
    """(fn, bit-ops per call) or None: XOR + popcount + accumulate over one
    array of `words` words (each of `threads` threads its own share, side by
    side), passed as both operands, so every vector comes from where the
    array lives once per pass (the second load hits L1). Where each share is
    larger than L2, it tells how fast memory delivers a B of that size to a
    product with one row, each bit of B being one MAC: a reference for that
    product, which the ALU ceiling is far from. Not a hard bound: its
    second load still costs, and a bgemm may pass it by 10%; from L1 or L2
    those loads bind it outright, so it is not taken there."""
    step = _core.ROOFLINE_WORDS_MULTIPLE
    share = max(step, -(-words // threads // step) * step)
    x = np.random.default_rng(3).integers(0, 2**63, share, dtype=np.uint64)
    try:
        _core.roofline_xor_popcount(isa, x, x, 1)
    except NotImplementedError:
        return None
    reps = _reps_for(lambda r: _core.roofline_xor_popcount(isa, x, x, r), 1)
    fn = side_by_side(lambda r=reps: _core.roofline_xor_popcount(isa, x, x, r), threads)
    return fn, share * 64 * reps * threads


def rate_samples(benches, repeats):
    """Round-robin `repeats` timed runs of each bench (each repeating its call
    for MIN_RUN_SECONDS): {label: [work/s per run]}."""
    calls = {}
    for label, (fn, _) in benches.items():
        fn()
        t = CLOCK()
        fn()
        calls[label] = max(1, int(MIN_RUN_SECONDS / max(CLOCK() - t, 1e-7)))
    samples = {label: [] for label in benches}
    for _ in range(repeats):
        for label, (fn, work) in benches.items():
            t = CLOCK()
            for _ in range(calls[label]):
                fn()
            samples[label].append(work * calls[label] / max(CLOCK() - t, 1e-9))
    return samples


def alu_cpu_rate(isa, threads, repeats, kind="binary"):
    """{form name: [ops per CPU-second of `threads` copies side by side, one
    per run]}: each copy times itself with time.thread_time. kind: "binary"
    (bit-ops) or "int8" (int8 MACs), as in pybnn._core.roofline_alu_forms."""
    out = {}
    for index, (name, ops) in enumerate(_core.roofline_alu_forms(isa, kind)):
        reps = _reps_for(lambda r, i=index: _core.roofline_alu(isa, i, r, kind), 1024)
        runs = []
        for _ in range(repeats):
            rates = []

            def one():
                t = time.thread_time()
                _core.roofline_alu(isa, index, reps, kind)
                rates.append(reps * ops / max(time.thread_time() - t, 1e-9))
            side_by_side(one, threads)()
            runs.append(sum(rates))
        out[name] = runs
    return out


def int8_ceiling(isa, repeats):
    """(form, int8 MACs per CPU-second of one core) of the best int8
    multiply-accumulate form of kernel set isa (VNNI where it has it; median
    of `repeats` runs), or None where it has none: what an int8 network can
    reach on this core, against which pybnn's ratio to one (ONNX Runtime's
    int8 models in bench_models.py) is bounded by the binary ceiling over
    this one at equal efficiency."""
    runs = alu_cpu_rate(isa, 1, repeats, kind="int8")
    if not runs:
        return None
    form = max(runs, key=lambda k: statistics.median(runs[k]))
    return form, statistics.median(runs[form])


class Ceiling:
    """The measured ceilings of one kernel set at one thread count."""

    def __init__(self, isa, threads, samples, cpu_samples):
        self.isa, self.threads = isa, threads
        # the ceiling in CPU time: best form, median of its runs
        cpu_form = max(cpu_samples, key=lambda k: statistics.median(cpu_samples[k]))
        self.cpu_form, self.cpu = cpu_form, statistics.median(cpu_samples[cpu_form])
        alu = {k: v for k, v in samples.items() if k.startswith("alu: ")}
        if not alu:
            raise RuntimeError(f"kernel set {isa!r} has no ALU ceiling form (pybnn._core.roofline_alu_forms)")
        self.form = max(alu, key=lambda k: statistics.median(alu[k]))[len("alu: "):]
        self.runs = alu["alu: " + self.form]
        self.rate = statistics.median(self.runs)
        self.best = max(self.runs)
        self.forms = {k[len("alu: "):]: statistics.median(v) for k, v in alu.items()}
        self.streams = {k: statistics.median(v) for k, v in samples.items() if k.startswith("stream")}

    def exceeded_by(self, rate, other_best=0.0):
        """Fraction by which `rate` (a kernel's best run) lies above the
        ceiling by more than NOISE_FLOOR, or None. The ceiling here is the
        highest of the CPU-time ceiling and the best wall-clock runs (here or
        `other_best`, a later one): load from elsewhere cannot raise a false
        alarm."""
        over = rate / max(self.cpu, self.best, other_best) - 1
        return over if over > NOISE_FLOOR else None

    def describe(self):
        lines = [f"ALU ceiling ({self.isa}, {self.threads} thread(s)): {self.cpu / 1e9:.1f} Gbit-op/s "
                 f"per CPU-second of {self.threads} core(s) ({self.cpu_form}; median of {len(self.runs)} runs); "
                 f"wall clock: {self.rate / 1e9:.1f} median, {self.best / 1e9:.1f} best ({self.form})"]
        for name, rate in self.forms.items():
            if name != self.form:
                lines.append(f"  other form: {name}: {rate / 1e9:.1f} Gbit-op/s")
        for name, rate in self.streams.items():
            lines.append(f"  {name}: {rate / 1e9:.1f} Gbit-op/s wall clock ({100 * rate / self.rate:.0f}% of the "
                         f"wall-clock ALU ceiling)")
        return "\n".join(lines)


def measure(isa, threads, repeats, streams=True):
    """Ceiling of kernel set isa on `threads` threads, `repeats` runs per form."""
    benches = alu_benches(isa, threads)
    if streams:
        benches.update(stream_benches(isa, threads))
    return Ceiling(isa, threads, rate_samples(benches, repeats), alu_cpu_rate(isa, threads, repeats))
