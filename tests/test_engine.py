"""Every backend (conftest.py: the cpu backend once per kernel set) against the NumPy
reference.

Scores: float32(s) * scale + bias computed the same way on both sides, compared with
SCORE_RTOL / SCORE_ATOL. Hidden layers: exactly, bit for bit, read out through probe models
(the model cut after the layer, plus a readout whose scores are the layer's values).
"""
import threading

import numpy as np
import pytest

import pybnn
from model_factory import (CONFIGS, KINDS, ModelBuilder, named_model, random_input, random_model,
                           random_pm1)
from pybnn import format as bnnformat
from pybnn.format.layers import (Affine, Conv, Dense, FirstConv, FirstDense, Flatten, MaxPool, ModelSpec,
                                 Threshold)
from pybnn.reference import run_reference, run_reference_layers
from pybnn.format.shapes import validate_spec

# The scores are exact integers times a float32 scale plus a float32 bias, rounded the same
# way by the engine and NumPy (no FMA); the tolerance only allows for a compiler that fuses.
SCORE_RTOL = 1e-6
SCORE_ATOL = 1e-5


def engine(spec, target=None, **kwargs):
    """The spec loaded on `target`'s backend (conftest.py), else on the cpu."""
    backend = target.backend if target else "cpu"
    return pybnn.load(bnnformat.to_bytes(spec), backend=backend, **kwargs)


def assert_scores_match(target, spec, x, **run_kwargs):
    got = engine(spec, target).run(x, **run_kwargs)
    want = run_reference(spec, x)
    assert got.dtype == np.float32 and got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=SCORE_RTOL, atol=SCORE_ATOL)


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_named_models_match_reference(target, name):
    spec = named_model(name)
    assert_scores_match(target, spec, random_input(np.random.default_rng(1), spec, n=5))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("seed", range(6))
def test_random_models_match_reference(target, kind, seed):
    """Random geometry: odd sizes, C below/at/above a word, strides, both paddings and
    pad values, pooling before/after the threshold, flatten on ints or bits."""
    rng = np.random.default_rng(100 + seed)
    shape = (int(rng.integers(1, 200)),) if kind == "dense" else \
        (int(rng.integers(4, 11)), int(rng.integers(4, 11)), int(rng.choice([1, 3, 17, 64, 65])))
    spec = random_model(rng, kind=kind, input_shape=shape,
                        channels=tuple(int(c) for c in rng.choice([3, 17, 64, 65, 130], size=2)),
                        hidden=tuple(int(h) for h in
                                     rng.choice([3, 64, 65], size=int(rng.integers(0, 3)))),
                        classes=int(rng.integers(1, 12)),
                        flatten_on=str(rng.choice(["bits", "int"])))
    assert_scores_match(target, spec, random_input(rng, spec, n=int(rng.integers(1, 6))))


# ------------------------------------------------------------------ hidden layers, exactly

def _ones_affine(c):
    return Affine(scale=np.ones(c, np.float32), bias=np.zeros(c, np.float32))


def probe(spec, index, shapes):
    """A model whose scores expose layer `index`'s output exactly, and a decoder
    scores -> that output (int sums, or +-1 for bits)."""
    ls = shapes[index]
    layers = list(spec.layers[:index + 1])
    if len(ls.out_shape) == 3:
        layers.append(Flatten())
    f = int(np.prod(ls.out_shape))
    if ls.out_domain == "int":
        layers.append(_ones_affine(f))
        return ModelSpec(spec.input_shape, layers), lambda s: s.astype(np.int64)
    # bits: unit 0 sums every value; unit 1 + i has -1 at i, so a_i = (s_0 - s_{1+i}) / 2.
    w = np.ones((f + 1, f), np.int8)
    w[1 + np.arange(f), np.arange(f)] = -1
    layers += [Dense(weights=w), _ones_affine(f + 1)]
    return ModelSpec(spec.input_shape, layers), \
        lambda s: ((s[:, :1] - s[:, 1:]) / 2).astype(np.int64)


