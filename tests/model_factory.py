"""Random valid ModelSpecs for tests (the format, the reference, the C engine, the trainer).

`random_model(rng, kind=...)` builds a model layer by layer; thresholds are
drawn from the sums a calibration batch really produces, so both output
signs occur and some thresholds equal reachable sums exactly (ties).
`named_model(name)` gives the fixed small configurations in `CONFIGS`, for
parametrised tests. No test functions live here.
"""
import numpy as np

from pybnn.format.layers import (Affine, Conv, Dense, FirstConv, FirstDense, Flatten, MaxPool, ModelSpec,
                          Threshold)
from pybnn.reference import apply_layer
from pybnn.format.shapes import layer_params, next_shape

KINDS = ("dense", "conv", "flatten_first")


def random_pm1(rng, shape):
    """int8 array of +-1."""
    return np.where(rng.random(shape) < 0.5, -1, 1).astype(np.int8)


def random_input(rng, spec, n=4):
    """A uint8 batch (n, *spec.input_shape)."""
    return rng.integers(0, 256, size=(n,) + tuple(spec.input_shape), dtype=np.uint8)


def random_thresholds(rng, s):
    """A Threshold for sums s (..., C): per channel a sum seen in s (a tie), a value inside the
    seen range, or now and then one just outside it (every output the same sign)."""
    s = s.reshape(-1, s.shape[-1]).astype(np.int64)
    c = s.shape[1]
    lo, hi = s.min(axis=0), s.max(axis=0)
    seen = s[rng.integers(0, s.shape[0], c), np.arange(c)]
    inside = lo + np.floor(rng.random(c) * (hi - lo + 1)).astype(np.int64)
    outside = np.where(rng.random(c) < 0.5, lo - 1, hi + 1)
    pick = rng.random(c)
    t = np.where(pick < 0.45, seen, np.where(pick < 0.9, inside, outside))
    return Threshold(thresholds=t.astype(np.int32), flip=rng.random(c) < 0.5)


class ModelBuilder:
    """Appends layers while tracking shapes and a calibration batch through the reference."""

    def __init__(self, rng, input_shape, calib):
        self.rng, self.layers = rng, []
        self.shape, self.domain = tuple(input_shape), "u8"
        self.a = rng.integers(0, 256, size=(calib,) + self.shape, dtype=np.uint8)

    def add(self, layer):
        kind, units, kernel, stride, padding = layer_params(layer)
        ls = next_shape(len(self.layers), kind, self.shape, self.domain, kind == "affine",
                        units, kernel, stride, padding)
        self.a = apply_layer(layer, ls, self.a)
        self.layers.append(layer)
        self.shape, self.domain = ls.out_shape, ls.out_domain

    def threshold(self):
        self.add(random_thresholds(self.rng, self.a))

    def affine(self):
        c = self.shape[0]
        self.add(Affine(scale=self.rng.normal(size=c).astype(np.float32),
                        bias=self.rng.normal(size=c).astype(np.float32)))


def _pick(rng, value, choices):
    return choices[rng.integers(len(choices))] if value is None else value


