"""Backward passes against central finite differences (where the forward is differentiable).

The binary layers are linear in their input for fixed binary weights, and
bilinear in (input, binary weights), so their gradients are checked exactly
against finite differences of the same computation in float64; weight
gradients are those with respect to the binary weights (the straight-through
estimator hands them to the latent weights unchanged).
"""
import numpy as np
import pytest

from pybnn.train.binarize import ap2
from pybnn.train.layers_basic import Dropout, Flatten, MaxPool2D
from pybnn.train.layers_binary import BinaryConv2D, BinaryDense
from pybnn.train.layers_norm import BatchNorm, ShiftBatchNorm
from pybnn.train.losses import cross_entropy, squared_hinge


def numeric_grad(f, x, eps=1e-6):
    """Central differences of the scalar f at float64 x."""
    g = np.zeros_like(x)
    for i in range(x.size):
        old = x.flat[i]
        x.flat[i] = old + eps
        up = f(x)
        x.flat[i] = old - eps
        down = f(x)
        x.flat[i] = old
        g.flat[i] = (up - down) / (2 * eps)
    return g


def build(layer, shape, seed=0):
    out = layer.build(shape, np.random.default_rng(seed))
    return layer, out


def check_input_grad(layer, x, rtol=1e-6, atol=1e-7, train=True):
    rng = np.random.default_rng(5)
    y = layer.forward(x.copy(), train, rng)
    r = np.random.default_rng(6).standard_normal(y.shape)
    dx = layer.backward(r.copy())
    num = numeric_grad(lambda v: float(np.sum(layer.forward(v.copy(), train, rng) * r)), x.copy())
    np.testing.assert_allclose(dx, num, rtol=rtol, atol=atol)


def test_dense_input_and_weight_grad():
    layer, _ = build(BinaryDense(5), (7,))
    x = np.random.default_rng(1).standard_normal((4, 7))
    check_input_grad(layer, x)
    # weight gradient = gradient with respect to the binary weights of x @ Wb
    wb = np.where(layer.W.value >= 0, 1.0, -1.0)
    r = np.random.default_rng(2).standard_normal((4, 5))
    layer.forward(x, True, None)
    layer.backward(r)
    num = numeric_grad(lambda w: float(np.sum((x @ w) * r)), wb.copy())
    np.testing.assert_allclose(layer.W.grad, num, rtol=1e-5, atol=1e-5)


