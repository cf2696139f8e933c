"""The seam between a .bnn model and what runs it.

A backend is a module with one function,

    compile(source, threads=None, device=None) -> runner

where `source` is a ModelSource (source.path, source.data, and
source.graph(): the Graph validated once by the C reader, see graph.py), and
the runner has:

    run(x, threads=None)   x: C-contiguous uint8 (N, input_size) -> float32 (N, classes)
    input_shape, num_classes, threads (settable; None = the backend's default)
    backend                the backend's name
    device                 what it runs on, in words

and may be used from several Python threads at once. A backend may also
define usable() -> (bool, why not), for tests and tools that ask whether it
can run here (pybnn.backends.usable). pybnn.load picks a
backend by name. Backends are imported only when asked for, so optional
dependencies (pyopencl) are needed only by those who use them.
"""
import importlib

from .source import ModelSource

# name -> module that implements it (imported on first use).
BACKENDS = {
    "cpu": "pybnn.backends.cpu",
}


def names():
    """The names of the known backends."""
    return sorted(BACKENDS)


def get(name):
    """The backend module called `name`; ValueError lists the known ones."""
    if not isinstance(name, str) or name not in BACKENDS:
        raise ValueError(f"backend: expected one of {', '.join(map(repr, names()))}, "
                         f"got {name!r}")
    return importlib.import_module(BACKENDS[name])


def usable(name):
    """(True, "") if backend `name` can run here, else (False, why not): its
    optional dependencies or devices may be missing."""
    try:
        module = get(name)
    except ImportError as exc:
        return False, str(exc)
    check = getattr(module, "usable", None)
    return check() if check else (True, "")


def compile_model(source, backend="cpu", threads=None, device=None):
    """A runner for `source` (path or bytes) on `backend`."""
    module = get(backend)
    return module.compile(ModelSource(source), threads=threads, device=device)


__all__ = ["BACKENDS", "ModelSource", "compile_model", "get", "names", "usable"]
