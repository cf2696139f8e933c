"""The OpenCL backend against the CPU backend and the NumPy reference, on
whatever OpenCL device is present (PoCL on CI's CPUs).

Every hidden activation is compared bit for bit (OpenCLModel.run_layers reads
each layer's output back: ints exactly, bits unpacked to +-1), and the scores
with np.array_equal against the CPU backend: the affine runs without FMA on
both sides, so float32 scores are identical, not merely close. Kernel builds
are cached on disk (opencl_cache), so the many small models here share a few
dozen programs.
"""
import os
import subprocess
import sys

import numpy as np
import pytest

import pybnn
from model_factory import CONFIGS, named_model, random_input, random_model
from pybnn import backends
from pybnn import format as bnnformat
from pybnn.reference import run_reference_layers

USABLE, WHY = backends.usable("opencl")
pytestmark = pytest.mark.skipif(not USABLE, reason=f"no OpenCL device here: {WHY}")

# Tuning variants run on whatever device is present: the device's defaults, the
# GPU defaults (uint4, no packing, built-in popcount, addresses found per tap),
# local-memory tiles with odd tile sizes, the OpenCL 1.1 popcount fallback,
# 64-bit popcounts without packing, and the CPU paths with odd tiles: weight
# panels (two 8-unit groups), units packed per uint16 (the CPU defaults use
# panels on every binary layer).
GPU_LIKE = dict(pack=False, popcount64=False, tap_table=False, panel=False)
VARIANTS = {
    "default": {},
    "gpu_like": dict(tm=2, tn=4, max_vec=4, swar_popcount=False, **GPU_LIKE),
    "local_tile": dict(tm=3, tn=3, max_vec=4, local_words=8, local_rows=16, **GPU_LIKE),
    "swar_odd_tiles": dict(tm=3, tn=3, max_vec=8, swar_popcount=True, **GPU_LIKE),
    "popcount64_unpacked": dict(tm=3, tn=2, max_vec=16, pack=False, popcount64=True, panel=False),
    "panel_odd_tiles": dict(tm=3, tn=16, popcount64=True, tap_table=True, panel=True),
    "packed_odd_tiles": dict(tm=3, tn=4, max_vec=16, pack=True, popcount64=True, tap_table=True,
                             panel=False),
    "unfused": dict(fuse=False),
}


def opencl_model(spec, **tuning):
    from pybnn.backends import opencl
    return opencl.compile(bnnformat.to_bytes(spec), **tuning)


def assert_exact(spec, x, **tuning):
    """Every materialised layer equals the reference exactly; scores equal the CPU's."""
    model = opencl_model(spec, **tuning)
    flat = x.reshape(len(x), -1)
    got = model.run_layers(flat)
    want = run_reference_layers(spec, x)
    assert len(got) == len(want)
    checked = 0
    for i, (g, w) in enumerate(zip(got, want)):
        if g is None:  # fused into the next layer's kernel; its output is checked there
            continue
        w = w.reshape(g.shape) if w.dtype != np.float32 else w
        if w.dtype == np.float32:
            continue  # the scores: against the CPU backend below
        assert g.dtype == w.dtype or (g.dtype, w.dtype) == (np.int32, np.int32), (i, g.dtype)
        np.testing.assert_array_equal(g, w, err_msg=f"layer {i} ({type(spec.layers[i]).__name__})")
        checked += 1
    assert checked >= 1
    cpu = pybnn.load(bnnformat.to_bytes(spec)).run(x)
    scores = model.run(flat)
    assert scores.dtype == np.float32 and scores.shape == cpu.shape
    assert np.array_equal(scores, cpu), f"scores differ: max {np.abs(scores - cpu).max()}"
    return model


@pytest.mark.parametrize("variant", sorted(VARIANTS))
@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_named_models_every_layer_exact(name, variant):
    spec = named_model(name)
    assert_exact(spec, random_input(np.random.default_rng(3), spec, n=3), **VARIANTS[variant])