def naive_conv(x, w, stride, padding, fill):
    """Loop-based NHWC conv (float64) with TF 'same' geometry: the oracle for im2col."""
    n, h, wd, c = x.shape
    kh, kw, _, units = w.shape
    sh, sw = stride
    if padding == "same":
        oh, ow = -(-h // sh), -(-wd // sw)
        ph, pw = max((oh - 1) * sh + kh - h, 0), max((ow - 1) * sw + kw - wd, 0)
        top, left = ph // 2, pw // 2
    else:
        oh, ow, ph, pw, top, left = (h - kh) // sh + 1, (wd - kw) // sw + 1, 0, 0, 0, 0
    xp = np.full((n, h + ph, wd + pw, c), fill, dtype=np.float64)
    xp[:, top:top + h, left:left + wd] = x
    out = np.zeros((n, oh, ow, units))
    for i in range(oh):
        for j in range(ow):
            patch = xp[:, i * sh:i * sh + kh, j * sw:j * sw + kw, :]
            out[:, i, j, :] = np.tensordot(patch, w, axes=([1, 2, 3], [0, 1, 2]))
    return out


@pytest.mark.parametrize("padding, pad_value, stride, kernel, hw", [
    ("valid", "zero", (1, 1), (3, 3), (6, 5)),
    ("same", "zero", (1, 1), (3, 3), (5, 6)),
    ("same", "one", (1, 1), (3, 3), (5, 5)),
    ("same", "one", (2, 2), (3, 2), (7, 6)),
    ("same", "zero", (2, 1), (2, 3), (6, 7)),
    ("valid", "one", (2, 2), (3, 3), (7, 7)),
    ("valid", "zero", (1, 1), (1, 1), (4, 5)),  # 1x1: the columns are a view of the input
])
def test_conv_forward_and_grads(padding, pad_value, stride, kernel, hw):
    conv = BinaryConv2D(4, kernel, stride, padding, pad_value)
    conv.is_first = False
    conv.needs_input_grad = True
    build(conv, hw + (3,))
    x = np.random.default_rng(3).standard_normal((2,) + hw + (3,))
    wb = np.where(conv.W.value >= 0, 1.0, -1.0)
    fill = 1.0 if pad_value == "one" else 0.0
    want = naive_conv(x, wb, stride, padding, fill)
    got = conv.forward(x, True, None)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    # The padding is a constant, so the forward is affine in x: the FD gradient is exact.
    check_input_grad(conv, x)
    r = np.random.default_rng(4).standard_normal(got.shape)
    conv.forward(x, True, None)
    conv.backward(r)
    num = numeric_grad(lambda w: float(np.sum(naive_conv(x, w, stride, padding, fill) * r)),
                       wb.copy())
    np.testing.assert_allclose(conv.W.grad, num, rtol=1e-5, atol=1e-5)


def test_first_conv_pads_with_zero():
    conv = BinaryConv2D(2, 3, 1, "same", "one")
    conv.is_first = True
    build(conv, (4, 4, 1))
    x = np.ones((1, 4, 4, 1))
    wb = np.where(conv.W.value >= 0, 1.0, -1.0)
    np.testing.assert_allclose(conv.forward(x, False, None), naive_conv(x, wb, (1, 1), "same", 0.0))


@pytest.mark.parametrize("shape", [(6, 4), (3, 4, 5, 2)])
def test_batchnorm_grad(shape):
    bn, _ = build(BatchNorm(), shape[1:])
    rng = np.random.default_rng(7)
    bn.gamma.value[...] = rng.uniform(-2, 2, shape[-1])
    bn.beta.value[...] = rng.standard_normal(shape[-1])
    x = rng.standard_normal(shape) * 3 + 1
    check_input_grad(bn, x, rtol=1e-4, atol=1e-6)
    # parameter gradients: y is linear in gamma and beta
    r = rng.standard_normal(shape)
    y = bn.forward(x, True, None)
    bn.backward(r)
    xhat = (y - bn.beta.value) / bn.gamma.value
    axes = tuple(range(len(shape) - 1))
    np.testing.assert_allclose(bn.gamma.grad, np.sum(r * xhat, axis=axes), rtol=1e-4)
    np.testing.assert_allclose(bn.beta.grad, np.sum(r, axis=axes), rtol=1e-5)


def test_shift_batchnorm_forward_and_ste_backward():
    shape = (8, 5)
    bn, _ = build(ShiftBatchNorm(eps=1e-4), shape[1:])
    rng = np.random.default_rng(8)
    bn.gamma.value[...] = rng.uniform(0.3, 2, 5)
    bn.beta.value[...] = rng.standard_normal(5)
    x = (rng.standard_normal(shape) * 3 + 1).astype(np.float32)
    y = bn.forward(x, True, None)
    c = x - x.mean(axis=0)
    var = np.mean(c * ap2(c), axis=0)
    inv = ap2(1 / np.sqrt(var + np.float32(1e-4)))
    np.testing.assert_allclose(y, ap2(bn.gamma.value) * c * inv + bn.beta.value, rtol=1e-5,
                               atol=1e-6)
    # AP2 makes the forward piecewise constant in its scale factors, so finite
    # differences are not defined; the backward is BN's formula at these values.
    r = rng.standard_normal(shape).astype(np.float32)
    dx = bn.backward(r)
    xhat = c * inv
    d = r * ap2(bn.gamma.value)
    want = inv * (d - d.mean(axis=0) - xhat * np.mean(d * xhat, axis=0))
    np.testing.assert_allclose(dx, want, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(bn.gamma.grad, np.sum(r * xhat, axis=0), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("size, stride", [((2, 2), (2, 2)), ((3, 3), (2, 2)), ((2, 3), (1, 2))])
def test_maxpool_grad(size, stride):
    pool, _ = build(MaxPool2D(size, stride), (7, 8, 3))
    x = np.random.default_rng(9).permutation(2 * 7 * 8 * 3).reshape(2, 7, 8, 3) * 0.01
    check_input_grad(pool, x.astype(np.float64), atol=1e-6)


def test_flatten_and_dropout_grads():
    flat, _ = build(Flatten(), (3, 2, 4))
    check_input_grad(flat, np.random.default_rng(0).standard_normal((2, 3, 2, 4)))
    drop, _ = build(Dropout(0.5), (10,))
    x = np.random.default_rng(1).standard_normal((4, 10))
    y = drop.forward(x, True, np.random.default_rng(2))
    kept = y != 0
    assert 0 < kept.mean() < 1
    np.testing.assert_allclose(y[kept], 2 * x[kept])
    np.testing.assert_allclose(drop.backward(np.ones_like(x)), 2.0 * kept)
    np.testing.assert_array_equal(drop.forward(x, False, None), x)


@pytest.mark.parametrize("loss", [squared_hinge, cross_entropy])
def test_loss_grads(loss):
    rng = np.random.default_rng(10)
    out = rng.standard_normal((5, 4)) * 2
    labels = rng.integers(0, 4, 5)
    _, g = loss(out.astype(np.float32), labels)
    num = numeric_grad(lambda o: loss(o.astype(np.float64), labels)[0], out.copy(), eps=1e-5)
    np.testing.assert_allclose(g, num, rtol=1e-3, atol=1e-5)
