"""The loader gaps of issue 12, each shown closed with the clear error:
a FIFO path (used to block forever in open()), a 20 GiB sparse file with a
valid header (the Python reader used to read it all), and a small model
whose workspace for one large input dwarfs the model and the input (now
reported by Model.workspace_bytes and refused above a limit before any
allocation)."""
import os
import subprocess
import sys
import time

import numpy as np
import pytest

import pybnn
from pybnn import format as bnn_format
from pybnn.errors import FormatError
from pybnn.format.layers import (Affine, Dense, FirstConv, Flatten, MaxPool, ModelSpec,
                                 Threshold)
from pybnn.reference import run_reference


def run_python(code, env=None, timeout=60):
    """Run `code` in a fresh interpreter (killed after `timeout` s); its CompletedProcess."""
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=timeout, env=dict(os.environ, **(env or {})))


# ---------------------------------------------------------------- FIFO

@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs POSIX FIFOs")
@pytest.mark.parametrize("reader", ["pybnn.load", "pybnn.format.read"])
def test_fifo_is_refused_at_once(tmp_path, reader):
    fifo = tmp_path / "model.bnn"
    os.mkfifo(fifo)
    # In a child process: before the fix the open() blocked forever, so the
    # timeout (not a hung test run) is what would have reported it.
    code = (f"import pybnn, pybnn.format\n"
            f"try:\n    {reader}({str(fifo)!r})\n"
            f"except OSError as e:\n    print('OSError', e)\n")
    start = time.monotonic()
    done = run_python(code, timeout=30)
    assert time.monotonic() - start < 30
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("OSError")
    assert "it is a FIFO (named pipe), not a regular file" in done.stdout


# ---------------------------------------------------------------- sparse file

def small_spec(rng):
    w = np.where(rng.random((4, 6)) < .5, -1, 1).astype(np.int8)
    return ModelSpec((6,), [
        bnn_format.FirstDense(w), Threshold(np.zeros(4, np.int32), np.zeros(4, bool)),
        Dense(np.where(rng.random((3, 4)) < .5, -1, 1).astype(np.int8)),
        Affine(np.ones(3, np.float32), np.zeros(3, np.float32))])


def test_sparse_20gib_file_with_valid_header_is_refused_fast(tmp_path, rng):
    path = tmp_path / "huge.bnn"
    data = bnn_format.to_bytes(small_spec(rng))
    with open(path, "wb") as f:
        f.write(data)
        f.truncate(20 << 30)  # a hole: no disk, no memory
    assert os.path.getsize(path) == 20 << 30
    for read in (bnn_format.read, pybnn.load):
        start = time.perf_counter()
        with pytest.raises(FormatError, match="payload_size"):
            read(path)
        assert time.perf_counter() - start < 1.0, read


def test_python_reader_judges_the_header_before_reading(tmp_path, rng):
    # Under an address-space limit far below the file size, a reader that
    # read or mapped the file first would fail with MemoryError instead.
    path = tmp_path / "huge.bnn"
    with open(path, "wb") as f:
        f.write(bnn_format.to_bytes(small_spec(rng)))
        f.truncate(20 << 30)
    code = ("import resource, pybnn.format as f\n"
            "resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))\n"
            f"try:\n    f.read({str(path)!r})\nexcept f.FormatError as e:\n    print('ok', e)\n")
    done = run_python(code)
    assert done.returncode == 0 and done.stdout.startswith("ok payload_size"), done


def test_reader_of_a_file_still_reads_valid_and_short_files(tmp_path, rng):
    spec = small_spec(rng)
    path = tmp_path / "m.bnn"
    bnn_format.write(path, spec)
    back = bnn_format.read(path)
    assert back.input_shape == spec.input_shape and len(back.layers) == len(spec.layers)
    path.write_bytes(bnn_format.to_bytes(spec)[:40])
    with pytest.raises(FormatError, match="the header needs 64 bytes, the data has 40"):
        bnn_format.read(path)


# ---------------------------------------------------------------- workspace

def amplifying_spec(h, w, pools, rng, units=2):
    """A tiny model (a 1x1 conv to `units` channels, then max-pools down to
    1x1): its first activation takes a 64-bit word per pixel, 8x the input."""
    layers = [FirstConv(np.where(rng.random((units, 1, 1, 1)) < .5, -1, 1).astype(np.int8)),
              Threshold(np.arange(100, 100 + 28 * units, 28, dtype=np.int32),
                        np.arange(units) % 2 == 1)]
    layers += [MaxPool(size=p, stride=p) for p in pools]
    layers += [Flatten(), Dense(np.where(rng.random((3, units)) < .5, -1, 1).astype(np.int8)),
               Affine(np.ones(3, np.float32), np.arange(3, dtype=np.float32))]
    return ModelSpec((h, w, 1), layers)


