"""Read IDX files (the MNIST format), gzip'd or plain, with strict checks.

IDX layout: a big-endian 4-byte magic ``00 00 TT NN`` (TT the element type,
NN the number of dimensions), then NN big-endian int32 dims, then the data,
big-endian, row-major. MNIST images are ``00 00 08 03`` (uint8, N x 28 x 28),
labels ``00 00 08 01`` (uint8, N). Fashion-MNIST uses the same files; colour
images are rank 4, ``00 00 08 04`` (uint8, N x H x W x C, channels last).

Nothing is ever downloaded: `load_split` only looks in the directory it is given.
"""
import gzip
import os
import zlib

import numpy as np

# IDX type code -> big-endian numpy dtype.
IDX_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
MAX_DIMS = 8
GZIP_MAGIC = b"\x1f\x8b"

# File names of the original distributions, gz or plain.
SPLIT_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


class IdxError(ValueError):
    """A file that is not a well-formed IDX file (the message says what was wrong)."""


def read_idx(path):
    """Read one IDX file (gzip'd or plain, told apart by content) into a native-endian array."""
    path = os.fspath(path)
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == GZIP_MAGIC:
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, ValueError, zlib.error) as exc:  # truncated or corrupt gzip
            raise IdxError(f"{path}: not a readable gzip file ({exc})") from None
    return parse_idx(raw, path)


def parse_idx(raw, name="<bytes>"):
    """Parse the bytes of an IDX file; `name` is used in error messages."""
    dtype, dims, header = parse_header(raw, name)
    check_size(dtype, dims, header, len(raw), name)
    count = int(np.prod(dims, dtype=np.int64))
    data = np.frombuffer(raw, dtype, offset=header, count=count)
    return data.reshape(dims).astype(dtype.newbyteorder("="), copy=True)


def parse_header(raw, name="<bytes>"):
    """(dtype, dims, header bytes) from the start of an IDX file (at least
    its first 4 + 4 * MAX_DIMS bytes, or all of a shorter file)."""
    if len(raw) < 4:
        raise IdxError(f"{name}: expected a 4-byte IDX magic, got a file of {len(raw)} bytes")
    if raw[0] != 0 or raw[1] != 0:
        raise IdxError(f"{name}: bad IDX magic {raw[:4].hex()}: expected the first two bytes "
                       f"to be 00 00 (is this an IDX file?)")
    code, ndim = raw[2], raw[3]
    if code not in IDX_DTYPES:
        known = ", ".join(f"0x{c:02x}" for c in IDX_DTYPES)
        raise IdxError(f"{name}: unknown IDX element type 0x{code:02x}; expected one of {known}")
    if not 1 <= ndim <= MAX_DIMS:
        raise IdxError(f"{name}: IDX magic says {ndim} dimensions; expected 1 to {MAX_DIMS}")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise IdxError(f"{name}: truncated header: {ndim} dims need {header} bytes, "
                       f"the file has {len(raw)}")
    dims = tuple(int(d) for d in np.frombuffer(raw, ">i4", ndim, 4))
    if any(d < 0 for d in dims):
        raise IdxError(f"{name}: negative dimension in {dims}")
    return IDX_DTYPES[code], dims, header


def check_size(dtype, dims, header, size, name="<bytes>"):
    """Raise IdxError unless a file of `size` bytes holds exactly the header and the data."""
    expected = header + int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    if size < expected:
        raise IdxError(f"{name}: truncated data: shape {dims} of {dtype.name} needs "
                       f"{expected} bytes, the file has {size}")
    if size > expected:
        raise IdxError(f"{name}: {size - expected} unexpected trailing bytes after "
                       f"shape {dims} of {dtype.name} ({expected} bytes expected)")


def find_file(directory, stem):
    """The path of `stem` or `stem.gz` in `directory` (plain preferred), or a clear error."""
    for name in (stem, stem + ".gz"):
        path = os.path.join(directory, name)
        if os.path.isfile(path):
            return path
    raise FileNotFoundError(f"{directory}: expected {stem} or {stem}.gz (IDX files as in the "
                            f"MNIST distribution); nothing is downloaded")


def load_split(directory, split):
    """Images and labels of `split` ('train' or 'test') in `directory`.

    Images are uint8, (N, H, W) or (N, H, W, C) as the file has them; labels
    are (N,) of any integer IDX type (uint8 in MNIST).
    """
    if split not in SPLIT_FILES:
        raise ValueError(f"split must be one of {sorted(SPLIT_FILES)}, got {split!r}")
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"data directory {directory!r} does not exist")
    image_stem, label_stem = SPLIT_FILES[split]
    image_path, label_path = find_file(directory, image_stem), find_file(directory, label_stem)
    images, labels = read_idx(image_path), read_idx(label_path)
    if images.dtype != np.uint8 or images.ndim not in (3, 4):
        raise IdxError(f"{image_path}: expected uint8 images of shape (N, H, W) or (N, H, W, C), "
                       f"got {images.dtype} of shape {images.shape}")
    if labels.dtype.kind not in "iu" or labels.ndim != 1:
        raise IdxError(f"{label_path}: expected integer labels of shape (N,), "
                       f"got {labels.dtype} of shape {labels.shape}")
    if len(images) != len(labels):
        raise IdxError(f"{directory}: {len(images)} {split} images but {len(labels)} labels")
    return images, labels


def has_split(directory, split):
    """Whether any file of `split` (images or labels, plain or .gz) is in `directory`."""
    return any(os.path.isfile(os.path.join(directory, stem + ext))
               for stem in SPLIT_FILES[split] for ext in ("", ".gz"))