def _conv_case(channels, kernel, stride, padding, pad_value, seed):
    """A first conv with `channels` outputs, then a binary conv reading them with the
    given geometry; pooling alternates none / before / after with the seed, and the
    flatten comes after the threshold (bits) or before it (ints; not with a pool after
    the threshold, which needs an image)."""
    rng = np.random.default_rng(seed)
    pool = ("none", "before", "after")[seed % 3]
    return random_model(rng, kind="conv", input_shape=(9, 8, 3), channels=(channels, 17),
                        kernel=kernel, stride=stride, padding=padding, pad_value=pad_value,
                        pool=pool, flatten_on="int" if seed % 2 and pool != "after" else "bits")


@pytest.mark.parametrize("pad_value", ["one", "zero"])
@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("kernel", [1, 3, 5])
@pytest.mark.parametrize("channels", [3, 17, 65, 130])
def test_conv_geometry_grid(channels, kernel, stride, padding, pad_value):
    seed = channels + 7 * kernel + 3 * stride + (padding == "same") + 2 * (pad_value == "zero")
    spec = _conv_case(channels, kernel, stride, padding, pad_value, seed)
    assert_exact(spec, random_input(np.random.default_rng(seed), spec, n=3))


@pytest.mark.parametrize("variant", ["default", "popcount64_unpacked", "packed_odd_tiles"])
@pytest.mark.parametrize("channels", [512, 1024])
def test_wide_pixels_and_even_step_counts(channels, variant):
    """Pixels of 16 and 32 words (uint16 steps, one or two per tap: the CPU path's K loop
    pairs steps, starting from an odd one or not), stride 1 and 2, both pad values."""
    for seed, (stride, pad_value) in enumerate([(1, "one"), (2, "zero")]):
        rng = np.random.default_rng(channels + seed)
        spec = random_model(rng, kind="conv", input_shape=(5, 5, 3), channels=(channels, 9),
                            kernel=3, stride=stride, padding="same", pad_value=pad_value,
                            pool="before")
        assert_exact(spec, random_input(rng, spec, n=2), **VARIANTS[variant])


def test_panel_step_counts():
    """Weight panels (the CPU path) over K of 1 to 17 64-bit words: every count of steps
    before the first block of 8 (0 to 7), none, one and two blocks."""
    rng = np.random.default_rng(17)
    spec = random_model(rng, kind="dense", input_shape=(64 * 17,), classes=5,
                        hidden=tuple(64 * w - 7 * (w % 2) for w in range(1, 17)))
    assert_exact(spec, random_input(rng, spec, n=3), tap_table=True, popcount64=True, panel=True)


@pytest.mark.parametrize("fuse", [False, True])
@pytest.mark.parametrize("k", [256, 257, 258])
def test_first_layer_sums_at_the_pairs_limit(k, fuse):
    """Up to K = 257 the first layer keeps two pixels' sums in one 32-bit lane (16 bits
    each): all-255 inputs with all-+1 and all--1 units reach +-255 * K there (the
    unfused variant reads the sums back), and K = 258 takes the other path."""
    rng = np.random.default_rng(k)
    spec = random_model(rng, kind="dense", input_shape=(k,), hidden=(40,), classes=3)
    w = spec.layers[0].weights
    w[:8], w[8:16] = 1, -1
    x = random_input(rng, spec, n=5)
    x[:3] = 255
    assert_exact(spec, x, fuse=fuse)


@pytest.mark.parametrize("k", [1, 63, 65, 4097])
def test_dense_k_edges(k):
    """K below, at and above a word, on the first layer (uint8) and a binary layer."""
    rng = np.random.default_rng(k)
    spec = random_model(rng, kind="dense", input_shape=(k,), hidden=(k,), classes=7)
    assert_exact(spec, random_input(rng, spec, n=3))


@pytest.mark.parametrize("batch", [1, 3, 257])
def test_batches_and_chunks(batch):
    """Any batch, also split into chunks smaller than it (a small device's memory)."""
    spec = named_model("conv_random")
    x = random_input(np.random.default_rng(batch), spec, n=batch)
    model = assert_exact(spec, x)
    model._chunk = 100  # as if the device held only 100 samples at once
    assert np.array_equal(model.run(x.reshape(batch, -1)),
                          pybnn.load(bnnformat.to_bytes(spec)).run(x))


