"""The .bnn writer and reader (pybnn/format.py) against docs/FORMAT.md."""
import struct
import zlib

import numpy as np
import pytest

from model_factory import (CONFIGS, KINDS, assert_specs_equal, named_model, random_model,
                           random_pm1)
from pybnn import format as bnnformat
from pybnn._core import FormatError
from pybnn.format import HEADER, LAYER_RECORD, TENSOR_RECORD, align64
from pybnn.layers import (Affine, Conv, Dense, FirstConv, FirstDense, Flatten, MaxPool, ModelSpec,
                          Threshold)


class Parts:
    """A .bnn file taken apart into mutable header / records / payload, and put back together
    with the counts, payload_offset and both CRCs recomputed (unless told not to)."""

    def __init__(self, data):
        self.header = list(HEADER.unpack_from(data))
        n_layers, n_tensors = self.header[3], self.header[4]
        self.layers = [list(LAYER_RECORD.unpack_from(data, 64 + 64 * i)) for i in range(n_layers)]
        base = 64 + 64 * n_layers
        self.tensors = [list(TENSOR_RECORD.unpack_from(data, base + 48 * i))
                        for i in range(n_tensors)]
        self.payload = bytearray(data[self.header[9]:])

    def build(self, fix_layout=True, fix_crcs=True):
        tables = (b"".join(LAYER_RECORD.pack(*r) for r in self.layers)
                  + b"".join(TENSOR_RECORD.pack(*t) for t in self.tensors))
        h = list(self.header)
        if fix_layout:
            h[3], h[4] = len(self.layers), len(self.tensors)
            h[9], h[10] = align64(64 + len(tables)), len(self.payload)
        if fix_crcs:
            h[11] = zlib.crc32(self.payload)
        head = HEADER.pack(*h)[:60]
        h[12] = zlib.crc32(tables, zlib.crc32(head)) if fix_crcs else h[12]
        head += struct.pack("<I", h[12])
        return head + tables + bytes(max(h[9] - 64 - len(tables), 0)) + bytes(self.payload)


def raises(data, *fragments):
    """read(data) raises FormatError whose message contains one of the fragments."""
    with pytest.raises(FormatError) as info:
        bnnformat.read(data)
    assert any(f in str(info.value) for f in fragments), str(info.value)
    return str(info.value)


# ------------------------------------------------------------------ roundtrips

@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_roundtrip_named(name):
    spec = named_model(name)
    data = bnnformat.to_bytes(spec)
    back = bnnformat.read(data)
    assert_specs_equal(spec, back)
    assert bnnformat.to_bytes(back) == data


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("seed", range(4))
def test_roundtrip_random(kind, seed):
    rng = np.random.default_rng(seed)
    shape = (int(rng.integers(1, 140)),) if kind == "dense" else \
        (int(rng.integers(5, 12)), int(rng.integers(5, 12)), int(rng.choice([1, 3, 17, 65])))
    spec = random_model(rng, kind=kind, input_shape=shape,
                        channels=tuple(rng.choice([3, 17, 65, 130], size=2)),
                        hidden=tuple(rng.choice([3, 17, 64, 65], size=int(rng.integers(0, 3)))),
                        classes=int(rng.integers(1, 12)))
    assert_specs_equal(spec, bnnformat.read(bnnformat.to_bytes(spec)))


def test_write_read_file_and_buffers(tmp_path):
    spec = named_model("conv_pool_after")
    path = tmp_path / "m.bnn"
    bnnformat.write(path, spec)
    data = path.read_bytes()
    assert data == bnnformat.to_bytes(spec)
    for source in (path, str(path), data, bytearray(data), memoryview(data)):
        assert_specs_equal(spec, bnnformat.read(source))


