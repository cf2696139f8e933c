"""The OpenCL backend: a validated Graph compiled into kernel launches.

    model = pybnn.load("mnist.bnn", backend="opencl", device="gpu")
    scores = model.run(x)          # the CPU backend's scores, bit for bit

At load: the device is chosen (opencl_devices), the programs are built or
fetched from the disk cache (opencl_cache), the plan is made (opencl_plan)
and every tensor is uploaded once. A run uploads the input, enqueues the
layers and reads the scores back, a chunk of samples at a time so any batch
fits the device's memory. One model may run on several Python threads at
once: each thread gets its own queue, kernel objects and scratch buffers
(OpenCL kernel arguments are per kernel object, not per call).
"""
import threading

import numpy as np

from ..errors import OpenCLError
from .opencl_cache import build_program
from .opencl_devices import choose_device, describe, device_type_name, import_pyopencl, platforms
from .source import ModelSource
from .opencl_plan import default_tuning, plan

NAME = "opencl"
INDEX_LIMIT = 2**31 - 1  # kernels index buffers with int


def compile(source, threads=None, device=None, **tuning):
    """An OpenCLModel for `source` (anything with .graph(), or a path / bytes).

    `threads` is accepted for the seam's sake (the device schedules its own
    work-items). Keyword overrides of the device's default Tuning (tm, tn,
    max_vec, local_words, local_rows, fuse) are for tests and benchmarks.
    """
    return OpenCLModel(_graph(source), device=device, **tuning)


def _graph(source):
    if not hasattr(source, "graph"):
        source = ModelSource(source)
    return source.graph()


def usable():
    """(True, "") when pyopencl and at least one OpenCL device are present."""
    try:
        platforms()
    except OpenCLError as exc:
        return False, str(exc)
    return True, ""


