"""What pybnn.load hands a backend: the model's bytes or path, and its
validated graph on demand (read once, by the C reader)."""
import os

from ..format.file import map_file
from .graph import read_graph


class ModelSource:
    """A .bnn model to compile: `path` (a file, or None) and `data` (its
    bytes, read on first use), and `graph()`, the validated Graph."""

    def __init__(self, source):
        if isinstance(source, (str, os.PathLike)):
            self.path = os.fspath(source)
            self._data = None
        elif isinstance(source, (bytes, bytearray, memoryview)):
            self.path = None
            self._data = bytes(source)
        else:
            raise TypeError(f"load: expected a path or bytes, got {type(source).__name__}")
        self._graph = None

    @property
    def data(self):
        if self._data is None:
            self._data = read_regular_file(self.path)
        return self._data

    def graph(self):
        if self._graph is None:
            self._graph = read_graph(self.data)
        return self._graph

    def __repr__(self):
        return f"ModelSource({self.path!r})" if self.path else f"ModelSource(<{len(self._data)} bytes>)"


def read_regular_file(path):
    """The bytes of a regular .bnn file; a FIFO, device or folder is refused
    without blocking, and a file whose size disagrees with its header before
    its payload is read (pybnn.format.file.map_file)."""
    with map_file(path) as mapped:
        return bytes(mapped)
