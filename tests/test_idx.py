"""The IDX loader: good files (plain and gzip'd) and clear errors on bad ones."""
import gzip
import struct

import numpy as np
import pytest

from pybnn.cli import demo
from pybnn.idx import IdxError, load_split, parse_idx, read_idx


def idx_bytes(array, code=0x08):
    dtype = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}[code]
    head = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}i", *array.shape)
    return head + np.asarray(array, dtype).tobytes()


def write(path, data, gz=False):
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("code", [0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E])
def test_roundtrip_every_type(tmp_path, gz, code):
    a = (np.arange(24).reshape(2, 3, 4) - 5)
    if code == 0x08:
        a = np.abs(a)
    got = read_idx(write(tmp_path / "a.idx", idx_bytes(a, code), gz))
    np.testing.assert_array_equal(got, a)
    assert got.dtype.isnative


def test_gzip_detected_by_content_not_name(tmp_path):
    a = np.arange(10, dtype=np.uint8)
    got = read_idx(write(tmp_path / "plain-name", idx_bytes(a), gz=True))
    np.testing.assert_array_equal(got, a)


@pytest.mark.parametrize("raw, message", [
    (b"", "4-byte IDX magic"),
    (b"\x00\x00", "4-byte IDX magic"),
    (b"\x01\x00\x08\x01" + bytes(8), "bad IDX magic"),
    (b"\x00\x00\x07\x01" + struct.pack(">i", 1) + b"\x00", "unknown IDX element type 0x07"),
    (b"\x00\x00\x08\x00", "0 dimensions"),
    (b"\x00\x00\x08\x09" + bytes(36), "9 dimensions"),
    (b"\x00\x00\x08\x03" + struct.pack(">2i", 2, 2), "truncated header"),
    (b"\x00\x00\x08\x01" + struct.pack(">i", -1), "negative dimension"),
    (b"\x00\x00\x08\x02" + struct.pack(">2i", 2, 3) + bytes(5), "truncated data"),
    (b"\x00\x00\x0c\x01" + struct.pack(">i", 2) + bytes(7), "truncated data"),
    (b"\x00\x00\x08\x01" + struct.pack(">i", 2) + bytes(3), "1 unexpected trailing bytes"),
])
def test_malformed(raw, message):
    with pytest.raises(IdxError, match=message):
        parse_idx(raw, "f")


@pytest.mark.parametrize("gz", [False, True])
def test_truncated_file(tmp_path, gz):
    data = idx_bytes(np.zeros((3, 28, 28), np.uint8))
    path = write(tmp_path / "t.idx", data[:-100], gz)
    with pytest.raises(IdxError, match="truncated data: shape \\(3, 28, 28\\)"):
        read_idx(path)


def test_truncated_gzip_stream(tmp_path):
    blob = gzip.compress(idx_bytes(np.arange(1000, dtype=np.uint8)))
    path = tmp_path / "x.gz"
    path.write_bytes(blob[:len(blob) // 2])
    with pytest.raises(IdxError, match="not a readable gzip file"):
        read_idx(path)


def make_split(directory, n, labels_n=None, gz=False, image_shape=(4, 4)):
    directory.mkdir(exist_ok=True)
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (n,) + image_shape, dtype=np.uint8)
    labels = rng.integers(0, 10, labels_n if labels_n is not None else n).astype(np.uint8)
    ext = ".gz" if gz else ""
    for prefix in ("train", "t10k"):
        write(directory / f"{prefix}-images-idx3-ubyte{ext}", idx_bytes(images), gz)
        write(directory / f"{prefix}-labels-idx1-ubyte{ext}", idx_bytes(labels), gz)
    return images, labels


@pytest.mark.parametrize("gz", [False, True])
def test_load_split(tmp_path, gz):
    images, labels = make_split(tmp_path / "d", 7, gz=gz)
    x, y = load_split(str(tmp_path / "d"), "test")
    np.testing.assert_array_equal(x, images)
    np.testing.assert_array_equal(y, labels)


def test_load_split_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_split(str(tmp_path / "missing"), "train")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte or "
                                                "train-images-idx3-ubyte.gz"):
        load_split(str(tmp_path / "empty"), "train")
    with pytest.raises(ValueError, match="split must be one of"):
        load_split(str(tmp_path / "empty"), "validation")
    make_split(tmp_path / "mismatch", 5, labels_n=4)
    with pytest.raises(IdxError, match="5 train images but 4 labels"):
        load_split(str(tmp_path / "mismatch"), "train")
    d = tmp_path / "wrongtype"
    make_split(d, 3)
    write(d / "train-images-idx3-ubyte", idx_bytes(np.zeros((3, 4, 4), np.int32), 0x0C))
    with pytest.raises(IdxError, match="expected uint8 images of shape "
                                       "\\(N, H, W\\) or \\(N, H, W, C\\)"):
        load_split(str(d), "train")


def test_bundled_digits_are_valid_idx():
    images, labels = demo.load_digits()
    assert images.shape[1:] == (28, 28) and images.dtype == np.uint8
    assert labels.shape == (len(images),) and labels.max() <= 9
    assert len(images) >= 300
