"""The NumPy reference executor (pybnn/reference.py) against docs/FORMAT.md, by hand and by a
second, loop-based reading of the same formulas."""
import numpy as np
import pytest

from model_factory import (CONFIGS, named_model, random_input, random_model, random_pm1,
                           random_thresholds)
from pybnn import pack_bits
from pybnn.format.layers import (Affine, Conv, Dense, FirstConv, FirstDense, Flatten, MaxPool, ModelSpec,
                          Threshold)
from pybnn.reference import exact_dot, first_layer_sum, run_reference, run_reference_layers
from pybnn.format.shapes import conv_geometry, layer_shapes
from pybnn.summary import layer_stats, summarize


def _affine(c):
    return Affine(np.ones(c, np.float32), np.zeros(c, np.float32))


def _sums(spec, x):
    """Output of the first layer: exact int sums."""
    return run_reference_layers(spec, x)[0]


def _tail(n):
    """Flatten + identity affine over n values, so an int feature map can end a model."""
    return [Flatten(), _affine(n)]


# ------------------------------------------------------------------ first layer

@pytest.mark.parametrize("k", [1, 3, 63, 64, 65, 300])
def test_bit_planes_equal_integer_dot(rng, k):
    x = rng.integers(0, 256, size=(7, k), dtype=np.uint8)
    x[0] = 255  # the extremes
    x[1] = 0
    w = random_pm1(rng, (5, k))
    plain = x.astype(np.int64) @ w.astype(np.int64).T
    assert np.array_equal(first_layer_sum(x, w), plain)
    assert first_layer_sum(x, w).dtype == np.int32


def test_exact_dot_matches_int64(rng):
    a, w = random_pm1(rng, (9, 1000)), random_pm1(rng, (4, 1000))
    assert np.array_equal(exact_dot(a, w), a.astype(np.int64) @ w.astype(np.int64).T)


def test_first_dense_extreme_values_fit():
    k = 4096
    spec = ModelSpec((k,), [FirstDense(np.stack([np.ones(k, np.int8), -np.ones(k, np.int8)])),
                            _affine(2)])
    s = _sums(spec, np.full((1, k), 255, np.uint8))
    assert s.tolist() == [[255 * k, -255 * k]]


# ------------------------------------------------------------------ convolutions by hand

def test_first_conv_same_pads_with_pixel_zero():
    spec = ModelSpec((3, 3, 1), [FirstConv(np.ones((1, 3, 3, 1), np.int8), padding="same"),
                                 *_tail(9)])
    s = _sums(spec, np.full((1, 3, 3, 1), 10, np.uint8))[0, :, :, 0]
    assert s.tolist() == [[40, 60, 40], [60, 90, 60], [40, 60, 40]]


@pytest.mark.parametrize("pad_value, expected", [
    ("one", [[1, -3, 1], [-3, -9, -3], [1, -3, 1]]),    # padded taps hold +1
    ("zero", [[-4, -6, -4], [-6, -9, -6], [-4, -6, -4]]),  # padded taps contribute nothing
])
def test_binary_conv_same_pad_values(pad_value, expected):
    # all -1 input bits, all +1 3x3 weights: s = (-1) * taps inside + pad * taps outside
    first = FirstConv(-np.ones((1, 1, 1, 1), np.int8))  # pixel 1 -> s = -1 -> bit -1 below
    spec = ModelSpec((3, 3, 1), [first, Threshold(np.zeros(1, np.int32), np.zeros(1, bool)),
                                 Conv(np.ones((1, 3, 3, 1), np.int8), padding="same",
                                      pad_value=pad_value), *_tail(9)])
    outs = run_reference_layers(spec, np.ones((1, 3, 3, 1), np.uint8))
    assert (outs[1] == -1).all()
    assert outs[2][0, :, :, 0].tolist() == expected


def test_same_padding_split_puts_the_extra_after():
    # H = 4, k = 3, s = 2: H' = 2, total padding 1, all of it after (bottom/right).
    assert conv_geometry(4, 3, 2, "same") == (2, 0, 1)
    assert conv_geometry(5, 3, 2, "same") == (3, 1, 1)
    assert conv_geometry(7, 5, 1, "valid") == (3, 0, 0)
    w = np.zeros((1, 3, 3, 1), np.int8) + 1
    spec = ModelSpec((4, 4, 1), [FirstConv(w, stride=(2, 2), padding="same"), *_tail(4)])
    x = np.arange(1, 17, dtype=np.uint8).reshape(1, 4, 4, 1)
    s = _sums(spec, x)[0, :, :, 0]
    img = x[0, :, :, 0].astype(int)
    # window of output (0, 0) covers rows 0..2, cols 0..2; (1, 1) rows 2..3 + pad, cols 2..3
    assert s[0, 0] == img[0:3, 0:3].sum() and s[1, 1] == img[2:4, 2:4].sum()
    assert s[0, 1] == img[0:3, 2:4].sum() and s[1, 0] == img[2:4, 0:3].sum()


