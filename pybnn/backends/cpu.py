"""The CPU backend: the C engine (src/cpu/) through pybnn._core. It loads
the file itself (memory-mapped, tensors used in place), so the graph is
read and validated once, in C, and planned for the CPU there."""
from .. import _core


def compile(source, threads=None, device=None):
    """A runner for `source` (a ModelSource) on this CPU's best kernels."""
    if device not in (None, "cpu"):
        raise ValueError(f"device: the cpu backend runs on this CPU only (device=None or "
                         f"'cpu'), got {device!r}")
    return CpuRunner(source, threads)


class CpuRunner:
    backend = "cpu"

    def __init__(self, source, threads):
        self._c = _core.CModel(source.path if source.path is not None else source.data)
        if threads is not None:
            self._c.set_threads(threads)

    @property
    def device(self):
        return f"CPU ({_core.isa()} kernels)"

    @property
    def input_shape(self):
        return self._c.input_dims

    @property
    def num_classes(self):
        return self._c.num_classes

    @property
    def threads(self):
        return self._c.threads

    @threads.setter
    def threads(self, value):
        self._c.set_threads(value)

    def run(self, x, threads=None):
        return self._c.run(x, threads=threads)
