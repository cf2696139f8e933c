"""Batch inference on Dask: lazy scores and predictions for dask arrays of images.

    import dask.array as da
    import pybnn.dask

    images = da.from_npy_stack("/shared/images")        # uint8 (N, *input_shape)
    labels = pybnn.dask.predict("model.bnn", images)     # lazy int64 (N,)
    labels.compute()                                     # or .to_zarr(...), etc.

Needs the `dask` extra: pip install 'pybnn[dask]' (dask[array], distributed).

How the work is split, and why:
- The model travels once per worker process, not once per chunk: it is one
  key of the graph (its bytes, or a path the workers can read), which the
  scheduler sends to a worker once, and every worker process keeps one loaded
  Model per model content (keyed by its SHA-256) for all the chunks it runs.
- Each chunk runs with one pybnn thread by default. A Dask worker with
  nthreads T runs up to T chunks at once and T is its share of the machine's
  cores, so one pybnn thread per running chunk keeps the worker at T busy
  cores; letting each chunk use every core would start T x cores threads.
  Only a chunk that runs alone in the caller's main thread (the synchronous
  scheduler) uses every core. `threads=` overrides this.
- Everything that can be checked on the client (dtype, shape, chunking, the
  model file itself) is checked before anything is scheduled.
"""
import collections
import hashlib
import multiprocessing
import os
import threading
import time
import warnings

import numpy as np

try:
    import dask
    import dask.array as da
except ImportError as exc:  # the optional extra is missing
    raise ImportError("pybnn.dask needs Dask: pip install 'pybnn[dask]' "
                      "(dask[array] and distributed)") from exc

from .errors import FormatError

# Chunks smaller than this spend more time in scheduling than in the engine for
# small models: Dask's documentation puts its overhead at up to about a
# millisecond per task, and the bundled MNIST MLP classifies 100 images in
# about half a millisecond (scripts/bench_dask.py measures the ConvNet's).
MIN_CHUNK_SAMPLES = 100
# Loaded models a worker process keeps (least recently used dropped first).
MAX_CACHED_MODELS = 4
SHIP_MODES = ("bytes", "path")


class ModelRef:
    """What travels to the workers: the model's bytes or a path they can
    read, its SHA-256 (the cache key) and the load options."""

    def __init__(self, sha256, data=None, path=None, backend="cpu", device=None):
        self.sha256, self.data, self.path = sha256, data, path
        self.backend, self.device = backend, device

    def cache_key(self):
        return (self.sha256, self.backend, self.device)

    def __dask_tokenize__(self):  # the graph's key: the content, not the object's identity
        return ("pybnn.dask.ModelRef", self.sha256, self.path, self.backend, self.device)

    def __repr__(self):
        where = f"path {self.path!r}" if self.path else f"{len(self.data)} bytes"
        return f"<pybnn model sha256 {self.sha256[:12]}, {where}>"


def scores(model, images, *, threads=None, backend="cpu", device=None, ship="bytes"):
    """Lazy float32 scores (N, classes) of `model` on the dask array `images`.

    model:   a .bnn path or its bytes. Validated here (the C reader) before
             anything is scheduled, and the input checked against it.
    images:  a dask array of uint8, shape (N, *model.input_shape), chunked
             along N (other chunkings are re-chunked to whole samples).
    threads: pybnn threads per chunk (default: 1 per chunk under a
             multi-threaded scheduler, see the module notes).
    backend, device: passed to pybnn.load on the workers (e.g. an OpenCL
             worker on its GPU); the client needs neither.
    ship:    "bytes" (default) sends the model's bytes to the workers;
             "path" sends only the path, for workers that share storage.
    """
    ref, input_shape, classes = _model_ref(model, backend, device, ship)
    images = _checked_images(images, input_shape)
    return da.map_blocks(_scores_block, images, dask.delayed(ref, pure=True), threads,
                         name=f"pybnn-scores-{dask.base.tokenize(ref, images, threads)}",
                         dtype=np.float32, meta=np.empty((0, 0), np.float32),
                         chunks=(images.chunks[0], (classes,)),
                         drop_axis=list(range(2, images.ndim)))


def predict(model, images, **options):
    """Lazy int64 class indices (N,): the argmax of `scores` (same options)."""
    s = scores(model, images, **options)
    return s.map_blocks(_argmax_rows, dtype=np.int64, drop_axis=1,
                        meta=np.empty((0,), np.int64))


def _argmax_rows(block):
    return np.argmax(block, axis=1).astype(np.int64, copy=False)


# --- checks on the client -------------------------------------------------

def _model_ref(model, backend, device, ship):
    """A ModelRef for `model`, plus its input shape and class count. The
    file is validated here (the C reader, as every backend does), so that a
    bad file fails now, not on the workers; the backend is only named here:
    the workers may have devices or libraries the client lacks."""
    from . import backends
    from .backends.graph import read_graph
    from .backends.source import read_regular_file
    if ship not in SHIP_MODES:
        raise ValueError(f"ship: expected one of {SHIP_MODES}, got {ship!r}")
    if backend not in backends.names():
        raise ValueError(f"backend: expected one of {', '.join(map(repr, backends.names()))}, "
                         f"got {backend!r}")
    if isinstance(model, (str, os.PathLike)):
        path = os.fspath(model)
        data = read_regular_file(path)
    elif isinstance(model, (bytes, bytearray, memoryview)):
        if ship == "path":
            raise ValueError("ship='path' needs the model as a path the workers can read, got bytes")
        path, data = None, bytes(model)
    else:
        raise TypeError(f"model: expected a .bnn path or bytes, got {type(model).__name__}")
    graph = read_graph(data)
    ref = ModelRef(hashlib.sha256(data).hexdigest(),
                   data=data if ship == "bytes" else None,
                   path=os.path.abspath(path) if ship == "path" else None,
                   backend=backend, device=device)
    return ref, tuple(graph.input_shape), graph.num_classes