class OpenCLModel:
    backend = NAME

    def __init__(self, graph, device=None, **overrides):
        cl = import_pyopencl()
        self._cl = cl
        self.graph = graph
        self.cl_device = choose_device(device)
        self.device = describe(self.cl_device)
        d = self.cl_device
        self.tuning = default_tuning(device_type_name(d), d.vendor, d.name, d.local_mem_size)
        for key, value in overrides.items():
            if not hasattr(self.tuning, key):
                raise TypeError(f"compile: unknown tuning option {key!r}")
            setattr(self.tuning, key, value)
        try:
            self.context = cl.Context([d])
        except cl.Error as exc:
            raise OpenCLError(f"OpenCL: cannot open a context on {self.device}: {exc}") from exc
        self.steps = plan(graph, self.tuning)
        self._check_device_limits()
        self._programs = {}
        for step in self.steps:
            if step.op and (step.op, step.options) not in self._programs:
                self._programs[(step.op, step.options)] = build_program(
                    self.context, d, step.op, step.options)
        mf = cl.mem_flags
        self._buffers = [{name: cl.Buffer(self.context, mf.READ_ONLY | mf.COPY_HOST_PTR,
                                          hostbuf=array)
                          for name, array in step.data.items()} for step in self.steps]
        self._chunk = self._chunk_size()
        self._local = threading.local()

    @property
    def input_shape(self):
        return tuple(self.graph.input_shape)

    @property
    def num_classes(self):
        return self.graph.num_classes

    @property
    def threads(self):
        """None: the device decides its own parallelism (kept for the seam)."""
        return None

    @threads.setter
    def threads(self, value):
        pass  # an OpenCL device schedules its own work-items

    def _check_device_limits(self):
        d = self.cl_device
        for step in self.steps:
            if step.local:
                need = step.local[1]
                if need > d.max_work_group_size:
                    raise OpenCLError(f"OpenCL: {self.device} allows work-groups of at most "
                                      f"{d.max_work_group_size}, the local-memory tile needs "
                                      f"{need} (compile with local_words=0)")
        if not d.get_info(self._cl.device_info.COMPILER_AVAILABLE):
            raise OpenCLError(f"OpenCL: {self.device} has no kernel compiler "
                              "(CL_DEVICE_COMPILER_AVAILABLE is false)")

    def _chunk_size(self):
        """Samples per chunk: every buffer within the device's allocation limit, int indices,
        and all of them together within half the device's memory."""
        d = self.cl_device
        sizes = [self.steps[0].inp.bytes_per_sample()] + \
                [s.out.bytes_per_sample() for s in self.steps]
        biggest = max(sizes)
        total = sizes[0] + 2 * biggest + sizes[-1]
        n = min(d.max_mem_alloc_size // biggest, (d.global_mem_size // 2) // total,
                INDEX_LIMIT * 4 // biggest, 4096)
        if n < 1:
            raise OpenCLError(f"OpenCL: one sample needs {biggest} bytes in one buffer; "
                              f"{self.device} allows {d.max_mem_alloc_size}")
        return int(n)

    def _thread_state(self):
        """This thread's queue, kernel objects and scratch buffers."""
        st = self._local
        if not hasattr(st, "queue"):
            cl = self._cl
            st.queue = cl.CommandQueue(self.context, self.cl_device)
            st.kernels = [cl.Kernel(self._programs[(s.op, s.options)], s.kernel) if s.op else None
                          for s in self.steps]
            st.scratch, st.scratch_n = None, 0
            st.bound = None  # (samples, scratch size) the kernels' arguments were set for
        return st

    def _scratch(self, st, n):
        if st.scratch_n < n:
            cl, mf = self._cl, self._cl.mem_flags
            biggest = max(s.out.bytes_per_sample() for s in self.steps)
            st.scratch = (cl.Buffer(self.context, mf.READ_ONLY, n * self.steps[0].inp.bytes_per_sample()),
                          cl.Buffer(self.context, mf.READ_WRITE, n * biggest),
                          cl.Buffer(self.context, mf.READ_WRITE, n * biggest))
            st.scratch_n = n
        return st.scratch

    def run(self, x, threads=None):
        """float32 scores (N, classes) for C-contiguous uint8 x (N, input_size)."""
        return self._run(x, keep=False)[0]

    def run_layers(self, x):
        """Every layer's output, for tests: ints int32, bits +-1 int8, u8 uint8, scores
        float32, each (N, *shape); None for a layer fused into the next one's kernel."""
        return self._run(x, keep=True)[1]

    def _run(self, x, keep):
        x = np.ascontiguousarray(x, dtype=np.uint8)
        if x.ndim != 2 or x.shape[1] != self.graph.input_size:
            raise ValueError(f"input: expected (N, {self.graph.input_size}) uint8, got {x.shape}")
        st = self._thread_state()
        scores = np.empty((x.shape[0], self.num_classes), dtype=np.float32)
        layers = [[] for _ in self.graph.layers] if keep else None
        for start in range(0, x.shape[0], self._chunk):
            part = x[start:start + self._chunk]
            self._run_chunk(st, part, scores[start:start + len(part)], layers)
        if keep:
            layers = [np.concatenate(parts) if parts and parts[0] is not None else None
                      for parts in layers]
        return scores, layers

    def _run_chunk(self, st, x, scores, layers):
        cl, q, n = self._cl, st.queue, x.shape[0]
        inp, ping, pong = self._scratch(st, n)
        cl.enqueue_copy(q, inp, x)
        # The arguments depend only on n and the scratch buffers (the ping-pong order is
        # fixed): set once, not per run (setting them took ~1.6 ms of Python per ConvNet
        # run, on a core the device's threads need on a CPU device).
        bind = st.bound != (n, st.scratch_n)
        st.bound = None  # until every kernel has them
        src, free = inp, [ping, pong]
        for step, kernel, bufs in zip(self.steps, st.kernels, self._buffers):
            if kernel is None:  # a flatten that moves nothing
                dst = src
            else:
                dst = free.pop(0)
                if bind:
                    tensors = [bufs[name] for name in step.tensors]
                    kernel.set_args(src, dst, *tensors, *[np.int32(a) for a in step.args(n)])
                cl.enqueue_nd_range_kernel(q, kernel, step.grid(n), step.local)
                if src is not inp:
                    free.append(src)
            if layers is not None:
                self._keep(q, step, dst, n, layers)
            src = dst
        st.bound = (n, st.scratch_n)
        cl.enqueue_copy(q, scores, src, is_blocking=True)

    def _keep(self, q, step, buf, n, layers):
        for index in step.layers[:-1]:
            layers[index].append(None)
        act = step.out
        dtype = {"u8": np.uint8, "int": np.int32, "scores": np.float32, "bits": np.uint32}[act.domain]
        host = np.empty(n * act.bytes_per_sample() // np.dtype(dtype).itemsize, dtype=dtype)
        self._cl.enqueue_copy(q, host, buf, is_blocking=True)
        if act.domain == "bits":
            words = host.reshape(n * act.pixels, act.cw).view("<u8")
            from ..format.bitrows import unpack_rows
            host = unpack_rows(words, act.channels)
        layers[step.layers[-1]].append(host.reshape((n,) + act.shape))
