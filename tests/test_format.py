"""The .bnn writer and reader (pybnn/format.py) against docs/FORMAT.md."""
import struct
import zlib

import numpy as np
import pytest

import bnn_corrupt as corrupt
from bnn_corrupt import Parts
from model_factory import (CONFIGS, KINDS, assert_specs_equal, named_model, random_model,
                           random_pm1)
from pybnn import format as bnnformat
from pybnn.errors import FormatError
from pybnn.format.file import HEADER, align64
from pybnn.format.layers import (Affine, Conv, Dense, FirstConv, FirstDense, Flatten, MaxPool, ModelSpec,
                          Threshold)


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
# The malformed files come from tests/bnn_corrupt.py, shared with the C reader's tests
# (tests/test_engine_errors.py); the fragments here are the Python reader's.

@pytest.fixture(scope="module")
def small():
    return corrupt.small_model()


def test_every_truncation_is_rejected(small):
    for n in range(len(small)):
        with pytest.raises(FormatError, match="truncated"):
            bnnformat.read(small[:n])


def test_trailing_bytes_rejected(small):
    raises(small + b"\0", "trailing bytes")


def _expected_for_offset(off, h):
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
    if off < corrupt.tables_end(h):
        return ("header_crc32",)
    return ("must be zero",)


def test_every_header_and_table_byte_flip_is_rejected(small):
    h = HEADER.unpack_from(small)
    for off, bad in corrupt.byte_flips(small, range(h[9]), (0x01, 0x80)):
        raises(bad, *_expected_for_offset(off, h))


def test_payload_byte_flips_fail_the_crc(small):
    h = HEADER.unpack_from(small)
    for _, bad in corrupt.byte_flips(small, range(h[9], len(small), 7), (0x10,)):
        raises(bad, "payload_crc32")


SHORT_AND_FOREIGN_FRAGMENTS = {"empty": "truncated", "png": "magic", "zeros": "magic"}


def test_short_and_foreign_data():
    for name, data in corrupt.SHORT_AND_FOREIGN.items():
        raises(data, SHORT_AND_FOREIGN_FRAGMENTS[name])


def test_crc_mismatch_messages(small):
    assert "header_crc32: stored" in raises(corrupt.bad_header_crc(small), "header_crc32")


# ------------------------------------------------------------------ reader: fields
# Each case (corrupt.FIELD_EDITS) corrupts one field of a valid file and recomputes the
# CRCs, so the check that fires is the field's own.

FIELD_FRAGMENTS = {
    "version": "version: unknown version 2",
    "header_size": "header_size: expected 64, got 128",
    "n_layers_zero": "n_layers: expected 1..1024, got 0",
    "n_layers_huge": "n_layers: expected 1..1024",
    "n_tensors_huge": "n_tensors: expected 0..4096, got 5000",
    "payload_offset": "payload_offset: expected",
    "payload_size_huge": "truncated",
    "input_rank": "input_rank: expected 1 or 3, got 2",
    "input_dim_absurd": "input_shape: every dim must be 1..16777216",
    "input_dim_zero": "input_shape: every dim must be",
    "input_elements": "exceeds",
    "layer_type_unknown": "layer 1: unknown type 9",
    "layer_type_zero": "layer 1: unknown type 0",
    "layer_reserved": "layer 3 (conv): reserved bytes",
    "units_on_pool": "layer 1 (maxpool): units must be 0",
    "units_absurd": "layer 3 (conv): units must be 1..1048576",
    "units_zero": "layer 7 (dense): units must be 1..",
    "kernel_zero": "layer 3 (conv): kernel must be 1..64",
    "kernel_absurd": "layer 1 (maxpool): kernel must be 1..64",
    "stride_absurd": "layer 4 (maxpool): stride must be 1..64",
    "kernel_on_threshold": "layer 2 (threshold): kernel_h must be 0",
    "padding_unknown": "layer 3 (conv): padding must be 0 (valid) or 1 (same)",
    "padding_on_dense": "layer 7 (dense): padding must be 0",
    "pad_value_first_conv": "layer 0 (first_conv): pad_value must be 0",
    "pad_value_unknown": "layer 3 (conv): pad_value must be 0 (one) or 1",
    "slot_out_of_range": "layer 2 (threshold): tensor[0] = 9 is out of range",
    "slot_unused_set": "layer 1 (maxpool): tensor[0] must be 0xFFFFFFFF",
    "slot_shared": "already used",
    "slot_wrong_tensor": "layer 2 (threshold) thresholds (tensor 2): expected",
    "last_not_affine": "layer 8 (flatten)",
    "wrong_domain": "layer 2 (flatten)",
    "tensor_dtype": "tensor 1: unknown dtype 5",
    "tensor_rank_zero": "tensor 1: rank must be 1..4, got 0",
    "tensor_rank_five": "tensor 1: rank must be 1..4, got 5",
    "tensor_dim_absurd": "tensor 6: dims must be 1..16777216",
    "tensor_unused_dim": "tensor 1: dims must be",
    "tensor_offset_unaligned": "tensor 1: offset 8 is not a multiple of 64",
    "tensor_offset_absurd": "runs past the payload",
    "tensor_size": "tensor 1: size must be product(dims) * itemsize",
    "tensor_overlap": "overlaps",
    "tensor_reserved": "tensor 2: reserved bytes",
}


@pytest.mark.parametrize("name", sorted(corrupt.FIELD_EDITS))
def test_reader_names_the_bad_field(small, name):
    raises(corrupt.with_edit(small, corrupt.FIELD_EDITS[name]), FIELD_FRAGMENTS[name])


CONTENT_FRAGMENTS = {
    "unused_tensor": "tensor 9: used by no layer",
    "nonzero_gap": "between the tensor table and payload_offset must be zero",
    "set_padding_bits": "layer 0 (first_conv) weights (tensor 0): padding bits beyond K = 3",
    "bad_flip": "flip values must be 0 or 1, got 2",
    "first_layer_k_over_limit": "layer 0 (first_dense): K = 8388672 products per output exceeds",
}


@pytest.mark.parametrize("name", sorted(corrupt.CONTENT_CASES))
def test_reader_rejects_bad_content(small, name):
    raises(corrupt.CONTENT_CASES[name](small), CONTENT_FRAGMENTS[name])


def test_random_field_corruption_only_raises_format_error(small):
    """Random u32 fields overwritten with edge values, CRCs recomputed: the reader either
    accepts the file or raises FormatError, never anything else."""
    for raw in corrupt.random_field_corruptions(small, 400):
        try:
            bnnformat.read(raw)
        except FormatError:
            pass
