"""The OpenCL backend's plan: which kernel runs each layer of a Graph, with
which build options and arguments, and how big each activation is.

Activations on the device, per sample: u8 as bytes; int as int32; bits as
uints, cw = 2 * ceil(C / 64) per pixel (the CPU's uint64 words as pairs);
scores as float32. A threshold right after a weighted layer is fused into that
layer's epilogue (it emits packed bits), and so is a max-pool on a binary conv's
sums with the threshold after it (the kernel writes only the pooled bits, as the
CPU backend does); a flatten of u8, of ints, or of bits
with C a multiple of 64 moves nothing and costs no kernel.
"""
from dataclasses import dataclass, field
from typing import Optional, Tuple

import numpy as np


@dataclass
class Tuning:
    """Kernel build choices; defaults per device type (see `default_tuning`)."""
    tm: int = 2  # output pixels per work-item
    tn: int = 4  # units per register tile
    max_vec: int = 4  # widest uint vector in the XOR + popcount loops
    local_words: int = 0  # > 0: stage weight tiles in local memory (words per pixel at a time)
    local_rows: int = 64  # work-group size along pixels when local_words > 0
    fuse: bool = True  # threshold + packing in the GEMM epilogue
    swar_popcount: bool = False  # the OpenCL 1.1 popcount fallback, forced
    pack: bool = False  # narrow pixels (VEC < 16): 16 / VEC units per uint16 (with tap_table)
    popcount64: bool = False  # popcounts of 64-bit lanes (CPUs: fewer shuffles per count)
    tap_table: bool = False  # window addresses once per work-item, paired K steps (CPUs)
    panel: bool = False  # 8-unit weight panels, Harley-Seal over 8 steps (with tap_table, popcount64)


def default_tuning(device_type, vendor, name, local_mem_bytes):
    """CPUs: wide vectors, no local memory (it is ordinary memory there). GPUs: uint4
    loads and a local-memory weight tile, except on Mali, where local memory is cached
    global memory and slows kernels down (Arm's OpenCL guide)."""
    if device_type == "cpu":
        # PoCL turns the vector popcount built-in into a scalar loop (measured 3x slower
        # than the SWAR count); 64-bit popcount lanes, the tap table and 8-unit weight
        # panels with Harley-Seal adders (pack: the paired-step form panel replaced):
        # docs/OPENCL.md.
        return Tuning(tm=4, tn=8, max_vec=16, swar_popcount=True, pack=True, popcount64=True,
                      tap_table=True, panel=True)
    mali = "mali" in (vendor + " " + name).lower()
    t = Tuning(tm=2, tn=4, max_vec=4, local_words=0 if mali else 64)
    if t.local_words and t.tn * t.local_words * 4 > local_mem_bytes:
        t.local_words = 0
    return t