def _loop_conv(a, w, stride, padding, pad):
    """A second reading of the conv formula: explicit loops and index arithmetic."""
    n, h, wd, c = a.shape
    units, kh, kw, _ = w.shape
    oh, top, _ = conv_geometry(h, kh, stride[0], padding)
    ow, left, _ = conv_geometry(wd, kw, stride[1], padding)
    out = np.zeros((n, oh, ow, units), np.int64)
    for i in range(oh):
        for j in range(ow):
            for di in range(kh):
                for dj in range(kw):
                    y, x = i * stride[0] + di - top, j * stride[1] + dj - left
                    v = a[:, y, x, :].astype(np.int64) if 0 <= y < h and 0 <= x < wd else \
                        np.full((n, c), pad, np.int64)
                    out[:, i, j, :] += v @ w[:, di, dj, :].astype(np.int64).T
    return out


@pytest.mark.parametrize("kernel", [1, 3, 5])
@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("pad_value", ["one", "zero"])
def test_conv_matches_loops(rng, kernel, stride, padding, pad_value):
    first_w = random_pm1(rng, (17, 1, 1, 3))
    w = random_pm1(rng, (5, kernel, kernel, 17))
    spec = ModelSpec((7, 6, 3), [
        FirstConv(first_w), Threshold(np.zeros(17, np.int32), rng.random(17) < 0.5),
        Conv(w, stride=(stride, stride), padding=padding, pad_value=pad_value),
        Threshold(np.zeros(5, np.int32), np.zeros(5, bool)), Flatten(),
        Dense(random_pm1(rng, (2, _conv_out_size((7, 6), kernel, stride, padding, 5)))),
        _affine(2)])
    x = rng.integers(0, 256, (3, 7, 6, 3), dtype=np.uint8)
    outs = run_reference_layers(spec, x)
    assert np.array_equal(outs[0], _loop_conv(x, first_w, (1, 1), "valid", 0))
    bits = outs[1]
    assert np.array_equal(outs[2], _loop_conv(bits, w, (stride, stride), padding,
                                              1 if pad_value == "one" else 0))


def _conv_out_size(hw, k, s, padding, units):
    return (conv_geometry(hw[0], k, s, padding)[0] * conv_geometry(hw[1], k, s, padding)[0]
            * units)


def test_first_conv_matches_loops_same_stride(rng):
    w = random_pm1(rng, (4, 3, 5, 3))
    spec = ModelSpec((6, 7, 3), [FirstConv(w, stride=(2, 1), padding="same"), Flatten(),
                                 Threshold(np.zeros(84, np.int32), np.zeros(84, bool)),
                                 Dense(random_pm1(rng, (2, 84))), _affine(2)])
    x = rng.integers(0, 256, (2, 6, 7, 3), dtype=np.uint8)
    got = run_reference_layers(spec, x)[0]
    assert np.array_equal(got, _loop_conv(x, w, (2, 1), "same", 0))


# ------------------------------------------------------------------ pool, threshold, flatten

def _pool_spec(c):
    return ModelSpec((4, 6, c), [FirstConv(random_pm1(np.random.default_rng(3), (c, 1, 1, c))),
                                 Threshold(np.zeros(c, np.int32), np.zeros(c, bool)),
                                 MaxPool(size=(2, 3), stride=(2, 3)), Flatten(),
                                 Dense(random_pm1(np.random.default_rng(4), (1, 4 * c))),
                                 _affine(1)])


def test_maxpool_on_bits_is_and(rng):
    c = 70
    spec = _pool_spec(c)
    outs = run_reference_layers(spec, rng.integers(0, 256, (3, 4, 6, c), dtype=np.uint8))
    bits, pooled = outs[1], outs[2]
    assert pooled.shape == (3, 2, 2, c)
    for i in range(2):
        for j in range(2):
            window = bits[:, 2 * i:2 * i + 2, 3 * j:3 * j + 3, :].reshape(3, 6, c)
            anded = np.bitwise_and.reduce(pack_bits(window, axis=-1), axis=1)
            assert np.array_equal(pack_bits(pooled[:, i, j, :]), anded)


def test_maxpool_on_ints_is_max(rng):
    w = random_pm1(rng, (3, 1, 1, 2))
    spec = ModelSpec((5, 5, 2), [FirstConv(w), MaxPool(size=(3, 2), stride=(1, 2)),
                                 Threshold(np.zeros(3, np.int32), np.zeros(3, bool)), Flatten(),
                                 Dense(random_pm1(rng, (1, 3 * 2 * 3))), _affine(1)])
    outs = run_reference_layers(spec, rng.integers(0, 256, (2, 5, 5, 2), dtype=np.uint8))
    s, pooled = outs[0], outs[1]
    assert pooled.shape == (2, 3, 2, 3) and pooled.dtype == np.int32
    for i in range(3):
        for j in range(2):
            assert np.array_equal(pooled[:, i, j], s[:, i:i + 3, 2 * j:2 * j + 2].max(axis=(1, 2)))