def test_layout_is_as_specified():
    spec = named_model("conv_same_one")
    data = bnnformat.to_bytes(spec)
    h = HEADER.unpack_from(data)
    assert data[:8] == b"\x89BNN\r\n\x1a\n" and h[1:3] == (1, 64)
    assert h[5:9] == (3, 7, 7, 3)
    n_layers, n_tensors = h[3], h[4]
    assert n_layers == len(spec.layers)
    assert h[9] == align64(64 + 64 * n_layers + 48 * n_tensors) and len(data) == h[9] + h[10]
    assert h[11] == zlib.crc32(data[h[9]:])
    for t in Parts(data).tensors:
        assert t[6] % 64 == 0 and (h[9] + t[6]) % 64 == 0
    first = Parts(data).layers[0]
    assert first[:8] == [2, 17, 3, 3, 1, 1, 1, 0] and first[8:12] == [0, 2**32 - 1, 2**32 - 1,
                                                                         2**32 - 1]


def test_packed_weights_follow_bitpack_conventions():
    w = np.ones((1, 70), dtype=np.int8)
    w[0, [0, 5, 64, 69]] = -1  # bit 0 and 5 of word 0, bits 0 and 5 of word 1
    spec = ModelSpec((70,), [FirstDense(w), Affine(np.ones(1, np.float32), np.zeros(1, np.float32))])
    data = bnnformat.to_bytes(spec)
    parts = Parts(data)
    off = parts.tensors[0][6]
    words = struct.unpack_from("<2Q", parts.payload, off)
    assert words == (0b100001, 0b100001)


# ------------------------------------------------------------------ writer validation

def _base_layers():
    return [FirstConv(random_pm1(np.random.default_rng(0), (4, 3, 3, 2)), padding="same"),
            Threshold(np.zeros(4, np.int32), np.zeros(4, bool)),
            Conv(random_pm1(np.random.default_rng(1), (5, 3, 3, 4))),
            Threshold(np.zeros(5, np.int32), np.zeros(5, bool)),
            Flatten(),
            Dense(random_pm1(np.random.default_rng(2), (3, 4 * 4 * 5))),
            Affine(np.ones(3, np.float32), np.zeros(3, np.float32))]


def _spec(**changes):
    layers = _base_layers()
    for index, layer in changes.items():
        layers[int(index[1:])] = layer
    return ModelSpec((6, 6, 2), layers)


def test_writer_accepts_base():
    bnnformat.to_bytes(_spec())


@pytest.mark.parametrize("make, fragments", [
    (lambda: _spec(l2=Conv(np.zeros((5, 3, 3, 4), np.int8))), ("layer 2 (conv)", "+1 or -1", "0")),
    (lambda: _spec(l2=Conv(random_pm1(np.random.default_rng(0), (5, 3, 3, 3)))),
     ("layer 2 (conv)", "weights must have shape (5, 3, 3, 4)")),
    (lambda: _spec(l2=Conv(random_pm1(np.random.default_rng(0), (5, 3, 3, 4)), padding="full")),
     ("layer 2 (conv)", "padding must be 'valid' or 'same'")),
    (lambda: _spec(l2=Conv(random_pm1(np.random.default_rng(0), (5, 3, 3, 4)), pad_value="two")),
     ("layer 2 (conv)", "pad_value")),
    (lambda: _spec(l2=Conv(random_pm1(np.random.default_rng(0), (5, 3, 3, 4)), stride=(0, 1))),
     ("layer 2 (conv)", "stride must be 1..64")),
    (lambda: _spec(l2=Conv(random_pm1(np.random.default_rng(0), (5, 9, 9, 4)))),
     ("layer 2 (conv)", "does not fit")),
    (lambda: _spec(l1=Threshold(np.zeros(3, np.int32), np.zeros(3, bool))),
     ("layer 1 (threshold)", "thresholds must have shape (4,)")),
    (lambda: _spec(l1=Threshold(np.zeros(4), np.zeros(4, bool))), ("layer 1", "integer")),
    (lambda: _spec(l1=Threshold(np.full(4, 2**31), np.zeros(4, bool))), ("layer 1", "int32")),
    (lambda: _spec(l1=Threshold(np.zeros(4, np.int32), np.full(4, 2))), ("layer 1", "flip")),
    (lambda: _spec(l1=Flatten()), ("layer 2 (conv)", "expected bits input of rank 3")),
    (lambda: _spec(l3=MaxPool()), ("layer 5 (dense)", "expected bits input", "got int (20,)")),
    (lambda: _spec(l6=Dense(random_pm1(np.random.default_rng(0), (3, 3)))), ("layer 6 (dense)",)),
    (lambda: _spec(l5=Affine(np.ones(80, np.float32), np.zeros(80, np.float32))),
     ("layer 5 (affine)", "expected int input")),
    (lambda: ModelSpec((6, 6, 2), _base_layers()[:-1]), ("layer 5 (dense)", "last layer must be affine")),
    (lambda: ModelSpec((6, 6), _base_layers()), ("input_shape", "rank 1")),
    (lambda: ModelSpec((6, 6, 2), []), ("at least one layer",)),
    (lambda: _spec(l4="flatten"), ("layer 4", "unknown layer type str")),
    (lambda: _spec(l0=FirstConv(random_pm1(np.random.default_rng(0), (4, 65, 65, 2)))),
     ("layer 0 (first_conv)", "kernel must be 1..64")),
])
def test_writer_rejects(make, fragments):
    with pytest.raises(ValueError) as info:
        bnnformat.to_bytes(make())
    for f in fragments:
        assert f in str(info.value), str(info.value)