@dataclass
class Act:
    """An activation: domain ("u8", "int", "bits", "scores") and per-sample shape."""
    domain: str
    shape: Tuple[int, ...]

    @property
    def channels(self):
        return self.shape[-1]

    @property
    def pixels(self):
        return int(np.prod(self.shape[:-1], dtype=np.int64))

    @property
    def cw(self):
        return 2 * ((self.channels + 63) // 64)

    def bytes_per_sample(self):
        if self.domain == "bits":
            return self.pixels * self.cw * 4
        itemsize = 1 if self.domain == "u8" else 4
        return int(np.prod(self.shape, dtype=np.int64)) * itemsize


@dataclass
class Step:
    """One kernel launch per chunk: program `op` built with `options`, kernel `kernel`.

    `args(n)` gives the scalar arguments for a chunk of n samples and `grid(n)` the
    global size; `tensors` names the uploaded arrays passed before the scalars.
    `layers` are the graph layers this step completes (their outputs are `out`).
    """
    op: str
    kernel: str
    options: str
    inp: Act
    out: Act
    layers: Tuple[int, ...]
    tensors: Tuple[str, ...] = ()
    args: object = None
    grid: object = None
    local: Optional[Tuple[int, int]] = None
    data: dict = field(default_factory=dict)  # name -> numpy array to upload


# The largest first-layer K whose sums of 8-bit inputs fit in 16 bits (255 * 257 < 2^16).
FIRST_PAIRS_K = 257


def _ceil(a, b):
    return -(-a // b)


def _vec(cw, max_vec):
    return next(v for v in (16, 8, 4, 2) if v <= max_vec and cw % v == 0)


def local_words(words, vec):
    """The local tile's words per weight row: a multiple of the vector width."""
    return max(vec, words - words % vec)


def _weights_mask(w, units, k):
    """First-layer weights as int8 masks, -1 where a weight is +1 and 0 where it is -1,
    (K, units rounded up to 64, the extra 0), units minor: the kernel reads 32 units as
    two 16-lane vectors (opencl/first_layer.cl)."""
    from ..format.bitrows import unpack_rows
    rows = unpack_rows(np.ascontiguousarray(w).reshape(units, -1, w.shape[-1]),
                       k // int(np.prod(w.shape[1:-1], dtype=np.int64)))
    table = np.zeros((k, _ceil(units, 64) * 64), dtype=np.int8)
    table[:, :units] = np.where(rows.reshape(units, k).T > 0, -1, 0)
    return table


def _weights_u32(w, units):
    """Packed uint64 weights as little-endian uint32 pairs, units padded to a multiple of 32
    with zero rows (so a tile of TN units never reads past the end)."""
    rows = np.ascontiguousarray(w, dtype="<u8").reshape(units, -1).view("<u4")
    padded = np.zeros((_ceil(units, 32) * 32, rows.shape[1]), dtype="<u4")
    padded[:units] = rows
    return padded


def _padded(values, dtype, units):
    """Per-unit values with zeros up to a multiple of 32 units."""
    out = np.zeros(_ceil(units, 32) * 32, dtype)
    out[:units] = values
    return out


def _units_packed(rows, upv, vec):
    """Weight rows (units, kwords) regrouped for PACK (opencl/bgemm.cl): per group of upv
    units, per vec-word step of K, the group's vec-word slices side by side."""
    units, kwords = rows.shape
    grouped = rows.reshape(units // upv, upv, kwords // vec, vec).transpose(0, 2, 1, 3)
    return np.ascontiguousarray(grouped).reshape(units, kwords)


def plan(graph, tuning):
    """[Step] for the graph's layers, in order."""
    layers = graph.layers
    act = Act("u8", tuple(graph.input_shape))
    steps, i = [], 0
    while i < len(layers):
        layer = layers[i]
        nxt = layers[i + 1] if i + 1 < len(layers) else None
        if layer.kind in ("first_dense", "first_conv", "dense", "conv"):
            i += 1
            pool = nxt if tuning.fuse and layer.kind == "conv" and _is(nxt, "maxpool") else None
            i += pool is not None
            threshold = layers[i] if tuning.fuse and i < len(layers) and _is(layers[i], "threshold") \
                else None
            i += threshold is not None
            step = _weighted(layer, act, tuning, threshold, pool)
        elif layer.kind == "threshold":
            step = _threshold(layer, act)
            i += 1
        elif layer.kind == "maxpool":
            step = _maxpool(layer, act)
            i += 1
        elif layer.kind == "flatten":
            step = _flatten(layer, act)
            i += 1
        else:
            step = _affine(layer, act)
            i += 1
        steps.append(step)
        act = step.out
    return steps


def _is(layer, kind):
    return layer is not None and layer.kind == kind


def _geometry(layer, act):
    """(in_h, in_w, out_h, out_w, kh, kw, sh, sw, pad_t, pad_l) with dense as a 1x1 conv."""
    if layer.kind.endswith("dense"):
        return 1, 1, 1, 1, 1, 1, 1, 1, 0, 0
    (in_h, in_w, _), (out_h, out_w, _) = act.shape, layer.out_shape
    return (in_h, in_w, out_h, out_w) + tuple(layer.kernel) + tuple(layer.stride) + tuple(layer.pad)


def _weighted(layer, act, tuning, threshold, pool=None):
    """The step of a weighted layer, with the max-pool on its sums (binary convs) and the
    threshold after them fused into its epilogue where given."""
    units, channels = layer.units, act.channels
    cw = 2 * _ceil(channels, 64)
    in_h, in_w, out_h, out_w, kh, kw, sh, sw, pad_t, pad_l = _geometry(layer, act)
    if pool is not None:
        (pool_h, pool_w, _), (pkh, pkw), (psh, psw) = pool.out_shape, pool.kernel, pool.stride
    else:
        pool_h, pool_w, pkh, pkw, psh, psw = out_h, out_w, 1, 1, 1, 1
    per_sample = pool_h * pool_w
    out_shape = tuple((pool or layer).out_shape)
    out = Act("bits" if threshold else "int", out_shape)
    out_cw = out.cw if threshold else 0
    words = out_cw if threshold else _ceil(units, 32)
    tm = tuning.tm
    first = layer.kind.startswith("first_")
    opts = {"TN": tuning.tn, "FUSE": int(threshold is not None),
            **tuned_options(tuning, None if first else _vec(cw, tuning.max_vec))}
    data = {"weights": _weights_mask(layer.tensors["weights"], units, layer.k) if first
            else _weights_u32(layer.tensors["weights"], units)}
    if threshold is not None:  # padded to whole 32-unit words: epilogues read 8 or 16 at a time
        data["thresholds"] = _padded(threshold.tensors["thresholds"], np.int32, units)
        data["flip"] = _padded(threshold.tensors["flip"], np.uint8, units)
    else:
        data["thresholds"] = np.zeros(1, np.int32)  # unused arguments still need a buffer
        data["flip"] = np.zeros(1, np.uint8)
    if not first:
        data["zeros"] = np.zeros(max(cw, 16), np.uint32)  # +1 bits: the tap table's padding
    local = None
    if first:
        op, kernel = "first_layer", "first_layer"
        units_pad = data["weights"].shape[1]
        if layer.k <= FIRST_PAIRS_K and tm % 2 == 0:
            opts["PAIRS"] = 1  # two pixels per 32-bit lane (opencl/first_layer.cl)

        def args(n):
            return (n * per_sample, in_h, in_w, channels, out_h, out_w, kh, kw, sh, sw,
                    pad_t, pad_l, units, units_pad, out_cw)
    else:
        op, kernel = "bgemm", "bgemm"
        padded = pad_t > 0 or pad_l > 0 or (layer.padding == "same" and _pads_after(
            in_h, in_w, out_h, out_w, kh, kw, sh, sw, pad_t, pad_l))
        # The tap table pays with several taps, or for PACK (which needs it); dense layers
        # of wide vectors run faster without it (measured on PoCL).
        panel = tuning.panel and tuning.tap_table and tuning.popcount64 and not tuning.local_words
        pack = tuning.pack and opts["VEC"] < 16 and not panel
        table = tuning.tap_table and not tuning.local_words and (kh * kw > 1 or pack or panel)
        if panel:
            opts["PANEL"], opts["TN"] = 1, _ceil(tuning.tn, 8) * 8
            data["weights"] = _units_packed(data["weights"], 8, 2)  # 8 units x 64 bits
        elif table and pack:
            upv = 16 // opts["VEC"]  # units per uint16
            opts["PACK"], opts["TN"] = 1, _ceil(tuning.tn, upv) * upv
            data["weights"] = _units_packed(data["weights"], upv, opts["VEC"])
        opts["PADDED"] = int(padded)
        if pool is not None:
            opts["POOL"] = 1
        if table:
            opts["TAP_TABLE"], opts["TAPS"], opts["KW"], opts["CW"] = 1, kh * kw, kw, cw
            if pool is not None:
                opts["POOL_WIN"], opts["POOL_KW"] = pkh * pkw, pkw
        opts["PAD_ZERO"] = int(padded and layer.pad_value == "zero")
        if tuning.local_words:
            local = (1, tuning.local_rows)

        def args(n):
            return (n * per_sample, in_h, in_w, cw, out_h, out_w, kh, kw, sh, sw,
                    pad_t, pad_l, units, layer.k, channels, out_cw,
                    pool_h, pool_w, pkh, pkw, psh, psw)

    opts["TM"] = tm

    def grid(n):
        rows = _ceil(n * per_sample, tm)
        if local:
            rows = _ceil(rows, local[1]) * local[1]
        return (words, rows)

    done = tuple(x.index for x in (layer, pool, threshold) if x is not None)
    tensors = ("weights", "thresholds", "flip") + (() if first else ("zeros",))
    return Step(op, kernel, _options(opts), act, out, done, tensors, args, grid, local, data)


def _pads_after(in_h, in_w, out_h, out_w, kh, kw, sh, sw, pad_t, pad_l):
    """Whether the last window reaches past the bottom or right edge."""
    return (out_h - 1) * sh + kh - pad_t > in_h or (out_w - 1) * sw + kw - pad_l > in_w


def _threshold(layer, act):
    out = Act("bits", act.shape)
    data = {"thresholds": np.ascontiguousarray(layer.tensors["thresholds"], np.int32),
            "flip": np.ascontiguousarray(layer.tensors["flip"], np.uint8)}
    return Step("threshold", "threshold", "", act, out, (layer.index,), ("thresholds", "flip"),
                lambda n: (act.channels, out.cw), lambda n: (out.cw, n * act.pixels), None, data)


def _maxpool(layer, act):
    out = Act(act.domain, tuple(layer.out_shape))
    (in_h, in_w, c), (out_h, out_w, _) = act.shape, out.shape
    width = act.cw if act.domain == "bits" else c
    kh, kw = layer.kernel
    sh, sw = layer.stride
    return Step("maxpool", f"maxpool_{act.domain}", "", act, out, (layer.index,), (),
                lambda n: (in_h, in_w, width, out_h, out_w, kh, kw, sh, sw),
                lambda n: (width, n * out_h * out_w))


def _flatten(layer, act):
    out = Act(act.domain, tuple(layer.out_shape))
    moves = act.domain == "bits" and act.pixels > 1 and act.channels % 64 != 0
    if not moves:
        return Step("", "", "", act, out, (layer.index,))  # the same bytes, renamed
    return Step("flatten", "flatten_bits", "", act, out, (layer.index,), (),
                lambda n: (act.pixels, act.channels, act.cw, out.cw),
                lambda n: (out.cw, n))


def _affine(layer, act):
    out = Act("scores", tuple(layer.out_shape))
    c = act.channels
    data = {"scale": np.ascontiguousarray(layer.tensors["scale"], np.float32),
            "bias": np.ascontiguousarray(layer.tensors["bias"], np.float32)}
    return Step("affine", "affine", "", act, out, (layer.index,), ("scale", "bias"),
                lambda n: (c,), lambda n: (c, n), None, data)


def tuned_options(tuning, vec=None):
    """The build options that follow from the tuning alone: the popcount's form for
    every program, and for a binary GEMM (vec: its vector width) its lanes and local
    tile. One place for the model's layers and BinaryGemm, so their programs agree."""
    opts = {"SWAR_POPCOUNT": 1} if tuning.swar_popcount else {}
    if vec is not None:
        opts["VEC"] = vec
        if tuning.popcount64:
            opts["POPCOUNT64"] = 1
        if tuning.local_words:
            opts["LOCAL_WORDS"] = local_words(tuning.local_words, vec)
    return opts


def _options(opts):
    return " ".join(f"-D{k}={v}" for k, v in sorted(opts.items()))
