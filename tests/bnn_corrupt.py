"""Malformed .bnn files for the reader tests: each builder here takes a valid file apart,
breaks one thing and (unless the point is a bad CRC) recomputes the CRCs, so the check that
fires is the one for what was broken.

Both readers are held to the same files: tests/test_format.py (the Python reader,
pybnn.format.read) and tests/test_engine_errors.py (the C reader, pybnn._core.CModel).
Each of those keeps only its reader and the message fragments it expects."""
import struct
import zlib

import numpy as np

from model_factory import named_model
from pybnn import format as bnnformat
from pybnn.format.file import HEADER, LAYER_RECORD, TENSOR_RECORD, align64
from pybnn.format.layers import Affine, FirstDense, ModelSpec


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


def small_model():
    """The file most cases corrupt. conv_pool_before: layers 0 first_conv, 1 maxpool,
    2 threshold, 3 conv, 4 maxpool, 5 threshold, 6 flatten, 7 dense, 8 affine; tensors 0 w,
    1 t, 2 flip, 3 w, 4 t, 5 flip, 6 w, 7 scale, 8 bias."""
    return bnnformat.to_bytes(named_model("conv_pool_before"))


def tables_end(h):
    """Where the tensor table ends, from an unpacked header."""
    return 64 + 64 * h[3] + 48 * h[4]


# ------------------------------------------------------------------ whole-file damage

def byte_flips(data, offsets, masks):
    """(offset, data with the byte at offset xor mask) for every offset and mask; CRCs kept."""
    for off in offsets:
        for mask in masks:
            bad = bytearray(data)
            bad[off] ^= mask
            yield off, bytes(bad)


# Data that is no .bnn file at all, by name; each test file says what its reader names.
SHORT_AND_FOREIGN = {
    "empty": b"",
    "png": b"\x89PNG\r\n\x1a\n" + bytes(100),
    "zeros": bytes(64),
}


def bad_header_crc(data):
    """The stored header CRC off by one bit."""
    p = Parts(data)
    p.header[12] ^= 1
    return p.build(fix_crcs=False)


def bad_stored_payload_crc(data):
    """The stored payload CRC off by one bit: the header CRC, which covers it, no longer fits."""
    p = Parts(data)
    p.header[11] ^= 1
    return p.build(fix_crcs=False)


def random_field_corruptions(data, count, seed=1):
    """`count` files, each with 1 to 3 random u32 fields set to edge (or random) values and
    both CRCs recomputed, so the field checks (not the CRCs) must catch them."""
    rng = np.random.default_rng(seed)
    edge = [0, 1, 2, 3, 63, 64, 65, 2**24, 2**31, 2**32 - 1]
    for _ in range(count):
        raw = bytearray(data)
        for _ in range(int(rng.integers(1, 4))):
            off = int(rng.integers(16, len(raw) - 4)) & ~3
            value = edge[rng.integers(len(edge))] if rng.random() < 0.7 else int(rng.integers(2**32))
            raw[off:off + 4] = struct.pack("<I", value)
        h = HEADER.unpack_from(raw)
        if h[9] <= len(raw):
            raw[56:60] = struct.pack("<I", zlib.crc32(raw[h[9]:]))
        end = min(tables_end(h), len(raw))
        raw[60:64] = struct.pack("<I", zlib.crc32(raw[64:end], zlib.crc32(raw[:60])))
        yield bytes(raw)


# ------------------------------------------------------------------ one field each

def with_edit(data, edit):
    """`edit` mutates the Parts; it returns False to keep its own counts and payload_offset."""
    p = Parts(data)
    return p.build(fix_layout=edit(p) is not False)


def _hdr(index, value, keep_layout=False):
    def edit(p):
        p.header[index] = value
        return not keep_layout
    return edit


def _layer(i, field, value):
    def edit(p):
        p.layers[i][field] = value
    return edit


def _tensor(i, field, value):
    def edit(p):
        p.tensors[i][field] = value
    return edit


