"""`pybnn run MODEL INPUT --dask [ADDRESS]` and the lazy file readers behind it."""
import gzip
import os
import pickle
import sys

import numpy as np
import pytest
import dask.array as da

import pybnn
from pybnn.cli import demo
from pybnn.cli import main
from pybnn.dask_files import FileArray, open_images

from conftest import MNIST_DIR

IMAGES_GZ = os.path.join(MNIST_DIR, "t10k-images-idx3-ubyte.gz")
LABELS_GZ = os.path.join(MNIST_DIR, "t10k-labels-idx1-ubyte.gz")


@pytest.fixture(scope="module")
def expected(mnist_test_images):
    images, _ = mnist_test_images
    x = images.reshape(len(images), -1)
    return x, pybnn.load(demo.DEMO_MODEL).run(x)


def run_cli(capsys, *argv):
    code = main(["run", demo.DEMO_MODEL, *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_same_outputs_as_without_dask(dask_client, expected, tmp_path, capsys):
    _, scores = expected
    address = dask_client.scheduler.address
    code, out, err = run_cli(capsys, IMAGES_GZ, "--labels", LABELS_GZ, "--dask", address,
                             "-o", str(tmp_path / "dask.txt"))
    assert code == 0
    assert f"dask: {address}, 2 workers, 2 threads, 10 chunks" in err
    assert "10/10 chunks" in err  # the progress bar, on stderr
    code, plain_out, _ = run_cli(capsys, IMAGES_GZ, "--labels", LABELS_GZ,
                                 "-o", str(tmp_path / "plain.txt"))
    assert code == 0
    # Everything but the timing line is the same, and so are the predictions written.
    assert out.splitlines()[0].startswith("10000 samples in ")
    assert out.replace("dask.txt", "plain.txt").splitlines()[1:] == plain_out.splitlines()[1:]
    written = np.loadtxt(tmp_path / "dask.txt", dtype=np.int64)
    np.testing.assert_array_equal(written, scores.argmax(axis=1))
    np.testing.assert_array_equal(written, np.loadtxt(tmp_path / "plain.txt", dtype=np.int64))


def test_npy_plain_idx_and_npy_stack_inputs(dask_client, expected, tmp_path, capsys):
    x, scores = expected
    address = dask_client.scheduler.address
    np.save(tmp_path / "x.npy", x[:3000])
    code, _, err = run_cli(capsys, str(tmp_path / "x.npy"), "--dask", address, "--scores",
                           "-o", str(tmp_path / "s.npy"), "--chunk-size", "700")
    assert code == 0 and "5 chunks" in err
    np.testing.assert_array_equal(np.load(tmp_path / "s.npy"), scores[:3000])

    with gzip.open(IMAGES_GZ) as f:
        (tmp_path / "images.idx").write_bytes(f.read())  # a plain IDX file: read in place
    code, _, err = run_cli(capsys, str(tmp_path / "images.idx"), "--dask", address,
                           "-o", str(tmp_path / "p.txt"))
    assert code == 0 and "10 chunks" in err
    np.testing.assert_array_equal(np.loadtxt(tmp_path / "p.txt", dtype=np.int64),
                                  scores.argmax(axis=1))

    da.to_npy_stack(tmp_path / "stack", da.from_array(x[:2500], chunks=(1250, 784)))
    code, _, err = run_cli(capsys, str(tmp_path / "stack"), "--dask", address,
                           "-o", str(tmp_path / "q.txt"))
    assert code == 0 and "2 chunks" in err  # the stack keeps its own chunks
    np.testing.assert_array_equal(np.loadtxt(tmp_path / "q.txt", dtype=np.int64),
                                  scores[:2500].argmax(axis=1))


def test_without_address_starts_a_local_cluster(expected, tmp_path, capsys):
    x, scores = expected
    np.save(tmp_path / "x.npy", x[:500])
    code, out, err = run_cli(capsys, str(tmp_path / "x.npy"), "--dask", "--chunk-size", "250",
                             "-o", str(tmp_path / "p.txt"))
    assert code == 0 and "dask: tcp://127.0.0.1:" in err and "2 chunks" in err
    np.testing.assert_array_equal(np.loadtxt(tmp_path / "p.txt", dtype=np.int64),
                                  scores[:500].argmax(axis=1))


def test_errors_are_one_line(dask_client, tmp_path, capsys):
    address = dask_client.scheduler.address
    np.save(tmp_path / "f.npy", np.zeros((10, 784), np.float32))
    code, _, err = run_cli(capsys, str(tmp_path / "f.npy"), "--dask", address)
    assert code == 2
    assert err == (f"pybnn run: error: {tmp_path / 'f.npy'}: "
                   f"expected uint8 samples (8-bit fixed point), got float32\n")
    (tmp_path / "empty_dir").mkdir()
    code, _, err = run_cli(capsys, str(tmp_path / "empty_dir"), "--dask", address)
    assert code == 2 and "must be an npy stack written by dask.array.to_npy_stack" in err
    assert err.count("\n") == 1
    np.save(tmp_path / "x.npy", np.zeros((3, 784), np.uint8))
    # --device reaches the workers' pybnn.load: the cpu backend refuses this one there.
    code, _, err = run_cli(capsys, str(tmp_path / "x.npy"), "--dask", address, "--device", "gpu0")
    last = err.splitlines()[-1]  # after the dask line and the progress bar: it ran
    assert code == 2 and last.startswith("pybnn run: error: worker tcp://")
    assert "device: the cpu backend runs on this CPU only" in last
    code, _, err = run_cli(capsys, str(tmp_path / "x.npy"), "--dask", "nonsense://x")
    assert code == 2 and err.startswith("pybnn run: error: unknown address scheme 'nonsense'")


def test_a_scheduler_without_workers_is_an_error_not_a_hang(monkeypatch, tmp_path, capsys):
    from distributed import LocalCluster
    from pybnn.cli import run_dask
    monkeypatch.setattr(run_dask, "WAIT_FOR_WORKERS_S", 1)
    np.save(tmp_path / "x.npy", np.zeros((3, 784), np.uint8))
    with LocalCluster(n_workers=0, dashboard_address=":0") as empty:
        code, _, err = run_cli(capsys, str(tmp_path / "x.npy"), "--dask", empty.scheduler_address)
    assert code == 2
    assert err == f"pybnn run: error: scheduler {empty.scheduler_address}: no worker joined within 1 s\n"


def test_missing_dask_is_named(monkeypatch, tmp_path, capsys):
    np.save(tmp_path / "x.npy", np.zeros((3, 784), np.uint8))
    monkeypatch.setitem(sys.modules, "pybnn.cli.run_dask", None)  # as if dask were absent
    code, _, err = run_cli(capsys, str(tmp_path / "x.npy"), "--dask")
    assert code == 2 and "--dask needs pybnn[dask] (dask[array], distributed)" in err


def test_file_array_travels_as_its_path(tmp_path):
    x = np.arange(5 * 784, dtype=np.uint8).reshape(5, 784)
    np.save(tmp_path / "x.npy", x)
    images = open_images(str(tmp_path / "x.npy"), chunk_size=2)
    assert images.chunks == ((2, 2, 1), (784,))
    graph = images.__dask_graph__()
    (source,) = [v for v in dict(graph).values() if isinstance(v, FileArray)]  # one, not per chunk
    assert len(pickle.dumps(source)) < 500  # the path, not the 3920 bytes of data
    np.testing.assert_array_equal(images.compute(), x)
    np.testing.assert_array_equal(np.asarray(images[1:4]), x[1:4])