def assert_hidden_layers_exact(target, spec, x, name=""):
    """Every hidden int or bits output of spec on x equals the reference's, bit for bit."""
    shapes = validate_spec(spec)
    outputs = run_reference_layers(spec, x)
    for i, ls in enumerate(shapes[:-1]):
        if ls.out_domain not in ("int", "bits"):
            continue
        pspec, decode = probe(spec, i, shapes)
        got = decode(engine(pspec, target).run(x))
        want = outputs[i].reshape(len(x), -1).astype(np.int64)
        np.testing.assert_array_equal(got, want, err_msg=f"{name}: layer {i} ({ls.kind})")


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_every_hidden_layer_bit_for_bit(target, name):
    spec = named_model(name)
    assert_hidden_layers_exact(target, spec, random_input(np.random.default_rng(2), spec, n=3),
                               name)


@pytest.mark.parametrize("pools", [[(2, 2)], [(3, 2)], [(2, 2), (2, 1)], [(3, 1), (2, 2)]],
                         ids=["2s2", "3s2", "2s2+2s1", "3s1+2s2"])
def test_pools_between_a_product_and_its_threshold(target, pools):
    """Int maxpools between a product and its threshold run on the threshold's bits (the
    CPU plan fuses them: AND of the bits, OR for flipping channels). Every hidden output
    equals the reference's, for one pool, two in a row and overlapping windows, with both
    flips and ties (random_thresholds)."""
    rng = np.random.default_rng(21)
    b = ModelBuilder(rng, (11, 10, 3), calib=8)
    b.add(FirstConv(weights=random_pm1(rng, (17, 3, 3, 3)), padding="same"))
    b.threshold()
    b.add(Conv(weights=random_pm1(rng, (130, 3, 3, 17)), padding="same", pad_value="zero"))
    for size, stride in pools:
        b.add(MaxPool(size=(size, size), stride=(stride, stride)))
    b.threshold()
    b.add(Flatten())
    b.add(Dense(weights=random_pm1(rng, (5, b.shape[0]))))
    b.affine()
    spec = ModelSpec((11, 10, 3), b.layers)
    x = random_input(np.random.default_rng(22), spec, n=3)
    assert_hidden_layers_exact(target, spec, x)
    np.testing.assert_allclose(engine(spec, target).run(x), run_reference(spec, x),
                               rtol=SCORE_RTOL, atol=SCORE_ATOL)


@pytest.mark.parametrize("first_kernel, first_units, kernel", [(5, 65, 3), (3, 520, 3)],
                         ids=["first-conv-whole-batch", "conv-whole-batch"])
def test_conv_patches_by_tile_and_by_batch(target, first_kernel, first_units, kernel):
    """A conv's patches are built tile by tile when 64 of them fit the tile's buffer, else
    for the whole batch first (op_gemm.c): a first_conv of 5 x 5 x 29 bytes and a conv of
    3 x 3 x 520 channels (81 words) take the second way, the layers beside them the first.
    Every hidden output equals the reference's."""
    rng = np.random.default_rng(first_units)
    b = ModelBuilder(rng, (7, 6, 29), calib=4)
    b.add(FirstConv(weights=random_pm1(rng, (first_units, first_kernel, first_kernel, 29)),
                    padding="same"))
    b.threshold()
    b.add(Conv(weights=random_pm1(rng, (17, kernel, kernel, first_units)), padding="same",
               pad_value="zero"))
    b.threshold()
    b.add(Flatten())
    b.add(Dense(weights=random_pm1(rng, (3, b.shape[0]))))
    b.affine()
    spec = ModelSpec((7, 6, 29), b.layers)
    assert_hidden_layers_exact(target, spec, random_input(np.random.default_rng(23), spec, n=3))


# ------------------------------------------------------------------ first layers, kernel edges
# The first layers run the u8gemm kernels (src/u8gemm_*.c): 16 columns per weight group, K in
# quads of 4 bytes, int16 (x86) or u16 (NEON) partial sums folded every 256 or 512 bytes of K,
# 4 or 8 rows per register block, 64 x 64 tiles. Their sums are read out exactly (scores are
# float32(s), exact below 2^24) and compared with the reference's bit-plane formula.

