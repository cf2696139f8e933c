"""Image files as lazy dask arrays, read where each chunk runs.

    images = pybnn.dask_files.open_images("/shared/test.npy", chunk_size=1000)

Workers open the absolute path (their working directory may differ).
- a `.npy` file and a plain (not gzip'd) IDX file: only the path travels in
  the graph; each task memory-maps its own rows, so the file must be on
  storage the workers share (the same path on every machine);
- a directory written by `dask.array.to_npy_stack`: read with
  `dask.array.from_npy_stack`, its own chunks kept;
- a gzip'd IDX file (MNIST ships this way) cannot be read in pieces: it is
  decompressed here and its chunks travel in the graph (fine for MNIST-sized
  data; decompress large ones once with `gunzip`).
"""
import os

import numpy as np
import dask.array as da

from .idx import GZIP_MAGIC, MAX_DIMS, check_size, parse_header, read_idx


class FileArray:
    """An array-like over a file region for dask.array.from_array: pickles
    as its path, shape and dtype; indexing memory-maps the file (read-only)."""

    def __init__(self, path, file_dtype, shape, offset, order="C"):
        self.path, self.file_dtype, self.shape = path, np.dtype(file_dtype), tuple(shape)
        self.dtype = self.file_dtype.newbyteorder("=")  # what indexing returns
        self.offset, self.order = offset, order

    @property
    def ndim(self):
        return len(self.shape)

    def __getitem__(self, index):
        mapped = np.memmap(self.path, self.file_dtype, "r", self.offset, self.shape, self.order)
        return np.array(mapped[index], dtype=self.dtype)

    def __repr__(self):
        return f"<{self.path}: {self.dtype} {self.shape}>"


def open_images(path, chunk_size=1000):
    """`path` as a lazy dask array (a .npy file, an IDX file or an npy-stack
    directory), chunked by `chunk_size` samples along the first axis."""
    path = os.fspath(path)
    if os.path.isdir(path):
        if not os.path.isfile(os.path.join(path, "info")):
            raise ValueError(f"{path}: a directory must be an npy stack written by "
                             f"dask.array.to_npy_stack (it has no 'info' file)")
        return da.from_npy_stack(os.path.abspath(path), mmap_mode="r")
    if path.endswith(".npy"):
        return _chunked(_npy_file(path), chunk_size, path)
    with open(path, "rb") as f:
        gzipped = f.read(len(GZIP_MAGIC)) == GZIP_MAGIC
    if gzipped:
        return _chunked(read_idx(path), chunk_size, path)
    return _chunked(_idx_file(path), chunk_size, path)


def _npy_file(path):
    mapped = np.load(path, mmap_mode="r", allow_pickle=False)
    order = "F" if mapped.flags.f_contiguous and not mapped.flags.c_contiguous else "C"
    return FileArray(os.path.abspath(path), mapped.dtype, mapped.shape, mapped.offset, order)


def _idx_file(path):
    with open(path, "rb") as f:
        start = f.read(4 + 4 * MAX_DIMS)
    dtype, dims, header = parse_header(start, path)
    check_size(dtype, dims, header, os.path.getsize(path), path)
    return FileArray(os.path.abspath(path), dtype, dims, header)


def _chunked(array, chunk_size, path):
    if array.ndim == 0 or array.shape[0] == 0:
        raise ValueError(f"{path}: expected an array of samples, got shape {array.shape}")
    chunks = (chunk_size,) + tuple(array.shape[1:])
    # The array-like itself is one key of the graph (inline_array=False): one
    # copy of the path, or of the decompressed data, not one per chunk.
    return da.from_array(array, chunks=chunks, asarray=False, inline_array=False,
                         fancy=False, meta=np.empty((0,) * array.ndim, array.dtype))
