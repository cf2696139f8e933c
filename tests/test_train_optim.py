"""Optimizers: Adam and AdaMax against a float64 transcription, shift-based AdaMax
steps are powers of two, latent weights are clipped, the schedule and LR scale."""
import numpy as np
import pytest

from pybnn.train.base import Param
from pybnn.train.layers_binary import BinaryDense, glorot_lr_scale
from pybnn.train.optim import AdaMax, Adam, ShiftAdaMax, lr_at_epoch


def grads(seed, n=3, shape=(50,)):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape).astype(np.float32) * 10.0 ** rng.uniform(-3, 1)
            for _ in range(n)]


def test_adam_matches_the_formula():
    p = Param("w", np.zeros(50), lr_scale=2.0)
    opt = Adam([p])
    m = v = np.zeros(50)
    w = np.zeros(50)
    for t, g in enumerate(grads(0), start=1):
        p.grad[...] = g
        opt.step(0.01)
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g.astype(np.float64) ** 2
        w = w - 0.01 * 2.0 * (m / (1 - 0.9 ** t)) / (np.sqrt(v / (1 - 0.999 ** t)) + 1e-8)
    np.testing.assert_allclose(p.value, w, rtol=1e-4, atol=1e-7)


def test_adamax_matches_the_formula():
    p = Param("w", np.zeros(50))
    opt = AdaMax([p])
    m = u = w = np.zeros(50)
    for t, g in enumerate(grads(1), start=1):
        p.grad[...] = g
        opt.step(0.01)
        m = 0.9 * m + 0.1 * g
        u = np.maximum(0.999 * u, np.abs(g))
        w = w - 0.01 / (1 - 0.9 ** t) * m / (u + 1e-8)
    np.testing.assert_allclose(p.value, w, rtol=1e-4, atol=1e-7)


def test_shift_adamax_steps_are_powers_of_two():
    rng = np.random.default_rng(2)
    p = Param("w", np.zeros(400), lr_scale=glorot_lr_scale(784, 1024))
    opt = ShiftAdaMax([p])
    for t in range(20):
        g = rng.standard_normal(400).astype(np.float32) * 10.0 ** rng.uniform(-4, 2)
        g[:5] = 0.0  # never any gradient: no step
        p.grad[...] = g
        before = p.value.copy()
        opt.step(0.003)
        step = (before - p.value).astype(np.float64)
        assert np.all(step[:5] == 0)
        nz = step[step != 0]
        assert nz.size > 300
        mantissa, _ = np.frexp(np.abs(nz))
        assert np.all(mantissa == 0.5), "a step that is not a power of two"
        # the size stays that of AdaMax's step within the AP2 roundings (three factors of sqrt 2)
        assert np.all(np.abs(nz) <= 0.003 * p.lr_scale / (1 - 0.9 ** (t + 1)) * 2 ** 1.5 * 1.0001)


@pytest.mark.parametrize("opt_cls", [Adam, AdaMax, ShiftAdaMax])
def test_latent_weights_are_clipped_after_every_update(opt_cls):
    layer = BinaryDense(8)
    layer.build((6,), np.random.default_rng(0))
    opt = opt_cls(layer.params())
    rng = np.random.default_rng(1)
    for _ in range(5):
        layer.W.grad[...] = rng.standard_normal(layer.W.value.shape)
        opt.step(10.0)  # steps far beyond the [-1, 1] box
        assert np.all(np.abs(layer.W.value) <= 1.0)
    assert np.any(np.abs(layer.W.value) == 1.0)


def test_params_without_clip_are_not_clipped():
    p = Param("beta", np.zeros(4))
    p.grad[...] = -1.0
    opt = Adam([p])
    for _ in range(3):
        opt.step(1.0)
    assert np.all(p.value > 2.5)


def test_glorot_scale_and_schedule():
    assert glorot_lr_scale(784, 4096) == pytest.approx(1 / np.sqrt(1.5 / 4880))
    layer = BinaryDense(30)
    layer.build((20,), np.random.default_rng(0))
    assert layer.W.lr_scale == pytest.approx(np.sqrt(50 / 1.5))
    assert lr_at_epoch(0, 10, 0.003, 3e-7) == pytest.approx(0.003)
    assert lr_at_epoch(10, 10, 0.003, 3e-7) == pytest.approx(3e-7)
    decays = [lr_at_epoch(e + 1, 10, 0.003, 3e-7) / lr_at_epoch(e, 10, 0.003, 3e-7) for e in range(9)]
    np.testing.assert_allclose(decays, (1e-4) ** 0.1)
    with pytest.raises(ValueError, match="must be positive"):
        lr_at_epoch(0, 5, 0.0, 1.0)


def test_optimizer_state_roundtrip():
    p = Param("w", np.ones(5))
    opt = Adam([p])
    p.grad[...] = 1.0
    opt.step(0.1)
    state = {k: (v if k == "t" else [a.copy() for a in v]) for k, v in opt.state().items()}
    q = Param("w", p.value.copy())
    opt2 = Adam([q])
    opt2.load_state(state)
    p.grad[...] = q.grad[...] = 0.5
    opt.step(0.1)
    opt2.step(0.1)
    np.testing.assert_array_equal(p.value, q.value)