def _first_sums(target, spec, x):
    got, want = engine(spec, target).run(x), run_reference(spec, x)
    np.testing.assert_array_equal(got, want)
    return got


@pytest.mark.parametrize("features, units", [(1, 1), (3, 17), (4, 16), (5, 15), (255, 65),
                                             (256, 33), (257, 130), (1029, 20)])
def test_first_dense_sums_on_kernel_edges(target, features, units):
    rng = np.random.default_rng(features * 1000 + units)
    spec = ModelSpec((features,), [FirstDense(weights=random_pm1(rng, (units, features))),
                                   _ones_affine(units)])
    x = rng.integers(0, 256, (67, features), dtype=np.uint8)  # 67 rows: a tile and 3 more
    x[0], x[1] = 255, 0
    for rows in (67, 2, 1):  # 1 and 2 rows: the bit-plane form where the kernel set has one
        _first_sums(target, spec, x[:rows])


@pytest.mark.parametrize("sign", [-1, 1])
def test_first_layers_extreme_sums(target, sign):
    """x = 255 against all -1 or all +1 weights: the largest partial sums every kernel keeps
    (no saturation, no overflow), with a K that is not a whole number of quads or chunks."""
    k = 1031
    dense = ModelSpec((k,), [FirstDense(weights=np.full((21, k), sign, np.int8)),
                             _ones_affine(21)])
    for rows in (5, 1):
        got = _first_sums(target, dense, np.full((rows, k), 255, np.uint8))
        assert np.all(got == sign * 255 * k)
    conv = ModelSpec((6, 7, 29), [FirstConv(weights=np.full((18, 3, 3, 29), sign, np.int8),
                                            padding="same"),
                                  Flatten(), _ones_affine(6 * 7 * 18)])
    got = _first_sums(target, conv, np.full((2, 6, 7, 29), 255, np.uint8)).reshape(2, 6, 7, 18)
    assert np.all(got[:, 1:-1, 1:-1] == sign * 255 * 9 * 29)  # interior: every tap in the image
    assert np.all(got[:, 0, 0] == sign * 255 * 4 * 29)  # a corner: 2 x 2 taps


@pytest.mark.parametrize("stride, padding", [((1, 1), "same"), ((2, 1), "valid"),
                                             ((2, 2), "same")])
