"""Load a .bnn model and run it on a backend (pybnn/backends/).

    model = pybnn.load("mnist.bnn")        # or bytes; threads=None: every CPU
    scores = model.run(x)                   # x: uint8 (N, *model.input_shape)
    labels = model.predict(x)

The C reader validates the file completely (FormatError names the field),
for every backend. Input checks happen here, before any backend runs:
dtype uint8, shape (N, *input_shape) (a single sample of shape input_shape
is accepted too).
"""
import numpy as np

from .backends import compile_model


def load(source, threads=None, backend="cpu", device=None):
    """A Model from a .bnn path (memory-mapped by the cpu backend) or
    bytes-like data (copied), run by `backend` ("cpu", the default; see
    pybnn.backends.names()) on `device` (backend-specific; None: its default)."""
    return Model(source, threads=threads, backend=backend, device=device)


class Model:
    """A loaded .bnn model. Thread-safe: one Model may run on several threads at once."""

    def __init__(self, source, threads=None, backend="cpu", device=None):
        self._runner = compile_model(source, backend=backend, threads=threads, device=device)
        self._source = source
        # Fixed for the model's life; kept here so a batch-1 run pays no lookups.
        self._input_shape = tuple(int(d) for d in self._runner.input_shape)
        self._input_size = int(np.prod(self._input_shape))

    @property
    def backend(self):
        """The name of the backend that runs this model."""
        return self._runner.backend

    @property
    def device(self):
        """What the backend runs on, in words."""
        return self._runner.device

    @property
    def input_shape(self):
        """Shape of one sample: (features,) or (H, W, C); dtype uint8."""
        return self._input_shape

    @property
    def input_size(self):
        """uint8 values per sample."""
        return self._input_size

    @property
    def num_classes(self):
        return self._runner.num_classes

    @property
    def threads(self):
        """Default threads of run(); None means every CPU this process may use."""
        return self._runner.threads

    @threads.setter
    def threads(self, value):
        self._runner.threads = value

    def workspace_bytes(self, n):
        """Bytes of working memory run() allocates for a batch of n samples."""
        return self._runner.workspace_bytes(n)

    @property
    def workspace_limit(self):
        """Bytes a run may allocate (cpu default: PYBNN_WORKSPACE_LIMIT, else half
        of physical memory); a run that needs more raises MemoryError before
        allocating. Set None to restore the default."""
        return self._runner.workspace_limit

    @workspace_limit.setter
    def workspace_limit(self, value):
        self._runner.workspace_limit = value

    def _batch(self, x):
        """x as a C-contiguous (N, input_size) uint8 view; whether it was one sample."""
        if not isinstance(x, np.ndarray):
            raise ValueError(f"input: expected a numpy.ndarray of uint8, got {type(x).__name__}")
        if x.dtype != np.uint8:
            raise ValueError(f"input: expected dtype uint8 (8-bit fixed point), got {x.dtype}")
        shape = tuple(self.input_shape)
        if x.shape == shape:
            single = True
        elif x.ndim == len(shape) + 1 and x.shape[1:] == shape:
            single = False
        else:
            raise ValueError(f"input: expected shape (N, {', '.join(map(str, shape))}) or "
                             f"{shape} for one sample, got {x.shape}")
        return np.ascontiguousarray(x).reshape(-1, self.input_size), single

    def run(self, x, threads=None):
        """float32 scores (N, num_classes) for uint8 x of shape (N, *input_shape)."""
        batch, single = self._batch(x)
        scores = self._runner.run(batch, threads=threads)
        return scores[0] if single else scores

    __call__ = run

    def predict(self, x, threads=None):
        """The class with the highest score per sample (int64)."""
        return np.argmax(self.run(x, threads=threads), axis=-1)

    def spec(self):
        """The model as a pybnn.format.ModelSpec (read again by pybnn.format)."""
        from .format import read
        return read(self._source)

    def summary(self):
        """A table of the layers: shapes, parameters, bytes, MACs."""
        from .summary import summarize_file
        return (summarize_file(self._source) +
                f"\nworkspace: {self.workspace_bytes(1):,} bytes for 1 sample, "
                f"{self.workspace_bytes(256):,} for 256 (limit {self.workspace_limit:,})")

    def __repr__(self):
        return (f"<pybnn.Model input {tuple(self.input_shape)} uint8 -> "
                f"{self.num_classes} scores on {self.backend}>")