def _checked_images(images, input_shape):
    """`images` checked against the model and chunked along N only."""
    if not isinstance(images, da.Array):
        raise TypeError(f"images: expected a dask.array.Array of uint8, got {type(images).__name__} "
                        f"(wrap a NumPy array with dask.array.from_array(x, chunks=(1000, ...)))")
    if images.dtype != np.uint8:
        raise ValueError(f"images: expected dtype uint8 (8-bit fixed point), got {images.dtype}")
    expected = "(N, " + ", ".join(map(str, input_shape)) + ")"
    if images.ndim != len(input_shape) + 1:
        raise ValueError(f"images: expected shape {expected}, got {images.ndim} dimensions "
                         f"{images.shape}")
    sample_shape = images.shape[1:]
    if any(np.isnan(d) for d in sample_shape):
        raise ValueError(f"images: the sample dimensions {sample_shape} have unknown chunk sizes; "
                         f"call images.compute_chunk_sizes() first")
    if tuple(sample_shape) != tuple(input_shape):
        raise ValueError(f"images: expected shape {expected}, got {images.shape}")
    if any(len(c) != 1 for c in images.chunks[1:]):
        # A sample split across chunks cannot be run; whole samples per chunk.
        images = images.rechunk({axis: -1 for axis in range(1, images.ndim)})
    _warn_if_tiny(images.chunks[0])
    return images


def _warn_if_tiny(sample_chunks):
    sizes = [c for c in sample_chunks if not np.isnan(c)]
    if len(sizes) < 2:
        return  # one chunk (or unknown sizes): nothing to say
    typical = int(np.median(sizes))
    if typical < MIN_CHUNK_SAMPLES:
        warnings.warn(f"images: chunks of about {typical} samples are tiny: scheduling a chunk "
                      f"costs up to about a millisecond, more than running it on a small model; "
                      f"re-chunk to at least {MIN_CHUNK_SAMPLES} (e.g. images.rechunk({{0: 1000}}))",
                      stacklevel=4)


# --- on the workers -------------------------------------------------------

_cache = collections.OrderedDict()  # ModelRef.cache_key() -> loaded Model
_cache_lock = threading.Lock()
_stats = {"loads": 0, "chunks": 0, "run_seconds": 0.0}


def worker_stats():
    """This process's counts: models loaded, chunks run and the seconds spent
    in Model.run (for tests and monitoring: `client.run(pybnn.dask.worker_stats)`)."""
    with _cache_lock:
        return dict(_stats)


def clear_cache():
    """Drop the models this process has loaded (they load again on next use)."""
    with _cache_lock:
        _cache.clear()


def _scores_block(block, ref, threads):
    model = _cached_model(ref)
    start = time.perf_counter()
    out = model.run(np.ascontiguousarray(block), threads=_threads_per_chunk(threads))
    seconds = time.perf_counter() - start
    with _cache_lock:
        _stats["chunks"] += 1
        _stats["run_seconds"] += seconds
    return out


def _cached_model(ref):
    """This process's Model for `ref`, loaded on first use. The lock keeps a
    worker's threads from loading the same model twice."""
    key = ref.cache_key()
    with _cache_lock:
        model = _cache.get(key)
        if model is None:
            model = _load_on_worker(ref)
            _stats["loads"] += 1
            _cache[key] = model
            while len(_cache) > MAX_CACHED_MODELS:
                _cache.popitem(last=False)
        _cache.move_to_end(key)
        return model


def _load_on_worker(ref):
    """Load `ref` here. A failure is re-raised as a plain exception of the
    same type (FormatError for a bad file) with the loader's text and where it
    happened, so that it reaches the client intact: no chained context, and
    nothing a backend library defines that the client could not unpickle."""
    from .backends.source import read_regular_file
    from .model import load
    where = _where()
    try:
        data = ref.data if ref.data is not None else read_regular_file(ref.path)
    except OSError as exc:
        raise OSError(exc.errno, f"{where}: cannot read model: {exc.strerror or exc}", ref.path) from None
    sha256 = hashlib.sha256(data).hexdigest()
    try:
        model = load(data, backend=ref.backend, device=ref.device)
    except Exception as exc:  # re-raised, never swallowed
        name = f" {ref.path}" if ref.path else ""
        note = " (its SHA-256 differs from the file the client read)" if sha256 != ref.sha256 else ""
        raise _plain(exc, f"{where}: cannot load model{name}{note}: {exc}") from None
    if sha256 != ref.sha256:
        raise ValueError(f"{where}: model {ref.path} differs from the file the client read "
                         f"(SHA-256 {sha256[:12]}, expected {ref.sha256[:12]}); "
                         f"is the shared storage the same?")
    return model


def _plain(exc, text):
    """`text` as an exception of exc's type when that is a built-in or a
    pybnn one (they pickle with one argument), else as a RuntimeError."""
    kind = type(exc)
    if kind.__module__ in ("builtins", "pybnn.errors"):
        try:
            return kind(text)
        except Exception:  # a built-in that wants other arguments
            pass
    return RuntimeError(f"{kind.__name__}: {text}")


def _where():
    worker = _current_worker()
    return f"worker {worker.address}" if worker is not None else f"process {os.getpid()}"


def _current_worker():
    try:
        from distributed import get_worker
        return get_worker()
    except (ImportError, ValueError):
        return None


def _threads_per_chunk(requested):
    if requested is not None:
        return requested
    alone = (_current_worker() is None
             and threading.current_thread() is threading.main_thread()
             and multiprocessing.parent_process() is None)
    return None if alone else 1
