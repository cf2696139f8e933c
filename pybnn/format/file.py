"""The .bnn writer and reader in Python, exactly per docs/FORMAT.md.

`write`/`to_bytes` validate a ModelSpec (ValueError naming the layer and the
problem) and lay it out; `read` validates every field of a file or buffer
and raises `FormatError` naming the field and the problem. The C reader
(src/model_reader.c) follows the same document.
"""
import errno
import mmap
import os
import stat
import struct
import zlib

import numpy as np

from ..errors import FormatError
from .bitrows import pack_rows, unpack_rows
from .layers import (Affine, Conv, Dense, FirstConv, FirstDense, Flatten, MaxPool, ModelSpec,
                     Threshold)
from .shapes import (MAX_DIM, MAX_LAYERS, MAX_TENSORS, TENSOR_NAMES, check_input_shape,
                     expected_tensor_shapes, next_shape)
from .shapes import validate_spec as validate  # noqa: F401 (public here too: the writer's check)

MAGIC = b"\x89BNN\r\n\x1a\n"
VERSION = 1
HEADER_SIZE = 64
LAYER_RECORD_SIZE = 64
TENSOR_RECORD_SIZE = 48
ALIGN = 64
UNUSED = 0xFFFFFFFF

HEADER = struct.Struct("<8s8IQQII")     # magic .. header_crc32
LAYER_RECORD = struct.Struct("<12I16s")  # type .. tensor[4], reserved
TENSOR_RECORD = struct.Struct("<6IQQ8s")  # dtype, rank, dims[4], offset, size, reserved
HEADER_CRC_SPAN = 60                     # the header CRC covers bytes [0, 60) + both tables

# Values fixed forever (docs/FORMAT.md); new ones are appended, never renumbered.
TYPE_CODES = {"first_dense": 1, "first_conv": 2, "conv": 3, "dense": 4, "maxpool": 5,
              "threshold": 6, "flatten": 7, "affine": 8}
DTYPE_PACKED, DTYPE_I32, DTYPE_F32, DTYPE_U8 = 1, 2, 3, 4
DTYPE_NUMPY = {DTYPE_PACKED: np.dtype("<u8"), DTYPE_I32: np.dtype("<i4"),
               DTYPE_F32: np.dtype("<f4"), DTYPE_U8: np.dtype("u1")}
KIND_OF_CODE = {code: kind for kind, code in TYPE_CODES.items()}
PADDING_CODES = {"valid": 0, "same": 1}
PAD_VALUE_CODES = {"one": 0, "zero": 1}


def align64(n):
    return (n + ALIGN - 1) // ALIGN * ALIGN


# ---------------------------------------------------------------- writing

def write(path, spec):
    """Validate `spec` and write it to `path` as a .bnn file."""
    data = to_bytes(spec)
    with open(path, "wb") as f:
        f.write(data)


def to_bytes(spec):
    """Validate `spec` (ValueError naming the problem) and return the .bnn bytes."""
    shapes = validate(spec)
    records, tensors = [], []
    for layer, ls in zip(spec.layers, shapes):
        arrays = _file_tensors(layer, ls)
        slots = list(range(len(tensors), len(tensors) + len(arrays)))
        tensors.extend(arrays)
        records.append(_layer_record(layer, ls, slots))
    tensor_table, payload, offset = [], bytearray(), 0
    for dtype_code, arr in tensors:
        offset = align64(len(payload))
        payload += bytes(offset - len(payload)) + arr.tobytes()
        dims = list(arr.shape) + [0] * (4 - arr.ndim)
        tensor_table.append(TENSOR_RECORD.pack(dtype_code, arr.ndim, *dims, offset, arr.nbytes,
                                               bytes(8)))
    tables = b"".join(records) + b"".join(tensor_table)
    payload_offset = align64(HEADER_SIZE + len(tables))
    dims = list(spec.input_shape) + [0] * (3 - len(spec.input_shape))
    head = HEADER.pack(MAGIC, VERSION, HEADER_SIZE, len(records), len(tensors),
                       len(spec.input_shape), *dims, payload_offset, len(payload),
                       zlib.crc32(payload), 0)[:HEADER_CRC_SPAN]
    head += struct.pack("<I", zlib.crc32(tables, zlib.crc32(head)))
    gap = bytes(payload_offset - HEADER_SIZE - len(tables))
    return head + tables + gap + bytes(payload)


