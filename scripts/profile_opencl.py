"""Where the OpenCL backend's time goes: each kernel launch of one run of the
paper's ConvNet (or MLP) timed with OpenCL profiling events, next to the whole
run's wall time (the difference is host overhead: argument setting, launches,
the input upload and the scores' read-back).

    python scripts/profile_opencl.py [--model convnet|mlp] [--batch 32]
                                     [--device D] [--runs 5] [tuning=value ...]

Tuning overrides (e.g. tm=4 tn=4 max_vec=16 pack=1) are passed to the backend
as pybnn.backends.opencl.compile's keyword arguments. Random weights; the
scores are checked against the CPU backend first. Each figure is the best of
--runs runs (the machine may be shared: the minimum is the least disturbed).
"""
import argparse
import os
import sys
import time

import numpy as np

import pybnn
from pybnn import format as bnn_format

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from paper_models import convnet_spec, mlp_spec  # noqa: E402


def _value(text):
    try:
        return int(text)
    except ValueError:
        return text


def profiled_run(model, x):
    """(wall seconds, [(step, seconds)]) for one run with a profiling queue."""
    cl = model._cl
    st = model._thread_state()
    if not getattr(st, "profiling", False):
        st.queue = cl.CommandQueue(model.context, model.cl_device,
                                   properties=cl.command_queue_properties.PROFILING_ENABLE)
        st.profiling = True
    events = []
    enqueue = cl.enqueue_nd_range_kernel

    def recording(queue, kernel, grid, local, *args, **kwargs):
        event = enqueue(queue, kernel, grid, local, *args, **kwargs)
        events.append(event)
        return event
    cl.enqueue_nd_range_kernel = recording
    try:
        start = time.perf_counter()
        model.run(x)
        wall = time.perf_counter() - start
    finally:
        cl.enqueue_nd_range_kernel = enqueue
    steps = [s for s in model.steps if s.op]
    assert len(events) == len(steps), "one launch per step and chunk expected"
    return wall, [(s, (e.profile.end - e.profile.start) * 1e-9) for s, e in zip(steps, events)]


def describe(step):
    shape = "x".join(map(str, step.out.shape))
    layers = ",".join(map(str, step.layers))
    return f"{step.kernel:<13} layers {layers:<6} -> {step.out.domain:<6} {shape:<12}"


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", choices=("convnet", "mlp"), default="convnet")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--device")
    p.add_argument("--runs", type=int, default=10)
    p.add_argument("tuning", nargs="*", help="name=value overrides of the device's Tuning")
    args = p.parse_args()
    tuning = dict((kv.split("=", 1)[0], _value(kv.split("=", 1)[1])) for kv in args.tuning)
    rng = np.random.default_rng(0)
    spec = convnet_spec(rng) if args.model == "convnet" else mlp_spec(rng)
    data = bnn_format.to_bytes(spec)
    from pybnn.backends import opencl
    model = opencl.compile(data, device=args.device, **tuning)
    x = rng.integers(0, 256, (args.batch,) + tuple(spec.input_shape), dtype=np.uint8)
    want = pybnn.load(data).run(x)
    x = x.reshape(args.batch, -1)
    assert np.array_equal(model.run(x), want), "OpenCL scores differ from the CPU's"
    print(f"{args.model} batch {args.batch} on {model.device}; tuning {model.tuning}")
    profiled_run(model, x)  # warm-up
    runs = [profiled_run(model, x) for _ in range(args.runs)]
    wall = min(r[0] for r in runs)
    per_step = [min(r[1][i][1] for r in runs) for i in range(len(runs[0][1]))]
    kernels = sum(per_step)
    for (step, _), seconds in zip(runs[0][1], per_step):
        print(f"  {describe(step)} {seconds * 1e3:9.3f} ms {100 * seconds / wall:5.1f}%  "
              f"{step.options}")
    print(f"  kernels {kernels * 1e3:.3f} ms, wall {wall * 1e3:.3f} ms "
          f"({wall * 1e3 / args.batch:.3f} ms/image), host and transfers "
          f"{(wall - kernels) * 1e3:.3f} ms")


if __name__ == "__main__":
    main()