def test_workspace_bytes_grows_with_the_batch_then_levels(rng):
    model = pybnn.load(bnn_format.to_bytes(amplifying_spec(64, 64, [(64, 64)], rng)))
    sizes = [model.workspace_bytes(n) for n in (1, 2, 16, 1 << 20, 1 << 30)]
    assert model.workspace_bytes(0) == 0
    assert sizes[0] >= 2 * 64 * 64 * 8  # two activation buffers of a word per pixel
    assert sizes[0] < sizes[1] < sizes[2]  # small batches: all in one chunk
    assert sizes[3] == sizes[4]  # large ones run in chunks of bounded size
    assert "workspace: " in model.summary()
    assert f"{model.workspace_bytes(1):,} bytes for 1 sample" in model.summary()


def test_run_within_the_limit_matches_the_reference(rng):
    spec = amplifying_spec(128, 64, [(64, 64), (2, 1)], rng)
    model = pybnn.load(bnn_format.to_bytes(spec))
    x = rng.integers(0, 256, (3, 128, 64, 1), dtype=np.uint8)
    model.workspace_limit = model.workspace_bytes(3)  # exactly enough
    np.testing.assert_array_equal(model.run(x), run_reference(spec, x))
    model.workspace_limit = model.workspace_bytes(3) - 1
    with pytest.raises(MemoryError, match="needs a workspace of"):
        model.run(x)
    model.workspace_limit = None
    assert model.workspace_limit >= model.workspace_bytes(3)


def test_amplifying_model_fails_clearly_above_the_limit(rng):
    spec = amplifying_spec(4096, 4096, [(64, 64), (64, 64)], rng)
    data = bnn_format.to_bytes(spec)
    assert len(data) < 2048  # the model is tiny ...
    model = pybnn.load(data)
    x = np.zeros((1, 4096, 4096, 1), np.uint8)  # ... the input 16 MiB ...
    need = model.workspace_bytes(1)
    assert need > 8 * x.nbytes  # ... and the workspace 8x that and more
    model.workspace_limit = 64 << 20
    start = time.perf_counter()
    with pytest.raises(MemoryError) as info:
        model.run(x)
    assert time.perf_counter() - start < 0.5
    message = str(info.value)
    assert f"needs a workspace of {need} bytes" in message
    assert f"the limit is {64 << 20} bytes" in message


def test_largest_input_of_the_format_against_the_env_limit(tmp_path, rng):
    # 2^31 pixels: the most an input may have. The workspace is tens of GiB;
    # the run must refuse before touching the (lazily zeroed) input.
    spec = amplifying_spec(32768, 65536, [(64, 64), (64, 64), (8, 16)], rng, units=1)
    path = tmp_path / "amp.bnn"
    bnn_format.write(path, spec)
    code = ("import numpy as np, pybnn\n"
            f"m = pybnn.load({str(path)!r})\n"
            "print(m.workspace_limit, m.workspace_bytes(1))\n"
            "x = np.zeros((1, 32768, 65536, 1), np.uint8)\n"
            "try:\n    m.run(x)\nexcept MemoryError as e:\n    print(e)\n")
    done = run_python(code, env={"PYBNN_WORKSPACE_LIMIT": "1G"})
    assert done.returncode == 0, done.stderr
    limit, need = map(int, done.stdout.splitlines()[0].split())
    assert limit == 1 << 30 and need > 32 << 30
    assert f"needs a workspace of {need} bytes" in done.stdout
    assert "the limit is 1073741824 bytes (1024.0 MiB)" in done.stdout


def test_default_limit_is_half_of_physical_memory(rng):
    if "PYBNN_WORKSPACE_LIMIT" in os.environ:
        pytest.skip("PYBNN_WORKSPACE_LIMIT is set for this run")
    model = pybnn.load(bnn_format.to_bytes(small_spec(rng)))
    physical = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    assert model.workspace_limit == os.sysconf("SC_PHYS_PAGES") // 2 * os.sysconf("SC_PAGE_SIZE")
    assert abs(model.workspace_limit - physical / 2) < 1 << 20


@pytest.mark.parametrize("value", ["lots", "0", "12X", "-5"])
def test_bad_env_limit_is_a_clear_error(value, rng):
    code = ("import numpy as np, pybnn\n"
            f"m = pybnn.load({bnn_format.to_bytes(small_spec(rng))!r})\n"
            "try:\n    m.run(np.zeros((1, 6), np.uint8))\nexcept ValueError as e:\n    print(e)\n")
    done = run_python(code, env={"PYBNN_WORKSPACE_LIMIT": value})
    assert done.returncode == 0, done.stderr
    assert "PYBNN_WORKSPACE_LIMIT must be a positive number of bytes" in done.stdout
    assert f"got '{value}'" in done.stdout


@pytest.mark.parametrize("value", [0, -1, 2**64, 1.5, True, "1G"])
def test_bad_limit_attribute_is_refused(value, rng):
    model = pybnn.load(bnn_format.to_bytes(small_spec(rng)))
    with pytest.raises(ValueError, match="workspace_limit: expected None or a positive"):
        model.workspace_limit = value