def _file_tensors(layer, ls):
    """[(dtype code, little-endian array as stored)] for one layer, in slot order."""
    if ls.kind in ("first_dense", "first_conv", "conv", "dense"):
        return [(DTYPE_PACKED, pack_rows(np.asarray(layer.weights, dtype=np.int8)).astype("<u8"))]
    if ls.kind == "threshold":
        return [(DTYPE_I32, np.asarray(layer.thresholds).astype("<i4")),
                (DTYPE_U8, np.asarray(layer.flip).astype("u1"))]
    if ls.kind == "affine":
        return [(DTYPE_F32, np.asarray(layer.scale).astype("<f4")),
                (DTYPE_F32, np.asarray(layer.bias).astype("<f4"))]
    return []


def _layer_record(layer, ls, slots):
    units = ls.out_shape[-1] if ls.kind in ("first_dense", "first_conv", "conv", "dense") else 0
    padding = PADDING_CODES[ls.padding] if ls.kind in ("first_conv", "conv") else 0
    pad_value = PAD_VALUE_CODES[layer.pad_value] if ls.kind == "conv" else 0
    tensor = slots + [UNUSED] * (4 - len(slots))
    return LAYER_RECORD.pack(TYPE_CODES[ls.kind], units, *ls.kernel, *ls.stride, padding,
                             pad_value, *tensor, bytes(16))


# ---------------------------------------------------------------- reading

def read(source):
    """Read and fully validate a .bnn file (a path) or buffer (bytes-like) into a ModelSpec."""
    if isinstance(source, (str, os.PathLike)):
        return _read_file(os.fspath(source))
    return parse(bytes(memoryview(source)))


def _read_file(path):
    mapped = map_file(path)
    spec = parse(mapped)
    try:
        mapped.close()
    except BufferError:  # a view still open (none expected): the collector closes it
        pass
    return spec