@pytest.mark.parametrize("m,n,k", [(1, 1, 1), (3, 33, 63), (67, 31, 65), (5, 70, 4097),
                                   (33, 64, 128)])
@pytest.mark.parametrize("variant", ["default", "gpu_like", "local_tile"])
def test_binary_gemm_matches_cpu_bgemm(m, n, k, variant):
    from pybnn.backends.opencl_gemm import BinaryGemm
    rng = np.random.default_rng(m * n + k)
    a = pybnn.pack_bits(np.where(rng.random((m, k)) < 0.5, -1, 1).astype(np.int8))
    b = pybnn.pack_bits(np.where(rng.random((n, k)) < 0.5, -1, 1).astype(np.int8))
    tuning = {key: v for key, v in VARIANTS[variant].items() if key != "fuse"}
    np.testing.assert_array_equal(BinaryGemm(**tuning)(a, b, k), pybnn.bgemm(a, b, k))


def test_changing_batch_sizes_rebind_arguments():
    """A model sets its kernels' arguments once per batch size and scratch size: runs
    of changing sizes (smaller, larger: new scratch, back) each get their own."""
    spec = named_model("conv_same_zero_s2")
    model = opencl_model(spec)
    cpu = pybnn.load(bnnformat.to_bytes(spec))
    rng = np.random.default_rng(5)
    for n in (3, 1, 3, 7, 2, 7):
        x = random_input(rng, spec, n=n)
        assert np.array_equal(model.run(x.reshape(n, -1)), cpu.run(x)), n


def _mnist_test_set():
    """The 10,000 MNIST test images if the shared data folder is present, else the
    bundled demo digits (also MNIST test images)."""
    from pybnn.idx import read_idx
    folder = os.environ.get("PYBNN_MNIST_DIR", os.path.join(
        os.path.dirname(__file__), "..", "..", "shared", "data", "mnist"))
    path = os.path.join(folder, "t10k-images-idx3-ubyte.gz")
    if not os.path.exists(path):
        path = os.path.join(os.path.dirname(pybnn.__file__), "data", "demo-images-idx3-ubyte.gz")
    return read_idx(path).reshape(-1, 784)


def test_trained_mlp_same_mnist_predictions():
    """The bundled model (trained by the project's trainer) on the MNIST test images."""
    path = os.path.join(os.path.dirname(pybnn.__file__), "data", "demo_mlp.bnn")
    x = _mnist_test_set()
    cpu = pybnn.load(path).run(x)
    ocl = pybnn.load(path, backend="opencl").run(x)
    assert np.array_equal(ocl, cpu)
    assert np.array_equal(ocl.argmax(1), cpu.argmax(1))


def test_model_says_what_runs():
    model = pybnn.load(bnnformat.to_bytes(named_model("dense_tiny")), backend="opencl")
    assert model.backend == "opencl"
    assert isinstance(model.device, str) and "platform" in model.device
    devices = pybnn.opencl_devices()
    assert devices and all({"index", "name", "type", "version"} <= set(d) for d in devices)
    again = pybnn.load(bnnformat.to_bytes(named_model("dense_tiny")), backend="opencl",
                       device=devices[0]["index"])
    assert again.device.startswith(devices[0]["name"])


@pytest.mark.parametrize("device,fragment", [
    ("tpu", "expected 'gpu', 'cpu' or 'PLATFORM:DEVICE'"),
    ("0:x", "expected 'gpu', 'cpu' or 'PLATFORM:DEVICE'"),
    ("99:0", "there is no platform 99"),
    ("0:99", "has no device 99"),
    (3.5, "got float"),
])
def test_bad_device_choices(device, fragment):
    with pytest.raises(pybnn.OpenCLError, match=fragment.replace("(", r"\(")):
        pybnn.load(bnnformat.to_bytes(named_model("dense_tiny")), backend="opencl",
                   device=device)