def random_model(rng, kind="conv", input_shape=None, channels=(17,), hidden=(), classes=10,
                 kernel=None, stride=None, padding=None, pad_value=None, pool=None,
                 flatten_on="bits", calib=8):
    """A random valid ModelSpec.

    kind: "dense" (FirstDense, then Dense per `hidden`), "conv" (FirstConv then a Conv per
    further entry of `channels`, Flatten, Dense per `hidden`) or "flatten_first" (Flatten of
    the image, FirstDense ...). Each conv block takes kernel (1, 3, 5; only sizes that fit),
    stride (1, 2), padding, pad_value and pool ("none", "before" the threshold on ints,
    "after" it on bits) as given, or draws them when None. flatten_on: "bits" (after the
    last threshold) or "int" (flatten the last conv's sums, then threshold). The last
    layers are Dense(classes) (FirstDense when nothing precedes) and Affine.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    if input_shape is None:
        input_shape = (37,) if kind == "dense" else (8, 8, 3)
    b = ModelBuilder(rng, input_shape, calib)
    if kind == "conv":
        for i, units in enumerate(channels):
            h, w = b.shape[:2]
            k = _pick(rng, kernel, [v for v in (1, 3, 5) if v <= min(h, w)])
            pd = _pick(rng, padding, ("valid", "same"))
            if pd == "valid" and k > min(h, w):
                pd = "same"
            st = _pick(rng, stride, (1, 2))
            weights = random_pm1(rng, (units, k, k, b.shape[2]))
            if i == 0:
                b.add(FirstConv(weights=weights, stride=(st, st), padding=pd))
            else:
                b.add(Conv(weights=weights, stride=(st, st), padding=pd,
                           pad_value=_pick(rng, pad_value, ("one", "zero"))))
            pl = _pick(rng, pool, ("none", "before", "after"))
            fits = min(b.shape[:2]) >= 2
            if pl == "before" and fits:
                b.add(MaxPool(size=(2, 2), stride=(2, 2)))
            if i == len(channels) - 1 and flatten_on == "int":
                b.add(Flatten())
            b.threshold()
            if pl == "after" and fits:
                b.add(MaxPool(size=(2, 2), stride=(2, 2)))
        if flatten_on == "bits":
            b.add(Flatten())
    elif kind == "flatten_first":
        b.add(Flatten())
    first = kind != "conv"
    sizes = tuple(hidden) + (classes,)
    for i, units in enumerate(sizes):
        weights = random_pm1(rng, (units, b.shape[0]))
        b.add(FirstDense(weights=weights) if first else Dense(weights=weights))
        first = False
        if i < len(sizes) - 1:
            b.threshold()
    b.affine()
    return ModelSpec(input_shape=tuple(input_shape), layers=b.layers)


# Small fixed configurations for parametrised tests: name -> random_model kwargs.
CONFIGS = {
    "dense_tiny": dict(kind="dense", input_shape=(5,), hidden=(3,), classes=2),
    "dense_words": dict(kind="dense", input_shape=(64,), hidden=(65, 130), classes=3),
    "dense_wide_input": dict(kind="dense", input_shape=(130,), hidden=(17,), classes=10),
    "flatten_first": dict(kind="flatten_first", input_shape=(4, 5, 3), hidden=(17,), classes=4),
    "conv_same_one": dict(kind="conv", input_shape=(7, 7, 3), channels=(17, 17), kernel=3,
                          stride=1, padding="same", pad_value="one", pool="none"),
    "conv_same_zero_s2": dict(kind="conv", input_shape=(9, 8, 3), channels=(17, 65), kernel=3,
                              stride=2, padding="same", pad_value="zero", pool="none"),
    "conv_valid_k5": dict(kind="conv", input_shape=(9, 9, 1), channels=(3, 17), kernel=5,
                          stride=1, padding="valid", pad_value="one", pool="none"),
    "conv_k1": dict(kind="conv", input_shape=(5, 6, 17), channels=(65, 3), kernel=1, stride=1,
                    padding="valid", pool="none"),
    "conv_pool_before": dict(kind="conv", input_shape=(8, 8, 3), channels=(17, 65), kernel=3,
                             stride=1, padding="same", pool="before"),
    "conv_pool_after": dict(kind="conv", input_shape=(8, 8, 3), channels=(17, 65), kernel=3,
                            stride=1, padding="same", pool="after", pad_value="zero"),
    "conv_130": dict(kind="conv", input_shape=(6, 6, 3), channels=(130, 65), kernel=3, stride=1,
                     padding="same", pool="none", hidden=(17,)),
    "conv_flatten_int": dict(kind="conv", input_shape=(6, 6, 3), channels=(17,), kernel=3,
                             stride=2, padding="valid", pool="none", flatten_on="int"),
    "conv_random": dict(kind="conv", input_shape=(12, 11, 3), channels=(17, 65, 17), hidden=(33,)),
}


def named_model(name, seed=0):
    """The ModelSpec of CONFIGS[name], reproducible for a given seed."""
    return random_model(np.random.default_rng(seed), **CONFIGS[name])


def assert_specs_equal(a, b):
    """Same input shape, same layer types, same field values (arrays compared exactly)."""
    assert tuple(a.input_shape) == tuple(b.input_shape)
    assert [type(x) for x in a.layers] == [type(y) for y in b.layers]
    for i, (x, y) in enumerate(zip(a.layers, b.layers)):
        for name, value in vars(x).items():
            other = getattr(y, name)
            if isinstance(value, np.ndarray) or isinstance(other, np.ndarray):
                assert np.array_equal(np.asarray(value), np.asarray(other)), f"layer {i} {name}"
            else:
                assert tuple(value) == tuple(other) if isinstance(value, (tuple, list)) \
                    else value == other, f"layer {i} {name}: {value!r} != {other!r}"