def map_file(path):
    """The .bnn file at `path`, memory-mapped read-only, after the checks
    that need no payload: the file type, then the header against the file
    size. So a huge or sparse file costs no memory, and a FIFO with no
    writer cannot block (it is opened non-blocking, like the C reader)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(errno.EINVAL, f"cannot read '{path}': it is "
                                        f"{_file_kind(info.st_mode)}, not a regular file")
        _check_header(os.read(fd, HEADER_SIZE), info.st_size)
        return mmap.mmap(fd, 0, access=mmap.ACCESS_READ)  # keeps its own descriptor
    finally:
        os.close(fd)


def _file_kind(mode):
    for test, kind in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
                       (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device")):
        if test(mode):
            return kind
    return "a special file"


def parse(data):
    """Validate the bytes of a .bnn file and build its ModelSpec; FormatError names the field."""
    h = _read_header(data)
    records = [LAYER_RECORD.unpack_from(data, HEADER_SIZE + i * LAYER_RECORD_SIZE)
               for i in range(h["n_layers"])]
    base = HEADER_SIZE + h["n_layers"] * LAYER_RECORD_SIZE
    tensors = []
    for i in range(h["n_tensors"]):
        record = TENSOR_RECORD.unpack_from(data, base + TENSOR_RECORD_SIZE * i)
        tensors.append(_read_tensor_record(i, record, h["payload_size"]))
    _check_no_overlap(tensors)
    shape, domain, layers, used = h["input_shape"], "u8", [], {}
    for i, rec in enumerate(records):
        ls, slots = _check_layer_record(i, rec, shape, domain, i == len(records) - 1, len(tensors))
        arrays = []
        for slot, (name, want) in enumerate(zip(TENSOR_NAMES[ls.kind], expected_tensor_shapes(ls))):
            t = slots[slot]
            if t in used:
                raise FormatError(f"layer {i} ({ls.kind}): tensor[{slot}] = {t} is already used by "
                                  f"layer {used[t]}; each tensor belongs to exactly one slot")
            used[t] = i
            arrays.append(_load_tensor(data, h["payload_offset"], tensors[t], t,
                                       f"layer {i} ({ls.kind}) {name}", name, want))
        layers.append(_make_layer(ls, rec, arrays))
        shape, domain = ls.out_shape, ls.out_domain
    unused = sorted(set(range(len(tensors))) - set(used))
    if unused:
        raise FormatError(f"tensor {unused[0]}: used by no layer (n_tensors = {len(tensors)}, "
                          f"unused: {unused[:8]})")
    return ModelSpec(input_shape=h["input_shape"], layers=layers)


def _read_header(data):
    n = len(data)
    h = _check_header(data, n)
    n_layers, n_tensors, tables_end = h["n_layers"], h["n_tensors"], h["tables_end"]
    payload_offset, end = h["payload_offset"], h["payload_offset"] + h["payload_size"]
    crc = zlib.crc32(memoryview(data)[HEADER_SIZE:tables_end], zlib.crc32(data[:HEADER_CRC_SPAN]))
    if crc != h["header_crc"]:
        raise FormatError(f"header_crc32: stored 0x{h['header_crc']:08x}, computed 0x{crc:08x}: "
                          f"the header or the tables are corrupted")
    if any(data[tables_end:payload_offset]):
        raise FormatError(f"bytes {tables_end}..{payload_offset} between the tensor table and "
                          f"payload_offset must be zero")
    crc = zlib.crc32(memoryview(data)[payload_offset:end])
    if crc != h["payload_crc"]:
        raise FormatError(f"payload_crc32: stored 0x{h['payload_crc']:08x}, computed 0x{crc:08x}: "
                          f"the payload is corrupted")
    input_rank, dims = h["input_rank"], h["dims"]
    if input_rank not in (1, 3):
        raise FormatError(f"input_rank: expected 1 or 3, got {input_rank}")
    if any(dims[input_rank:]):
        raise FormatError(f"input_dims: unused dims must be 0, got {dims}")
    input_shape = tuple(dims[:input_rank])
    check_input_shape(input_shape, FormatError)
    return dict(n_layers=n_layers, n_tensors=n_tensors, tables_end=tables_end,
                payload_offset=payload_offset, payload_size=h["payload_size"],
                input_shape=input_shape)


def _check_header(data, n):
    """The checks that need only the first 64 bytes and the total size `n`
    (so a file is judged before its payload is read); the header's fields."""
    if len(data) < HEADER_SIZE or n < HEADER_SIZE:
        raise FormatError(f"truncated: the header needs {HEADER_SIZE} bytes, the data has {n}")
    (magic, version, header_size, n_layers, n_tensors, input_rank, *dims, payload_offset,
     payload_size, payload_crc, header_crc) = HEADER.unpack_from(data)
    if magic != MAGIC:
        raise FormatError(f"magic: expected {MAGIC!r}, got {magic!r}: not a .bnn file")
    if version != VERSION:
        raise FormatError(f"version: unknown version {version}; "
                          f"this reader knows version {VERSION}")
    if header_size != HEADER_SIZE:
        raise FormatError(f"header_size: expected {HEADER_SIZE}, got {header_size}")
    if not 1 <= n_layers <= MAX_LAYERS:
        raise FormatError(f"n_layers: expected 1..{MAX_LAYERS}, got {n_layers}")
    if n_tensors > MAX_TENSORS:
        raise FormatError(f"n_tensors: expected 0..{MAX_TENSORS}, got {n_tensors}")
    tables_end = HEADER_SIZE + n_layers * LAYER_RECORD_SIZE + n_tensors * TENSOR_RECORD_SIZE
    if payload_offset != align64(tables_end):
        raise FormatError(f"payload_offset: expected align64(64 + 64*{n_layers} + 48*{n_tensors}) "
                          f"= {align64(tables_end)}, got {payload_offset}")
    end = payload_offset + payload_size
    if n < end:
        raise FormatError(f"truncated: payload_offset + payload_size = {end} bytes, "
                          f"the data has {n}")
    if n > end:
        raise FormatError(f"payload_size: the data has {n - end} trailing bytes after "
                          f"payload_offset + payload_size = {end}")
    return dict(n_layers=n_layers, n_tensors=n_tensors, tables_end=tables_end,
                payload_offset=payload_offset, payload_size=payload_size,
                payload_crc=payload_crc, header_crc=header_crc, input_rank=input_rank, dims=dims)


def _read_tensor_record(i, rec, payload_size):
    dtype, rank, *rest = rec
    dims, offset, size, reserved = tuple(rest[:4]), rest[4], rest[5], rest[6]
    where = f"tensor {i}"
    if dtype not in DTYPE_NUMPY:
        raise FormatError(f"{where}: unknown dtype {dtype}; expected 1 (packed), 2 (i32), "
                          f"3 (f32) or 4 (u8)")
    if not 1 <= rank <= 4:
        raise FormatError(f"{where}: rank must be 1..4, got {rank}")
    if not all(1 <= d <= MAX_DIM for d in dims[:rank]) or any(dims[rank:]):
        raise FormatError(f"{where}: dims must be 1..{MAX_DIM} for the {rank} used, 0 after, "
                          f"got {list(dims)}")
    if offset % ALIGN:
        raise FormatError(f"{where}: offset {offset} is not a multiple of {ALIGN}")
    want = int(np.prod(dims[:rank], dtype=object)) * DTYPE_NUMPY[dtype].itemsize
    if size != want:
        raise FormatError(f"{where}: size must be product(dims) * itemsize = {want}, got {size}")
    if offset + size > payload_size:
        raise FormatError(f"{where}: offset {offset} + size {size} runs past the payload "
                          f"({payload_size} bytes)")
    if any(reserved):
        raise FormatError(f"{where}: reserved bytes must be zero")
    return dict(dtype=dtype, dims=dims[:rank], offset=offset, size=size)


