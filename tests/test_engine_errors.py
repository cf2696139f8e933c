"""The C reader (src/model_reader.c, src/model_layers.c) refuses every malformed file with
FormatError naming the problem, never crashes; file errors are OSError with the path.

The malformed files come from tests/bnn_corrupt.py, shared with the Python reader's tests
(tests/test_format.py), so both readers are held to the same cases; the expected message
fragments here are the C reader's."""
import numpy as np
import pytest

import bnn_corrupt as corrupt
import pybnn
from pybnn import format as bnnformat
from pybnn._core import CModel
from pybnn.errors import FormatError
from pybnn.format.file import HEADER


def c_raises(data, *fragments):
    with pytest.raises(FormatError) as info:
        CModel(bytes(data))
    message = str(info.value)
    assert any(f in message for f in fragments), message
    return message


@pytest.fixture(scope="module")
def small():
    return corrupt.small_model()


def test_small_model_loads(small):
    assert CModel(small).num_classes == 10


def test_every_truncation_is_rejected(small):
    for n in range(len(small)):
        c_raises(small[:n], "too short", "truncated")


def test_trailing_bytes_rejected(small):
    c_raises(small + b"\0", "payload_size")


def _expected_for_offset(off, h):
    """What the C reader names first for a flipped byte at `off` (it checks magic, version,
    header_size and the counts before the header CRC, so an unknown version is named)."""
    if off < 8:
        return ("magic",)
    if off < 12:
        return ("version",)
    if off < 16:
        return ("header_size",)
    if off < 24:
        return ("n_layers", "n_tensors", "truncated", "header_crc32")
    return ("header_crc32",)


def test_every_header_and_table_byte_flip_is_rejected(small):
    h = HEADER.unpack_from(small)
    for off, bad in corrupt.byte_flips(small, range(h[9]), (0x01, 0x80)):
        if off >= corrupt.tables_end(h):
            c_raises(bad, "must be zero")
        else:
            c_raises(bad, *_expected_for_offset(off, h))


def test_payload_byte_flips_fail_the_crc(small):
    h = HEADER.unpack_from(small)
    for _, bad in corrupt.byte_flips(small, range(h[9], len(small), 5), (0x10,)):
        c_raises(bad, "payload_crc32: stored")


SHORT_AND_FOREIGN_FRAGMENTS = {"empty": "too short", "png": "magic", "zeros": "magic"}


def test_short_and_foreign_data():
    for name, data in corrupt.SHORT_AND_FOREIGN.items():
        c_raises(data, SHORT_AND_FOREIGN_FRAGMENTS[name])


def test_crc_mismatch_messages(small):
    c_raises(corrupt.bad_header_crc(small), "header_crc32: stored")
    # the stored payload CRC is itself covered by the header CRC
    c_raises(corrupt.bad_stored_payload_crc(small), "header_crc32: stored")