def test_threshold_ties_go_to_plus_one():
    # first_dense with one +1 weight per unit: s equals the pixel; thresholds 5, flips differ
    spec = ModelSpec((1,), [FirstDense(np.ones((2, 1), np.int8)),
                            Threshold(np.array([5, 5], np.int32), np.array([False, True])),
                            Dense(np.ones((1, 2), np.int8)), _affine(1)])
    for v, want in ((4, [-1, 1]), (5, [1, 1]), (6, [1, -1])):
        outs = run_reference_layers(spec, np.array([[v]], np.uint8))
        assert outs[0][0].tolist() == [v, v]
        assert outs[1][0].tolist() == want, v


def test_threshold_on_negative_sums():
    spec = ModelSpec((2,), [FirstDense(np.array([[1, -1]], np.int8)),
                            Threshold(np.array([-3], np.int32), np.array([True])),
                            Dense(np.ones((1, 1), np.int8)), _affine(1)])
    for x, want in (([0, 3], 1), ([0, 2], -1), ([0, 4], 1)):
        assert run_reference_layers(spec, np.array([x], np.uint8))[1][0, 0] == want


def test_flatten_order_pinned_with_one_hot():
    h, w, c = 2, 3, 4
    spec = ModelSpec((h, w, c), [Flatten(), FirstDense(np.ones((1, h * w * c), np.int8)),
                                 _affine(1)])
    for y in range(h):
        for x in range(w):
            for ch in range(c):
                img = np.zeros((1, h, w, c), np.uint8)
                img[0, y, x, ch] = 7
                flat = run_reference_layers(spec, img)[0][0]
                assert flat.dtype == np.uint8
                assert np.flatnonzero(flat).tolist() == [(y * w + x) * c + ch]


def test_affine_is_float32(rng):
    scale = rng.normal(size=3).astype(np.float32)
    bias = rng.normal(size=3).astype(np.float32)
    spec = ModelSpec((5,), [FirstDense(random_pm1(rng, (3, 5))), Affine(scale, bias)])
    x = rng.integers(0, 256, (4, 5), dtype=np.uint8)
    out = run_reference(spec, x)
    s = run_reference_layers(spec, x)[0]
    assert out.dtype == np.float32 and out.shape == (4, 3)
    assert np.array_equal(out, s.astype(np.float32) * scale + bias)


# ------------------------------------------------------------------ whole models

@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_named_models_run(name):
    spec = named_model(name)
    rng = np.random.default_rng(7)
    outs = run_reference_layers(spec, random_input(rng, spec, 5))
    for ls, out in zip(layer_shapes(spec), outs):
        assert out.shape == (5,) + ls.out_shape
        want = {"u8": np.uint8, "int": np.int32, "bits": np.int8, "float": np.float32}
        assert out.dtype == want[ls.out_domain]
        if ls.out_domain == "bits":
            assert set(np.unique(out)) <= {-1, 1}
    assert np.isfinite(outs[-1]).all()
    text = summarize(spec)
    assert "total" in text and text.count("\n") >= len(spec.layers) + 4


def test_thresholds_give_both_signs_and_ties():
    rng = np.random.default_rng(0)
    s = rng.integers(-20, 21, size=(64, 40))
    th = random_thresholds(rng, s)
    t = th.thresholds.astype(np.int64)
    assert (s == t).any(axis=0).sum() >= 5  # exact ties reachable
    fire = (s >= t) != th.flip  # ignoring ties, the sign mix
    assert fire.any() and (~fire).any()


def test_random_models_are_valid_and_run():
    for seed in range(6):
        rng = np.random.default_rng(seed)
        spec = random_model(rng, kind="conv", input_shape=(9, 10, 3), channels=(17, 65, 3))
        out = run_reference(spec, random_input(rng, spec, 2))
        assert out.shape == (2, 10)


def test_bad_input_is_named():
    spec = named_model("dense_tiny")
    with pytest.raises(ValueError, match=r"expected uint8 input of shape \(N, 5\), got int64"):
        run_reference(spec, np.zeros((2, 5), np.int64))
    with pytest.raises(ValueError, match="got uint8 \\(2, 6\\)"):
        run_reference(spec, np.zeros((2, 6), np.uint8))


def test_summary_counts():
    spec = named_model("conv_pool_before")
    rows = layer_stats(spec)
    conv = rows[0]  # first_conv 17 units 3x3x3 over 8x8
    assert conv["first_macs"] == 8 * 8 * 17 * 27 and conv["bin_params"] == 17 * 27
    assert conv["bytes"] == 17 * 9 * 8
    assert rows[1]["other_ops"] == 4 * 4 * 17 * 3  # 2x2 pool: 3 compares per output
    assert rows[-1]["other_ops"] == 20