def test_writer_rejects_first_layer_k_over_limit():
    f = (1 << 23) + 1
    spec = ModelSpec((f,), [FirstDense(np.ones((1, f), np.int8)),
                            Affine(np.ones(1, np.float32), np.zeros(1, np.float32))])
    with pytest.raises(ValueError, match="K = 8388609 products per output exceeds"):
        bnnformat.to_bytes(spec)


# ------------------------------------------------------------------ reader: corruption

@pytest.fixture(scope="module")
def small():
    return bnnformat.to_bytes(named_model("conv_pool_before"))


def test_every_truncation_is_rejected(small):
    for n in range(len(small)):
        with pytest.raises(FormatError, match="truncated"):
            bnnformat.read(small[:n])


def test_trailing_bytes_rejected(small):
    raises(small + b"\0", "trailing bytes")


def _expected_for_offset(off, h):
    tables_end = 64 + 64 * h[3] + 48 * h[4]
    if off < 8:
        return ("magic",)
    if off < 12:
        return ("version",)
    if off < 16:
        return ("header_size",)
    if off < 24:
        return ("n_layers", "n_tensors", "payload_offset")
    if 40 <= off < 48:
        return ("payload_offset",)
    if 48 <= off < 56:
        return ("truncated", "trailing bytes")
    if off < tables_end:
        return ("header_crc32",)
    return ("must be zero",)


def test_every_header_and_table_byte_flip_is_rejected(small):
    h = HEADER.unpack_from(small)
    for off in range(h[9]):
        for mask in (0x01, 0x80):
            bad = bytearray(small)
            bad[off] ^= mask
            raises(bytes(bad), *_expected_for_offset(off, h))


def test_payload_byte_flips_fail_the_crc(small):
    h = HEADER.unpack_from(small)
    for off in range(h[9], len(small), 7):
        bad = bytearray(small)
        bad[off] ^= 0x10
        raises(bytes(bad), "payload_crc32")


def test_short_and_foreign_data():
    raises(b"", "truncated")
    raises(b"\x89PNG\r\n\x1a\n" + bytes(100), "magic")
    raises(bytes(64), "magic")


def test_crc_mismatch_messages(small):
    p = Parts(small)
    p.header[12] ^= 1
    assert "header_crc32: stored" in raises(p.build(fix_crcs=False), "header_crc32")


# ------------------------------------------------------------------ reader: fields
# Each case corrupts one field of a valid file and recomputes the CRCs, so the check
# that fires is the field's own.

def _with(small, edit):
    """`edit` mutates the Parts; it returns False to keep its own counts and payload_offset."""
    p = Parts(small)
    return p.build(fix_layout=edit(p) is not False)


# conv_pool_before: 0 first_conv, 1 maxpool, 2 threshold, 3 conv, 4 maxpool, 5 threshold,
# 6 flatten, 7 dense, 8 affine; tensors 0 w, 1 t, 2 flip, 3 w, 4 t, 5 flip, 6 w, 7 scale, 8 bias
def _hdr(index, value, keep_layout=False):
    def edit(p):
        p.header[index] = value
        return not keep_layout
    return edit