# Edits of small_model(), by name: each breaks one field (see small_model for the indices).
FIELD_EDITS = {
    "version": _hdr(1, 2),
    "header_size": _hdr(2, 128),
    "n_layers_zero": _hdr(3, 0, keep_layout=True),
    "n_layers_huge": _hdr(3, 2**32 - 1, keep_layout=True),
    "n_tensors_huge": _hdr(4, 5000, keep_layout=True),
    "payload_offset": _hdr(9, 2048, keep_layout=True),
    "payload_size_huge": _hdr(10, 2**64 - 1, keep_layout=True),
    "input_rank": _hdr(5, 2),
    "input_dim_absurd": _hdr(6, 2**24 + 1),
    "input_dim_zero": _hdr(7, 0),
    "input_elements": _hdr(6, 2**24),
    "layer_type_unknown": _layer(1, 0, 9),
    "layer_type_zero": _layer(1, 0, 0),
    "layer_reserved": _layer(3, 12, b"\1" + bytes(15)),
    "units_on_pool": _layer(1, 1, 4),
    "units_absurd": _layer(3, 1, 2**20 + 1),
    "units_zero": _layer(7, 1, 0),
    "kernel_zero": _layer(3, 2, 0),
    "kernel_absurd": _layer(1, 3, 2**31),
    "stride_absurd": _layer(4, 5, 65),
    "kernel_on_threshold": _layer(2, 2, 3),
    "padding_unknown": _layer(3, 6, 2),
    "padding_on_dense": _layer(7, 6, 1),
    "pad_value_first_conv": _layer(0, 7, 1),
    "pad_value_unknown": _layer(3, 7, 2),
    "slot_out_of_range": _layer(2, 8, 9),
    "slot_unused_set": _layer(1, 8, 0),
    "slot_shared": _layer(5, 8, 1),
    "slot_wrong_tensor": _layer(2, 8, 2),
    "last_not_affine": _layer(8, 0, 7),
    "wrong_domain": _layer(2, 0, 7),
    "tensor_dtype": _tensor(1, 0, 5),
    "tensor_rank_zero": _tensor(1, 1, 0),
    "tensor_rank_five": _tensor(1, 1, 5),
    "tensor_dim_absurd": _tensor(6, 2, 2**24 + 1),
    "tensor_unused_dim": _tensor(1, 3, 1),
    "tensor_offset_unaligned": _tensor(1, 6, 8),
    "tensor_offset_absurd": _tensor(1, 6, 2**64 - 64),
    "tensor_size": _tensor(1, 7, 4),
    "tensor_overlap": _tensor(2, 6, 0),
    "tensor_reserved": _tensor(2, 8, bytes(7) + b"\1"),
}


# ------------------------------------------------------------------ content and layout

def unused_tensor(data):
    """One more tensor (a valid i32 (1,)) that no layer refers to."""
    p = Parts(data)
    p.tensors.append([2, 1, 1, 0, 0, 0, align64(len(p.payload)), 4, bytes(8)])
    p.payload += bytes(align64(len(p.payload)) - len(p.payload) + 4)
    return p.build()


def nonzero_gap():
    """A nonzero byte between the tensor table and payload_offset (dense_tiny has such a gap),
    with the header CRC recomputed."""
    data = bytearray(bnnformat.to_bytes(named_model("dense_tiny")))
    h = HEADER.unpack_from(data)
    end = tables_end(h)
    assert h[9] > end
    data[h[9] - 1] = 1
    head = bytes(data[:60])
    tables = bytes(data[64:end])
    data[60:64] = struct.pack("<I", zlib.crc32(tables, zlib.crc32(head)))
    return bytes(data)


def set_padding_bits(data):
    """A padding bit set in small_model()'s first_conv weights (17, 3, 3, 1 word), C = 3:
    bits 3.. of each word are padding."""
    p = Parts(data)
    p.payload[p.tensors[0][6]] |= 0x80
    return p.build()


def bad_flip(data):
    """flip[1] = 2 in small_model()'s threshold (tensor 2)."""
    p = Parts(data)
    p.payload[p.tensors[2][6] + 1] = 2
    return p.build()


def first_layer_k_over_limit():
    """A first_dense whose K = 2^23 + 64 products per output (weights dims (1, words) to
    match) is past what its int32 sums may hold."""
    spec = ModelSpec((64,), [FirstDense(np.ones((1, 64), np.int8)),
                             Affine(np.ones(1, np.float32), np.zeros(1, np.float32))])
    p = Parts(bnnformat.to_bytes(spec))
    k = (1 << 23) + 64
    words = k // 64
    p.header[6] = k  # F
    p.tensors[0][3], p.tensors[0][7] = words, 8 * words
    p.tensors[1][6] = align64(8 * words)
    p.tensors[2][6] = align64(8 * words) + 64
    p.payload = bytearray(align64(8 * words) + 64 + 4)
    return p.build()


# Damage beyond single fields, by name: each takes small_model() (some build their own file).
CONTENT_CASES = {
    "unused_tensor": unused_tensor,
    "nonzero_gap": lambda small: nonzero_gap(),
    "set_padding_bits": set_padding_bits,
    "bad_flip": bad_flip,
    "first_layer_k_over_limit": lambda small: first_layer_k_over_limit(),
}


def wrong_weight_dims():
    """conv_same_one's binary conv (layer 2, over 17 channels, weights (17, 3, 3, 1 word))
    with weights written for 2 words per pixel; the size matches the dims, so only the dims
    disagree with the layer's input. Returns (data, the weights' tensor index)."""
    p = Parts(bnnformat.to_bytes(named_model("conv_same_one")))
    conv_weights = p.layers[2][8]
    t = p.tensors[conv_weights]
    t[5], t[7] = 2, t[7] * 2
    grow = t[7] // 2
    start = t[6] + grow
    p.payload[start:start] = bytes(align64(grow))
    for other in p.tensors:
        if other is not t and other[6] >= start:
            other[6] += align64(grow)
    return p.build(), conv_weights
