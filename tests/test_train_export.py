"""Export: batch-norm folding and the .bnn file give exactly the trainer's evaluation forward.

The trainer evaluates by running its exported integer model (pybnn.train.infer,
float32 BLAS on exact integers); these tests check that pipeline against the
NumPy reference executor (the engine's oracle) and the written file, on random
small nets (dense and conv, both paddings, both pad values, strides, pooling
on integers and on bits, negative and zero batch-norm scales, shift-based BN).
"""
import math

import numpy as np
import pytest

import pybnn
from pybnn import format as bnn_format
from pybnn.format import layers as L
from pybnn.reference import run_reference
from pybnn.train.export import fold_thresholds
from pybnn.train.infer import run_spec

from train_factory import conv_net, dense_net, random_input, randomize

# The engine computes the same float32(s) * scale + bias; allow for a fused multiply-add.
SCORE_RTOL, SCORE_ATOL = 1e-6, 1e-6


def check_exact(model, n=64):
    x = random_input(model, n)
    spec = model.to_spec()
    scores = model.scores(x)
    ref = run_reference(spec, x)
    np.testing.assert_array_equal(scores, ref)  # same integers, same float32 affine
    # the bytes of the file describe the same model
    data = bnn_format.to_bytes(spec)
    np.testing.assert_array_equal(run_spec(bnn_format.parse(data), x), ref)
    # and the engine, on every kernel set, predicts what the trainer predicts
    engine_scores = pybnn.load(data).run(x)
    np.testing.assert_allclose(engine_scores, scores, rtol=SCORE_RTOL, atol=SCORE_ATOL)
    np.testing.assert_array_equal(np.argmax(engine_scores, 1), np.argmax(scores, 1))
    return spec, x, scores


@pytest.mark.parametrize("shift_bn", [False, True])
def test_dense_export_is_exact(shift_bn, isa):
    model = dense_net(shift_bn=shift_bn, seed=3)
    randomize(model, random_input(model, 50, seed=4), seed=5)
    spec, _, _ = check_exact(model)
    kinds = [type(layer).__name__ for layer in spec.layers]
    assert kinds == ["FirstDense", "Threshold", "Dense", "Threshold", "Dense", "Affine"]
    assert spec.layers[1].flip.any() and not spec.layers[1].flip.all()


@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("pad_value", ["zero", "one"])
@pytest.mark.parametrize("stride", [(1, 1), (2, 1)])
def test_conv_export_is_exact(padding, pad_value, stride, isa):
    shape = (13, 12, 2) if stride != (1, 1) else (9, 8, 2)
    model = conv_net(shape, padding, pad_value, stride, seed=7)
    randomize(model, random_input(model, 40, seed=8), seed=9)
    spec, _, _ = check_exact(model, n=40)
    kinds = [type(layer).__name__ for layer in spec.layers]
    assert kinds == ["FirstConv", "MaxPool", "Threshold", "Conv", "Threshold", "MaxPool",
                     "Flatten", "Dense", "Threshold", "Dense", "Affine"]
    assert spec.layers[3].pad_value == pad_value and spec.layers[3].padding == padding


def test_conv_shift_bn_export_is_exact():
    model = conv_net(shift_bn=True, seed=11)
    randomize(model, random_input(model, 40, seed=12), seed=13)
    check_exact(model, n=40)


def test_folded_thresholds_match_float_batchnorm_on_most_inputs():
    """Away from exact ties, folding changes nothing: compare with the float eval forward."""
    model = dense_net(seed=21)
    randomize(model, random_input(model, 200, seed=22), seed=23, zero_gamma=False)
    x = random_input(model, 300, seed=24)
    float_pred = np.argmax(model.forward(x, train=False), axis=1)
    int_pred = model.predict(x)
    assert np.mean(float_pred == int_pred) >= 0.98


def brute_sign(a, b, s):
    """sign(a * s + b) with sign(0) = +1, exactly (fractions, no rounding)."""
    from fractions import Fraction
    v = Fraction(a) * s + Fraction(b)
    return 1 if v >= 0 else -1


@pytest.mark.parametrize("a, b", [
    (0.5, -1.0), (-0.5, 1.0), (1 / 255, -3 / 255), (-1 / 255, 3 / 255), (0.3, 0.1), (-0.3, 0.1),
    (0.0, 0.0), (0.0, -0.2), (0.0, 0.7), (2.5, 1e9), (-2.5, 1e9), (1e-300, -1.0), (-1e-300, -1.0),
    (3.0, -6.0), (-3.0, 6.0), (0.1, 0.3),
])
def test_fold_thresholds_brute_force(a, b):
    t, flip = fold_thresholds(np.array([a]), np.array([b]))
    assert t.dtype == np.int32
    for s in range(-40, 41):
        want = brute_sign(a, b, s)
        got = 1 if ((s <= t[0]) if flip[0] else (s >= t[0])) else -1
        assert got == want, (a, b, s, int(t[0]), bool(flip[0]))


def test_fold_thresholds_rejects_nan():
    with pytest.raises(ValueError, match="NaN threshold"):
        fold_thresholds(np.array([1.0]), np.array([math.nan]))


def test_export_rejects_unfoldable_models():
    from pybnn.train.layers_basic import BinaryActivation, MaxPool2D
    from pybnn.train.layers_binary import BinaryConv2D, BinaryDense
    from pybnn.train.layers_norm import BatchNorm
    from pybnn.train.network import Network
    m = Network((4, 4, 1), [BinaryConv2D(2, 3), BatchNorm(), MaxPool2D(2), BinaryActivation()])
    m.layers[1].gamma.value[0] = -1.0
    with pytest.raises(ValueError, match="max-pooling after a batch-norm with negative"):
        m.to_spec()
    m = Network((5,), [BinaryDense(3), BinaryDense(2)])
    with pytest.raises(ValueError, match="needs \\+-1 or uint8 input"):
        m.to_spec()
    m = Network((5,), [BinaryDense(3), BatchNorm(), BinaryActivation()])
    with pytest.raises(ValueError, match="must end with a binary layer"):
        m.to_spec()


def test_export_writes_a_readable_file(tmp_path):
    model = dense_net(seed=31)
    randomize(model, random_input(model, 50), seed=32)
    path = tmp_path / "m.bnn"
    model.export(str(path))
    spec = bnn_format.read(str(path))
    assert isinstance(spec.layers[0], L.FirstDense)
    x = random_input(model, 20)
    np.testing.assert_array_equal(run_reference(spec, x), model.scores(x))