FIELD_CASES = {
    "version": (_hdr(1, 2), "version: unknown version 2"),
    "header_size": (_hdr(2, 128), "header_size: expected 64, got 128"),
    "n_layers_zero": (_hdr(3, 0, keep_layout=True), "n_layers: expected 1..1024, got 0"),
    "n_layers_huge": (_hdr(3, 2**32 - 1, keep_layout=True), "n_layers: expected 1..1024"),
    "n_tensors_huge": (_hdr(4, 5000, keep_layout=True), "n_tensors: expected 0..4096, got 5000"),
    "payload_offset": (_hdr(9, 2048, keep_layout=True), "payload_offset: expected"),
    "payload_size_huge": (_hdr(10, 2**64 - 1, keep_layout=True), "truncated"),
    "input_rank": (_hdr(5, 2), "input_rank: expected 1 or 3, got 2"),
    "input_dim_absurd": (_hdr(6, 2**24 + 1), "input_shape: every dim must be 1..16777216"),
    "input_dim_zero": (_hdr(7, 0), "input_shape: every dim must be"),
    "input_elements": (_hdr(6, 2**24), "exceeds"),
}


def _layer(i, field, value):
    def edit(p):
        p.layers[i][field] = value
    return edit


def _tensor(i, field, value):
    def edit(p):
        p.tensors[i][field] = value
    return edit


FIELD_CASES.update({
    "layer_type_unknown": (_layer(1, 0, 9), "layer 1: unknown type 9"),
    "layer_type_zero": (_layer(1, 0, 0), "layer 1: unknown type 0"),
    "layer_reserved": (_layer(3, 12, b"\1" + bytes(15)), "layer 3 (conv): reserved bytes"),
    "units_on_pool": (_layer(1, 1, 4), "layer 1 (maxpool): units must be 0"),
    "units_absurd": (_layer(3, 1, 2**20 + 1), "layer 3 (conv): units must be 1..1048576"),
    "units_zero": (_layer(7, 1, 0), "layer 7 (dense): units must be 1.."),
    "kernel_zero": (_layer(3, 2, 0), "layer 3 (conv): kernel must be 1..64"),
    "kernel_absurd": (_layer(1, 3, 2**31), "layer 1 (maxpool): kernel must be 1..64"),
    "stride_absurd": (_layer(4, 5, 65), "layer 4 (maxpool): stride must be 1..64"),
    "kernel_on_threshold": (_layer(2, 2, 3), "layer 2 (threshold): kernel_h must be 0"),
    "padding_unknown": (_layer(3, 6, 2), "layer 3 (conv): padding must be 0 (valid) or 1 (same)"),
    "padding_on_dense": (_layer(7, 6, 1), "layer 7 (dense): padding must be 0"),
    "pad_value_first_conv": (_layer(0, 7, 1), "layer 0 (first_conv): pad_value must be 0"),
    "pad_value_unknown": (_layer(3, 7, 2), "layer 3 (conv): pad_value must be 0 (one) or 1"),
    "slot_out_of_range": (_layer(2, 8, 9), "layer 2 (threshold): tensor[0] = 9 is out of range"),
    "slot_unused_set": (_layer(1, 8, 0), "layer 1 (maxpool): tensor[0] must be 0xFFFFFFFF"),
    "slot_shared": (_layer(5, 8, 1), "already used"),
    "slot_wrong_tensor": (_layer(2, 8, 2), "layer 2 (threshold) thresholds (tensor 2): expected"),
    "last_not_affine": (_layer(8, 0, 7), "layer 8 (flatten)"),
    "wrong_domain": (_layer(2, 0, 7), "layer 2 (flatten)"),
    "tensor_dtype": (_tensor(1, 0, 5), "tensor 1: unknown dtype 5"),
    "tensor_rank_zero": (_tensor(1, 1, 0), "tensor 1: rank must be 1..4, got 0"),
    "tensor_rank_five": (_tensor(1, 1, 5), "tensor 1: rank must be 1..4, got 5"),
    "tensor_dim_absurd": (_tensor(6, 2, 2**24 + 1), "tensor 6: dims must be 1..16777216"),
    "tensor_unused_dim": (_tensor(1, 3, 1), "tensor 1: dims must be"),
    "tensor_offset_unaligned": (_tensor(1, 6, 8), "tensor 1: offset 8 is not a multiple of 64"),
    "tensor_offset_absurd": (_tensor(1, 6, 2**64 - 64), "runs past the payload"),
    "tensor_size": (_tensor(1, 7, 4), "tensor 1: size must be product(dims) * itemsize"),
    "tensor_overlap": (_tensor(2, 6, 0), "overlaps"),
    "tensor_reserved": (_tensor(2, 8, bytes(7) + b"\1"), "tensor 2: reserved bytes"),
})