# Each case (corrupt.FIELD_EDITS) corrupts one field and recomputes the CRCs.
C_FRAGMENTS = {
    "version": "version: expected 1, got 2",
    "header_size": "header_size: expected 64, got 128",
    "n_layers_zero": "n_layers: expected 1..1024, got 0",
    "n_layers_huge": "n_layers: expected 1..1024, got 4294967295",
    "n_tensors_huge": "n_tensors: expected 0..4096, got 5000",
    "payload_offset": "payload_offset: expected",
    "payload_size_huge": "payload_size",
    "input_rank": "input_rank: expected 1 (features,) or 3 (H, W, C), got 2",
    "input_dim_absurd": "input_dims[0]: expected 1..16777216, got 16777217",
    "input_dim_zero": "input_dims[1]: expected 1..16777216, got 0",
    "input_elements": "exceeds the limit 2^31",
    "layer_type_unknown": "layer 1: type: expected 1..8",
    "layer_type_zero": "layer 1: type: expected 1..8",
    "layer_reserved": "layer 3 (conv): reserved bytes 48..63 must be zero",
    "units_on_pool": "layer 1 (maxpool): units: unused by this type, must be 0, got 4",
    "units_absurd": "layer 3 (conv): units: expected 1..1048576, got 1048577",
    "units_zero": "layer 7 (dense): units: expected 1..1048576, got 0",
    "kernel_zero": "layer 3 (conv): kernel_h: expected 1..64, got 0",
    "kernel_absurd": "layer 1 (maxpool): kernel_w: expected 1..64, got 2147483648",
    "stride_absurd": "layer 4 (maxpool): stride_w: expected 1..64, got 65",
    "kernel_on_threshold": "layer 2 (threshold): kernel_h: unused by this type, must be 0",
    "padding_unknown": "layer 3 (conv): padding (0 valid, 1 same): expected 0..1, got 2",
    "padding_on_dense": "layer 7 (dense): padding: unused by this type, must be 0, got 1",
    "pad_value_first_conv": "layer 0 (first_conv): pad_value: unused by this type",
    "pad_value_unknown": "layer 3 (conv): pad_value (0 one, 1 zero): expected 0..1, got 2",
    "slot_out_of_range": "layer 2 (threshold): tensor[0] (thresholds): index 9 is not below "
                         "n_tensors = 9",
    "slot_unused_set": "layer 1 (maxpool): tensor[0]: this type uses 0 slot(s)",
    "slot_shared": "is already used by layer 2",
    "slot_wrong_tensor": "layer 2 (threshold): tensor 2 (thresholds) is u8 (17,), expected "
                         "i32 (17,)",
    "last_not_affine": "layer 8 (flatten): the last layer must be affine",
    "wrong_domain": "layer 2 (flatten)",
    "tensor_dtype": "tensor 1: dtype: expected 1 (bits), 2 (i32), 3 (f32) or 4 (u8), got 5",
    "tensor_rank_zero": "tensor 1: rank: expected 1..4, got 0",
    "tensor_rank_five": "tensor 1: rank: expected 1..4, got 5",
    "tensor_dim_absurd": "tensor 6: dims[0]: expected 1..16777216, got 16777217",
    "tensor_unused_dim": "tensor 1: dims[1]: unused for rank 1, must be 0, got 1",
    "tensor_offset_unaligned": "tensor 1: offset: must be a multiple of 64, got 8",
    "tensor_offset_absurd": "lie outside the",
    "tensor_size": "tensor 1: size: expected 68",
    "tensor_overlap": "overlap",
    "tensor_reserved": "tensor 2: reserved bytes 40..47 must be zero",
}


def test_every_field_case_has_a_c_fragment():
    assert set(C_FRAGMENTS) == set(corrupt.FIELD_EDITS)


@pytest.mark.parametrize("name", sorted(corrupt.FIELD_EDITS))
def test_reader_names_the_bad_field(small, name):
    c_raises(corrupt.with_edit(small, corrupt.FIELD_EDITS[name]), C_FRAGMENTS[name])


C_CONTENT_FRAGMENTS = {
    "unused_tensor": "tensor 9 is not used by any layer",
    "nonzero_gap": "and payload_offset",
    "set_padding_bits": "layer 0 (first_conv): tensor 0 (weights): row 0 has padding bits set",
    "bad_flip": "layer 2 (threshold): tensor 2 (flip): flip[1] = 2, expected 0 or 1",
    "first_layer_k_over_limit": "layer 0 (first_dense): K = 8388672 products per output exceeds",
}


@pytest.mark.parametrize("name", sorted(corrupt.CONTENT_CASES))
def test_reader_rejects_bad_content(small, name):
    c_raises(corrupt.CONTENT_CASES[name](small), C_CONTENT_FRAGMENTS[name])


def test_reader_rejects_wrong_weight_dims():
    """A conv whose weights were written for the wrong number of input channels."""
    data, conv_weights = corrupt.wrong_weight_dims()
    c_raises(data, f"layer 2 (conv): tensor {conv_weights} (weights) is bits "
                   f"(17, 3, 3, 2), expected bits (17, 3, 3, 1)")


def test_random_field_corruption_never_crashes(small):
    """Random u32 fields set to edge values with the CRCs recomputed: the C reader accepts
    (and the model runs) or raises FormatError, as the Python reader does."""
    x = np.zeros((1, 8 * 8 * 3), np.uint8)
    for raw in corrupt.random_field_corruptions(small, 300):
        try:
            python_ok = bnnformat.read(raw) is not None
        except FormatError:
            python_ok = False
        try:
            model = CModel(raw)
        except FormatError:
            assert not python_ok, "the C reader refused a file the Python reader accepts"
            continue
        assert python_ok, "the C reader accepted a file the Python reader refuses"
        if model.input_size == x.shape[1]:
            model.run(x)


def test_file_errors_are_os_errors(tmp_path):
    missing = tmp_path / "missing.bnn"
    with pytest.raises(OSError, match="missing.bnn"):
        pybnn.load(missing)
    with pytest.raises(OSError, match="it is a directory, not a regular file"):
        pybnn.load(tmp_path)
    bad = tmp_path / "bad.bnn"
    bad.write_bytes(b"nope")
    with pytest.raises(FormatError, match="too short"):
        pybnn.load(bad)


def test_load_rejects_non_sources():
    with pytest.raises(TypeError):
        pybnn.load(12)