def _check_no_overlap(tensors):
    spans = sorted((t["offset"], t["offset"] + t["size"], i) for i, t in enumerate(tensors))
    for (_, end, a), (start, _, b) in zip(spans, spans[1:]):
        if start < end:
            raise FormatError(f"tensor {b}: overlaps tensor {a} in the payload")


def _check_layer_record(i, rec, shape, domain, last, n_tensors):
    """Validate one layer record against its input; return (LayerShape, used tensor slots)."""
    type_code, units, kh, kw, sh, sw, padding, pad_value, *slots, reserved = rec
    kind = KIND_OF_CODE.get(type_code)
    if kind is None:
        raise FormatError(f"layer {i}: unknown type {type_code}; "
                          f"this reader knows 1..{len(TYPE_CODES)}")
    where = f"layer {i} ({kind})"
    if any(reserved):
        raise FormatError(f"{where}: reserved bytes must be zero")
    has_units = kind in ("first_dense", "first_conv", "conv", "dense")
    has_window = kind in ("first_conv", "conv", "maxpool")
    for name, value, allowed in (("units", units, has_units),
                                 ("kernel_h", kh, has_window), ("kernel_w", kw, has_window),
                                 ("stride_h", sh, has_window), ("stride_w", sw, has_window),
                                 ("padding", padding, kind in ("first_conv", "conv")),
                                 ("pad_value", pad_value, kind == "conv")):
        if value and not allowed:
            raise FormatError(f"{where}: {name} must be 0 for this type, got {value}")
    if padding > 1:
        raise FormatError(f"{where}: padding must be 0 (valid) or 1 (same), got {padding}")
    if pad_value > 1:
        raise FormatError(f"{where}: pad_value must be 0 (one) or 1 (zero), got {pad_value}")
    n_used = len(TENSOR_NAMES[kind])
    for s, t in enumerate(slots):
        if s < n_used and t >= n_tensors:
            raise FormatError(f"{where}: tensor[{s}] = {t} is out of range "
                              f"(n_tensors = {n_tensors})")
        if s >= n_used and t != UNUSED:
            raise FormatError(f"{where}: tensor[{s}] must be 0xFFFFFFFF (unused), got {t}")
    ls = next_shape(i, kind, shape, domain, last, units, (kh, kw), (sh, sw),
                    "same" if padding else "valid", FormatError)
    return ls, slots[:n_used]


def _load_tensor(data, payload_offset, t, index, where, name, want):
    """The tensor's values as the layer object holds them, after checking dtype and dims."""
    packed = name == "weights"
    dtype = {"weights": DTYPE_PACKED, "thresholds": DTYPE_I32, "flip": DTYPE_U8,
             "scale": DTYPE_F32, "bias": DTYPE_F32}[name]
    dims = want[:-1] + ((want[-1] + 63) // 64,) if packed else want
    if t["dtype"] != dtype or t["dims"] != dims:
        raise FormatError(f"{where} (tensor {index}): expected dtype {dtype} dims {list(dims)}, "
                          f"got dtype {t['dtype']} dims {list(t['dims'])}")
    np_dtype = DTYPE_NUMPY[dtype]
    a = np.frombuffer(data, np_dtype, t["size"] // np_dtype.itemsize,
                      payload_offset + t["offset"]).reshape(dims)
    if packed:
        k = want[-1]
        if k % 64 and np.any(a[..., -1] >> np.uint64(k % 64)):
            raise FormatError(f"{where} (tensor {index}): padding bits beyond K = {k} "
                              f"in the last word must be zero")
        return unpack_rows(a, k)
    if name == "flip":
        if np.any(a > 1):
            raise FormatError(f"{where} (tensor {index}): flip values must be 0 or 1, "
                              f"got {int(a.max())}")
        return a.astype(bool)
    return a.astype(np.int32 if dtype == DTYPE_I32 else np.float32)


def _make_layer(ls, rec, arrays):
    stride, pad_value = ls.stride, ("one", "zero")[rec[7]]
    if ls.kind == "first_dense":
        return FirstDense(weights=arrays[0])
    if ls.kind == "first_conv":
        return FirstConv(weights=arrays[0], stride=stride, padding=ls.padding)
    if ls.kind == "conv":
        return Conv(weights=arrays[0], stride=stride, padding=ls.padding, pad_value=pad_value)
    if ls.kind == "dense":
        return Dense(weights=arrays[0])
    if ls.kind == "maxpool":
        return MaxPool(size=ls.kernel, stride=stride)
    if ls.kind == "threshold":
        return Threshold(thresholds=arrays[0], flip=arrays[1])
    if ls.kind == "flatten":
        return Flatten()
    return Affine(scale=arrays[0], bias=arrays[1])
