"""The command line: info, run (npy and IDX input, labels, outputs), bench, errors."""
import gzip
import struct

import numpy as np
import pytest

import pybnn
from pybnn import format as bnn_format
from pybnn.cli import main
from pybnn.reference import run_reference

from model_factory import random_model


@pytest.fixture
def dense_model(tmp_path):
    spec = random_model(np.random.default_rng(3), kind="dense")
    path = tmp_path / "m.bnn"
    bnn_format.write(path, spec)
    return spec, str(path)


def write_idx_images(path, x):
    """An IDX3 uint8 file, gzip'd, the way MNIST ships."""
    header = struct.pack(">BBBB", 0, 0, 8, x.ndim) + struct.pack(f">{x.ndim}i", *x.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + x.tobytes())


def test_info_without_model_prints_kernels(capsys):
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert f"pybnn {pybnn.__version__}" in out
    assert pybnn.kernel_info()["isa"] in out


def test_info_with_model_prints_summary(dense_model, capsys):
    spec, path = dense_model
    assert main(["info", path]) == 0
    out = capsys.readouterr().out
    assert "first_dense" in out and "affine" in out and "total" in out


def test_run_npy_with_labels_and_outputs(dense_model, tmp_path, capsys):
    spec, path = dense_model
    x = np.random.default_rng(4).integers(0, 256, (25,) + tuple(spec.input_shape), dtype=np.uint8)
    expected = run_reference(spec, x)
    labels = expected.argmax(axis=1)
    labels[:5] = (labels[:5] + 1) % expected.shape[1]  # five wrong on purpose
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", labels)
    assert main(["run", path, str(tmp_path / "x.npy"), "--labels", str(tmp_path / "y.npy"),
                 "-o", str(tmp_path / "pred.txt")]) == 0
    out = capsys.readouterr().out
    assert "error 20.00%, 5 of 25 wrong" in out
    np.testing.assert_array_equal(np.loadtxt(tmp_path / "pred.txt", dtype=np.int64), expected.argmax(axis=1))
    assert main(["run", path, str(tmp_path / "x.npy"), "--scores", "-o", str(tmp_path / "s.npy")]) == 0
    np.testing.assert_allclose(np.load(tmp_path / "s.npy"), expected, rtol=1e-6, atol=1e-5)


def test_run_reads_idx_images_reshaped_to_the_model(tmp_path, capsys):
    from pybnn.format.layers import Affine, Dense, FirstDense, ModelSpec, Threshold
    rng = np.random.default_rng(5)
    spec = ModelSpec((12,), [FirstDense(np.where(rng.random((8, 12)) < .5, -1, 1).astype(np.int8)),
                             Threshold(np.zeros(8, np.int32), np.zeros(8, bool)),
                             Dense(np.where(rng.random((3, 8)) < .5, -1, 1).astype(np.int8)),
                             Affine(np.ones(3, np.float32), np.zeros(3, np.float32))])
    bnn_format.write(tmp_path / "m.bnn", spec)
    images = rng.integers(0, 256, (7, 3, 4), dtype=np.uint8)  # IDX (N, rows, cols)
    write_idx_images(tmp_path / "img.gz", images)
    assert main(["run", str(tmp_path / "m.bnn"), str(tmp_path / "img.gz"), "-o", str(tmp_path / "p.txt")]) == 0
    expected = run_reference(spec, images.reshape(7, 12)).argmax(axis=1)
    np.testing.assert_array_equal(np.loadtxt(tmp_path / "p.txt", dtype=np.int64).reshape(-1), expected)


def test_bench_prints_latency_and_throughput(dense_model, capsys):
    _, path = dense_model
    assert main(["bench", path, "--batch", "4", "--runs", "3", "--threads", "1"]) == 0
    out = capsys.readouterr().out
    assert "latency" in out and "throughput" in out and "threads 1" in out and "peak RSS" in out


def test_errors_are_one_line_and_exit_2(dense_model, tmp_path, capsys):
    spec, path = dense_model
    np.save(tmp_path / "bad.npy", np.zeros((2, 5), np.float32))
    assert main(["run", path, str(tmp_path / "bad.npy")]) == 2
    assert "expected uint8 samples" in capsys.readouterr().err
    np.save(tmp_path / "shape.npy", np.zeros((2, 5), np.uint8))
    assert main(["run", path, str(tmp_path / "shape.npy")]) == 2
    assert "expected samples of shape" in capsys.readouterr().err
    (tmp_path / "junk.bnn").write_bytes(b"not a model at all, clearly" * 4)
    assert main(["info", str(tmp_path / "junk.bnn")]) == 2
    assert "magic" in capsys.readouterr().err
    assert main(["run", str(tmp_path / "missing.bnn"), str(tmp_path / "bad.npy")]) == 2
    assert "missing.bnn" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["bench", path, "--batch", "0"])