@pytest.mark.parametrize("name", sorted(FIELD_CASES))
def test_reader_names_the_bad_field(small, name):
    edit, fragment = FIELD_CASES[name]
    raises(_with(small, edit), fragment)


def test_reader_rejects_unused_tensor(small):
    p = Parts(small)
    p.tensors.append([2, 1, 1, 0, 0, 0, align64(len(p.payload)), 4, bytes(8)])
    p.payload += bytes(align64(len(p.payload)) - len(p.payload) + 4)
    raises(p.build(), "tensor 9: used by no layer")


def test_reader_rejects_nonzero_gap():
    data = bytearray(bnnformat.to_bytes(named_model("dense_tiny")))
    h = HEADER.unpack_from(data)
    tables_end = 64 + 64 * h[3] + 48 * h[4]
    assert h[9] > tables_end
    data[h[9] - 1] = 1
    head = bytes(data[:60])
    tables = bytes(data[64:tables_end])
    data[60:64] = struct.pack("<I", zlib.crc32(tables, zlib.crc32(head)))
    raises(bytes(data), "between the tensor table and payload_offset must be zero")


def test_reader_rejects_set_padding_bits(small):
    p = Parts(small)
    off = p.tensors[0][6]  # first_conv weights (17, 3, 3, 1 word), C = 3: bits 3.. are padding
    p.payload[off] |= 0x80
    raises(p.build(), "layer 0 (first_conv) weights (tensor 0): padding bits beyond K = 3")


def test_reader_rejects_bad_flip(small):
    p = Parts(small)
    p.payload[p.tensors[2][6] + 1] = 2
    raises(p.build(), "flip values must be 0 or 1, got 2")


def test_reader_checks_k_limit_of_first_layer():
    spec = ModelSpec((64,), [FirstDense(np.ones((1, 64), np.int8)),
                             Affine(np.ones(1, np.float32), np.zeros(1, np.float32))])
    p = Parts(bnnformat.to_bytes(spec))
    k = (1 << 23) + 64
    words = k // 64
    p.header[6] = k  # F, with weights dims (1, words) to match
    p.tensors[0][3], p.tensors[0][7] = words, 8 * words
    p.tensors[1][6] = align64(8 * words)
    p.tensors[2][6] = align64(8 * words) + 64
    p.payload = bytearray(align64(8 * words) + 64 + 4)
    raises(p.build(), "layer 0 (first_dense): K = 8388672 products per output exceeds")


def test_random_field_corruption_only_raises_format_error(small):
    """Random u32 fields overwritten with edge values, CRCs recomputed: the reader either
    accepts the file or raises FormatError, never anything else."""
    rng = np.random.default_rng(1)
    edge = [0, 1, 2, 3, 63, 64, 65, 2**24, 2**31, 2**32 - 1]
    for _ in range(400):
        raw = bytearray(small)
        for _ in range(int(rng.integers(1, 4))):
            off = int(rng.integers(16, len(raw) - 4)) & ~3
            value = edge[rng.integers(len(edge))] if rng.random() < 0.7 else int(rng.integers(2**32))
            raw[off:off + 4] = struct.pack("<I", value)
        h = HEADER.unpack_from(raw)
        if h[9] <= len(raw):
            raw[56:60] = struct.pack("<I", zlib.crc32(raw[h[9]:]))
        tables_end = min(64 + 64 * h[3] + 48 * h[4], len(raw))
        raw[60:64] = struct.pack("<I", zlib.crc32(raw[64:tables_end], zlib.crc32(raw[:60])))
        try:
            bnnformat.read(bytes(raw))
        except FormatError:
            pass