def test_first_conv_sums_on_kernel_edges(target, stride, padding):
    """K = 3*3*29 = 261 (past one int16 chunk, 261 % 4 = 1), 33 units (two whole groups and
    one column), both paddings; then the same layer with its threshold fused in."""
    rng = np.random.default_rng(stride[0] * 10 + stride[1])
    first = FirstConv(weights=random_pm1(rng, (33, 3, 3, 29)), stride=stride, padding=padding)
    x = rng.integers(0, 256, (3, 9, 8, 29), dtype=np.uint8)
    h, w = [(n + s - 1) // s if padding == "same" else (n - 3) // s + 1
            for n, s in zip((9, 8), stride)]
    sums = _first_sums(target, ModelSpec((9, 8, 29), [first, Flatten(), _ones_affine(h * w * 33)]), x)
    # Thresholds at sums that occur (ties) and flips: the fused path gives the reference's bits.
    t = sums.reshape(-1, 33)[rng.integers(0, sums.size // 33, 33), np.arange(33)]
    thr = Threshold(thresholds=t.astype(np.int32), flip=rng.random(33) < 0.5)
    readout = Dense(weights=random_pm1(rng, (2, h * w * 33)))
    spec = ModelSpec((9, 8, 29), [first, thr, Flatten(), readout, _ones_affine(2)])
    pspec, decode = probe(spec, 1, validate_spec(spec))
    want = run_reference_layers(spec, x)[1].reshape(len(x), -1).astype(np.int64)
    np.testing.assert_array_equal(decode(engine(pspec, target).run(x)), want)


# ------------------------------------------------------------------ batches, threads, API

def test_batch_sizes_and_chunks(target):
    """Batches of 0, 1 and many; a conv model large enough that one run is cut into several
    workspace chunks (about 3.5 MB per sample against a 32 MB budget)."""
    spec = random_model(np.random.default_rng(3), kind="conv", input_shape=(64, 64, 3),
                        channels=(64,), kernel=3, stride=1, padding="same", pool="after",
                        classes=5)
    model = engine(spec, target)
    x = random_input(np.random.default_rng(4), spec, n=21)
    want = run_reference(spec, x)
    np.testing.assert_allclose(model.run(x), want, rtol=SCORE_RTOL, atol=SCORE_ATOL)
    np.testing.assert_allclose(model.run(x[:1]), want[:1], rtol=SCORE_RTOL, atol=SCORE_ATOL)
    assert model.run(x[:0]).shape == (0, 5)


def test_results_do_not_depend_on_threads():
    spec = named_model("conv_random")
    x = random_input(np.random.default_rng(5), spec, n=7)
    model = engine(spec)
    first = model.run(x, threads=1)
    for threads in (2, 3, None):
        np.testing.assert_array_equal(model.run(x, threads=threads), first)
    model.threads = 2
    assert model.threads == 2
    np.testing.assert_array_equal(model.run(x), first)


def test_parallel_paths_match_reference():
    """Big enough that the patches, the pool + threshold and the product are all split
    across threads: every thread count gives the reference's scores."""
    spec = random_model(np.random.default_rng(12), kind="conv", input_shape=(32, 32, 3),
                        channels=(64, 64), kernel=3, stride=1, padding="same", pool="before",
                        pad_value="zero")
    x = random_input(np.random.default_rng(13), spec, n=16)
    model, want = engine(spec), run_reference(spec, x)
    for threads in (1, 2, 3):
        np.testing.assert_allclose(model.run(x, threads=threads), want, rtol=SCORE_RTOL,
                                   atol=SCORE_ATOL, err_msg=f"threads={threads}")


def test_four_python_threads_share_one_model(target):
    spec = named_model("conv_pool_after")
    model = engine(spec, target)
    rng = np.random.default_rng(6)
    inputs = [random_input(rng, spec, n=4) for _ in range(4)]
    want = [model.run(x, threads=1) for x in inputs]
    results, errors = [None] * 4, []

    def worker(i):
        try:
            for _ in range(20):
                got = model.run(inputs[i], threads=1)
                if not np.array_equal(got, want[i]):
                    raise AssertionError(f"thread {i}: result changed")
            results[i] = got
        except Exception as e:  # reported below, in the main thread
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    for i in range(4):
        np.testing.assert_array_equal(results[i], want[i])


def test_file_is_mapped_and_matches_bytes(tmp_path):
    spec = named_model("conv_same_zero_s2")
    path = tmp_path / "m.bnn"
    bnnformat.write(path, spec)
    x = random_input(np.random.default_rng(7), spec, n=3)
    from_file, from_bytes = pybnn.load(path), pybnn.load(path.read_bytes())
    np.testing.assert_array_equal(from_file.run(x), from_bytes.run(x))
    assert pybnn.load(str(path)).input_shape == tuple(spec.input_shape)


def test_model_api():
    spec = named_model("flatten_first")
    model = engine(spec, threads=1)
    x = random_input(np.random.default_rng(8), spec, n=6)
    assert model.input_shape == (4, 5, 3) and model.num_classes == 4 and model.threads == 1
    scores = model(x)
    np.testing.assert_array_equal(model.predict(x), scores.argmax(axis=1))
    np.testing.assert_array_equal(model.run(x[0]), scores[0])  # one sample, no batch axis
    np.testing.assert_array_equal(model.run(x[:, ::-1][:, ::-1]), scores)  # non-contiguous
    assert "first_dense" in model.summary()
    assert "Model" in repr(model)


@pytest.mark.parametrize("bad, fragment", [
    (lambda x: x.astype(np.int8), "dtype uint8"),
    (lambda x: x.astype(np.float32), "dtype uint8"),
    (lambda x: x.reshape(len(x), -1), "expected shape"),
    (lambda x: x[:, :, :4], "expected shape"),
    (lambda x: x[None], "expected shape"),
    (lambda x: x.tolist(), "numpy.ndarray"),
])
def test_wrong_input_raises_value_error(bad, fragment):
    spec = named_model("flatten_first")
    model = engine(spec)
    x = random_input(np.random.default_rng(9), spec, n=2)
    with pytest.raises(ValueError, match=fragment):
        model.run(bad(x))


def test_core_run_checks_its_arguments():
    model = pybnn._core.CModel(bnnformat.to_bytes(named_model("dense_tiny")))
    with pytest.raises(ValueError, match="expected 5 uint8 values per sample"):
        model.run(np.zeros((2, 6), np.uint8))
    with pytest.raises(ValueError, match="C-contiguous"):
        model.run(np.zeros((2, 10), np.uint8)[:, ::2])
    with pytest.raises(ValueError, match="threads"):
        model.run(np.zeros((2, 5), np.uint8), threads=0)


# ------------------------------------------------------------------ the C program

def test_bnn_classify_program(tmp_path):
    """tests/c/bnn_classify.c (public C API only) gives the reference's classes and scores."""
    import os
    import shutil
    import subprocess
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if not shutil.which("make") or not shutil.which("cc"):
        pytest.skip("needs make and cc to build the C program")
    build = os.path.join(root, "build-c", "test-engine")
    subprocess.run(["make", "-s", "-j2", "-C", os.path.join(root, "src"), f"BUILD={build}",
                    "lib", os.path.join(build, "bnn_classify")], check=True)
    spec = named_model("conv_pool_after")
    bnnformat.write(tmp_path / "m.bnn", spec)
    x = random_input(np.random.default_rng(10), spec, n=7)
    x.tofile(tmp_path / "x.u8")
    out = subprocess.run([os.path.join(build, "bnn_classify"), str(tmp_path / "m.bnn"),
                          str(tmp_path / "x.u8"), "7", "--scores", str(tmp_path / "s.f32")],
                         check=True, capture_output=True, text=True).stdout
    want = run_reference(spec, x)
    assert [int(v) for v in out.split()] == list(want.argmax(axis=1))
    got = np.fromfile(tmp_path / "s.f32", dtype=np.float32).reshape(want.shape)
    np.testing.assert_allclose(got, want, rtol=SCORE_RTOL, atol=SCORE_ATOL)
    bad = subprocess.run([os.path.join(build, "bnn_classify"), str(tmp_path / "x.u8"),
                          str(tmp_path / "x.u8"), "1"], capture_output=True, text=True)
    assert bad.returncode == 1 and "magic" in bad.stderr


@pytest.mark.parametrize("arch", ["aarch64", "armv7"])
def test_bnn_classify_under_qemu_matches_reference(tmp_path, arch):
    """The engine cross-compiled for ARM (scripts/cross_test.sh --build-only), run under qemu:
    the same scores as the reference, bit for bit, on every named model."""
    import os
    import shutil
    import subprocess
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    qemu = {"aarch64": ["qemu-aarch64", "-cpu", "cortex-a72", "-L", "/usr/aarch64-linux-gnu"],
            "armv7": ["qemu-arm", "-cpu", "cortex-a7", "-L", "/usr/arm-linux-gnueabihf"]}[arch]
    if not shutil.which(qemu[0]):
        pytest.skip(f"needs {qemu[0]} (apt package qemu-user)")
    subprocess.run(["bash", os.path.join(root, "scripts", "cross_test.sh"), "--build-only"],
                   check=True, capture_output=True)
    program = os.path.join(root, "build-cross", arch, "bnn_classify")
    for name in sorted(CONFIGS):
        spec = named_model(name)
        bnnformat.write(tmp_path / "m.bnn", spec)
        x = random_input(np.random.default_rng(11), spec, n=3)
        x.tofile(tmp_path / "x.u8")
        subprocess.run(qemu + [program, str(tmp_path / "m.bnn"), str(tmp_path / "x.u8"), "3",
                               "--scores", str(tmp_path / "s.f32")], check=True,
                       capture_output=True)
        want = run_reference(spec, x)
        got = np.fromfile(tmp_path / "s.f32", dtype=np.float32).reshape(want.shape)
        np.testing.assert_array_equal(got, want, err_msg=f"{arch} {name}")
