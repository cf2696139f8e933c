"""The OpenCL binary GEMM on its own: C = K - 2 * popcount(A XOR B^T) for packed
rows, as pybnn.bgemm computes on the CPU. For tests of the kernel over K and
tile edges, and for scripts/bench_opencl.py (operands stay on the device)."""
import numpy as np

from .opencl_cache import build_program
from .opencl_devices import choose_device, describe, device_type_name, import_pyopencl
from .opencl_plan import _ceil, _options, _vec, _weights_u32, default_tuning, tuned_options


class BinaryGemm:
    """bgemm kernels for one device; `tuning` overrides the device's defaults."""

    def __init__(self, device=None, **tuning):
        cl = self._cl = import_pyopencl()
        d = self.cl_device = choose_device(device)
        self.device = describe(d)
        self.tuning = default_tuning(device_type_name(d), d.vendor, d.name, d.local_mem_size)
        for key, value in tuning.items():
            setattr(self.tuning, key, value)
        self.context = cl.Context([d])
        self.queue = cl.CommandQueue(self.context)
        self._programs = {}

    def prepare(self, a, b, k):
        """Upload packed uint64 A (M, words) and B (N, words); return a function that runs
        the GEMM on the device (waiting for it) and one that reads C back as int32 (M, N)."""
        cl, t = self._cl, self.tuning
        a = np.ascontiguousarray(a, dtype="<u8")
        m, n, words = a.shape[0], b.shape[0], a.shape[1]
        cw = 2 * words
        opts = _options({"TM": t.tm, "TN": t.tn, "FUSE": 0, "PADDED": 0, "PAD_ZERO": 0,
                         **tuned_options(t, _vec(cw, t.max_vec))})
        if opts not in self._programs:
            self._programs[opts] = build_program(self.context, self.cl_device, "bgemm", opts)
        kernel = cl.Kernel(self._programs[opts], "bgemm")
        mf = cl.mem_flags
        a_buf = cl.Buffer(self.context, mf.READ_ONLY | mf.COPY_HOST_PTR, hostbuf=a.view("<u4"))
        b_buf = cl.Buffer(self.context, mf.READ_ONLY | mf.COPY_HOST_PTR,
                          hostbuf=_weights_u32(b, n))
        c_buf = cl.Buffer(self.context, mf.WRITE_ONLY, 4 * m * n)
        dummy = cl.Buffer(self.context, mf.READ_ONLY, 4)
        kernel.set_args(a_buf, c_buf, b_buf, dummy, dummy, dummy,  # no zeros: no tap table
                        *map(np.int32, (m, 1, 1, cw, 1, 1, 1, 1, 1, 1, 0, 0, n, k, k, 0,
                                        1, 1, 1, 1, 1, 1)))
        local = (1, t.local_rows) if t.local_words else None
        rows = _ceil(m, t.tm)
        if local:
            rows = _ceil(rows, local[1]) * local[1]
        grid = (_ceil(n, 32), rows)

        keep = (a_buf, b_buf, c_buf, dummy)  # kernel arguments do not hold their buffers

        def run(keep=keep):
            cl.enqueue_nd_range_kernel(self.queue, kernel, grid, local)
            self.queue.finish()

        def result():
            c = np.empty((m, n), dtype=np.int32)
            cl.enqueue_copy(self.queue, c, c_buf, is_blocking=True)
            return c
        return run, result

    def __call__(self, a, b, k):
        run, result = self.prepare(a, b, k)
        run()
        return result()