def test_pyopencl_ctx_is_honoured(monkeypatch):
    from pybnn.backends.opencl_devices import choose_device
    monkeypatch.setenv("PYOPENCL_CTX", "99")
    with pytest.raises(pybnn.OpenCLError, match="PYOPENCL_CTX '99': there is no platform 99"):
        choose_device(None)
    monkeypatch.setenv("PYOPENCL_CTX", "0:0")
    assert choose_device(None) == choose_device("0:0")


def _cli(args, env_extra, tmp_path):
    env = dict(os.environ, **env_extra)
    return subprocess.run([sys.executable, "-m", "pybnn"] + args, capture_output=True,
                          text=True, env=env, cwd=tmp_path, timeout=120)


def test_empty_icd_folder_is_a_clear_error(tmp_path):
    empty = tmp_path / "vendors"
    empty.mkdir()
    model = os.path.join(os.path.dirname(pybnn.__file__), "data", "demo_mlp.bnn")
    for args in (["info", "--devices"], ["bench", model, "--backend", "opencl", "--runs", "1"]):
        r = _cli(args, {"OCL_ICD_VENDORS": str(empty), "PYOPENCL_CTX": ""}, tmp_path)
        assert r.returncode == 1, r.stderr
        assert "Traceback" not in r.stderr
        assert "no OpenCL platform found" in r.stderr and "pocl-opencl-icd" in r.stderr


def test_missing_pyopencl_is_a_clear_error(tmp_path):
    """A pyopencl that cannot be imported (as when not installed)."""
    fake = tmp_path / "shadow" / "pyopencl"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('No module named pyopencl')\n")
    model = os.path.join(os.path.dirname(pybnn.__file__), "data", "demo_mlp.bnn")
    r = _cli(["bench", model, "--backend", "opencl", "--runs", "1"],
             {"PYTHONPATH": str(tmp_path / "shadow")}, tmp_path)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "pip install 'pybnn[opencl]'" in r.stderr
    r = _cli(["info"], {"PYTHONPATH": str(tmp_path / "shadow")}, tmp_path)
    assert r.returncode == 0, r.stderr  # pybnn itself never needs pyopencl


def test_cli_run_on_opencl(tmp_path):
    spec = named_model("dense_words")
    path = tmp_path / "m.bnn"
    bnnformat.write(str(path), spec)
    x = random_input(np.random.default_rng(0), spec, n=9)
    np.save(tmp_path / "x.npy", x)
    r = _cli(["run", str(path), str(tmp_path / "x.npy"), "--backend", "opencl", "--device",
              pybnn.opencl_devices()[0]["index"], "-o", str(tmp_path / "s.npy"), "--scores"],
             {}, tmp_path)
    assert r.returncode == 0, r.stderr
    assert np.array_equal(np.load(tmp_path / "s.npy"), pybnn.load(str(path)).run(x))


def test_program_cache_is_used_and_survives_a_bad_file(tmp_path, monkeypatch):
    from pybnn.backends import opencl_cache
    monkeypatch.setenv("PYBNN_CACHE_DIR", str(tmp_path / "cache"))
    spec = named_model("dense_tiny")
    x = random_input(np.random.default_rng(0), spec, n=2)
    first = opencl_model(spec).run(x.reshape(2, -1))
    files = sorted((tmp_path / "cache").iterdir())
    assert files and all(f.suffix == ".bin" for f in files)
    for f in files:  # a truncated or foreign file means a source build, not an error
        f.write_bytes(b"not a program")
    assert np.array_equal(opencl_model(spec).run(x.reshape(2, -1)), first)
    assert all(f.read_bytes() != b"not a program" for f in sorted((tmp_path / "cache").iterdir()))
    monkeypatch.setenv("PYBNN_CACHE_DIR", "off")
    assert opencl_cache.cache_dir() is None
    assert np.array_equal(opencl_model(spec).run(x.reshape(2, -1)), first)


def test_cli_info_lists_devices(tmp_path):
    r = _cli(["info", "--devices"], {}, tmp_path)
    assert r.returncode == 0, r.stderr
    for d in pybnn.opencl_devices():
        assert d["index"] in r.stdout and d["name"] in r.stdout
