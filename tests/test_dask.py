"""pybnn.dask on a real local cluster (2 worker processes, 1 thread each):
identical predictions, one model load per worker, errors before scheduling,
a worker's load error reaching the client intact."""
import numpy as np
import pytest
import dask
import dask.array as da

import pybnn
import pybnn.dask
from pybnn.cli import demo
from pybnn import format as bnn_format

from model_factory import random_model

CHUNK = 1000


@pytest.fixture(scope="module")
def mnist_flat(mnist_test_images):
    images, labels = mnist_test_images
    return images.reshape(len(images), -1), labels


@pytest.fixture
def fresh_workers(dask_client):
    """The cluster with its model caches emptied; yields the stats before."""
    dask_client.run(pybnn.dask.clear_cache)
    yield dask_client, dask_client.run(pybnn.dask.worker_stats)


def test_predictions_identical_and_one_load_per_worker(fresh_workers, mnist_flat):
    client, before = fresh_workers
    x, labels = mnist_flat
    images = da.from_array(x, chunks=(CHUNK, 784))
    lazy = pybnn.dask.predict(demo.DEMO_MODEL, images)
    assert lazy.dtype == np.int64 and lazy.shape == (10000,) and lazy.numblocks == (10,)
    got = lazy.compute()
    expected = pybnn.load(demo.DEMO_MODEL).predict(x)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, expected)
    assert (got == labels).mean() > 0.95  # a real model on real digits

    after = client.run(pybnn.dask.worker_stats)
    chunks = {w: after[w]["chunks"] - before[w]["chunks"] for w in after}
    loads = {w: after[w]["loads"] - before[w]["loads"] for w in after}
    assert sum(chunks.values()) == 10
    assert sum(after[w]["run_seconds"] - before[w]["run_seconds"] for w in after) > 0
    assert max(chunks.values()) >= 5  # some worker reused its model for several chunks
    for worker in after:
        assert loads[worker] == (1 if chunks[worker] else 0), (worker, loads, chunks)


def test_scores_match_model_run_and_compose(dask_client, mnist_flat):
    x, _ = mnist_flat
    with open(demo.DEMO_MODEL, "rb") as f:
        model_bytes = f.read()
    images = da.from_array(x, chunks=(CHUNK, 784))
    scores = pybnn.dask.scores(model_bytes, images)
    assert scores.dtype == np.float32 and scores.shape == (10000, 10)
    # Lazy: it composes with other dask operations before anything runs.
    top_of_first_half = scores[:5000].max(axis=0)  # max: exact in any order, unlike a sum
    expected = pybnn.load(model_bytes).run(x)
    np.testing.assert_array_equal(top_of_first_half.compute(), expected[:5000].max(axis=0))
    np.testing.assert_array_equal(scores.compute(), expected)


def test_image_shaped_input_and_rechunking(dask_client, mnist_test_images, tmp_path):
    """A conv model on (N, 28, 28, 1); chunks that split samples are re-chunked."""
    images, _ = mnist_test_images
    spec = random_model(np.random.default_rng(7), kind="conv", input_shape=(28, 28, 1),
                        channels=(17,), classes=10)
    path = tmp_path / "conv.bnn"
    bnn_format.write(path, spec)
    x = images[:3000, :, :, None]
    lazy = pybnn.dask.predict(str(path), da.from_array(x, chunks=(CHUNK, 14, 28, 1)))
    np.testing.assert_array_equal(lazy.compute(), pybnn.load(str(path)).predict(x))


def test_tiny_chunks_warn(mnist_flat):
    x, _ = mnist_flat
    with pytest.warns(UserWarning, match="chunks of about 10 samples are tiny"):
        pybnn.dask.predict(demo.DEMO_MODEL, da.from_array(x[:100], chunks=(10, 784)))


def _unknown_sample_size(images):
    return images[:, images[0] > 0]  # a mask computed by dask: the width is unknown until then


@pytest.mark.parametrize("make, error, message", [
    (lambda x: x, TypeError, "expected a dask.array.Array of uint8, got ndarray"),
    (lambda x: da.from_array(x.astype(np.float32), chunks=(CHUNK, 784)), ValueError,
     "expected dtype uint8 (8-bit fixed point), got float32"),
    (lambda x: da.from_array(x[:, :783], chunks=(CHUNK, 783)), ValueError,
     "expected shape (N, 784), got (10000, 783)"),
    (lambda x: da.from_array(x.reshape(-1, 28, 28), chunks=CHUNK), ValueError,
     "expected shape (N, 784), got 3 dimensions (10000, 28, 28)"),
    (lambda x: _unknown_sample_size(da.from_array(x, chunks=(CHUNK, 784))), ValueError,
     "the sample dimensions (nan,) have unknown chunk sizes"),
], ids=["numpy", "float32", "width", "ndim", "unknown_width"])
def test_input_errors_before_anything_is_scheduled(dask_client, mnist_flat, make, error, message):
    x, _ = mnist_flat
    images = make(x)
    before = dask_client.run(pybnn.dask.worker_stats)
    with pytest.raises(error) as info:
        pybnn.dask.scores(demo.DEMO_MODEL, images)  # raises while building the graph
    assert message in str(info.value)
    assert dask_client.run(pybnn.dask.worker_stats) == before


def test_bad_model_fails_on_the_client(tmp_path):
    data = open(demo.DEMO_MODEL, "rb").read()
    images = da.zeros((10, 784), dtype=np.uint8, chunks=5)
    with pytest.raises(pybnn.FormatError) as expected:
        pybnn.load(data[:-7])
    with pytest.raises(pybnn.FormatError) as info:
        pybnn.dask.scores(data[:-7], images)
    assert str(info.value) == str(expected.value)
    with pytest.raises(TypeError, match="expected a .bnn path or bytes, got int"):
        pybnn.dask.scores(3, images)
    with pytest.raises(ValueError, match="ship: expected one of"):
        pybnn.dask.scores(data, images, ship="carrier pigeon")


def _private_model(tmp_path, seed):
    """A model no worker has cached (its own content), written to tmp_path."""
    spec = random_model(np.random.default_rng(seed), kind="dense", input_shape=(784,),
                        hidden=(33,), classes=10)
    path = tmp_path / f"m{seed}.bnn"
    bnn_format.write(path, spec)
    return path


def test_worker_load_error_reaches_the_client_as_the_loaders_text(dask_client, mnist_flat, tmp_path):
    """ship='path': the workers read the file; it is damaged after the graph
    was built, so only the workers see the damage."""
    x, _ = mnist_flat
    path = _private_model(tmp_path, seed=21)
    lazy = pybnn.dask.predict(str(path), da.from_array(x[:2000], chunks=(CHUNK, 784)), ship="path")
    damaged = path.read_bytes()
    damaged = damaged[:100] + bytes([damaged[100] ^ 0xFF]) + damaged[101:]
    path.write_bytes(damaged)
    with pytest.raises(pybnn.FormatError) as loader:
        pybnn.load(damaged)
    with pytest.raises(pybnn.FormatError) as info:
        lazy.compute()
    text = str(info.value)
    assert str(loader.value) in text
    assert text.startswith("worker tcp://") and "differs from the file the client read" in text


def test_worker_without_the_file_names_it(dask_client, mnist_flat, tmp_path):
    x, _ = mnist_flat
    path = _private_model(tmp_path, seed=22)
    lazy = pybnn.dask.predict(str(path), da.from_array(x[:1000], chunks=(CHUNK, 784)), ship="path")
    path.unlink()
    with pytest.raises(FileNotFoundError, match="worker tcp://.*cannot read model") as info:
        lazy.compute()
    assert info.value.filename == str(path)


def test_ship_path_loads_from_the_shared_file(fresh_workers, mnist_flat, tmp_path):
    x, _ = mnist_flat
    path = _private_model(tmp_path, seed=23)
    lazy = pybnn.dask.predict(str(path), da.from_array(x[:2000], chunks=(CHUNK, 784)), ship="path")
    np.testing.assert_array_equal(lazy.compute(), pybnn.load(str(path)).predict(x[:2000]))
    with pytest.raises(ValueError, match="ship='path' needs the model as a path"):
        pybnn.dask.predict(path.read_bytes(), lazy, ship="path")


def test_threads_per_chunk(dask_client):
    """One pybnn thread per running chunk on a worker and under the threaded
    scheduler; every core when the chunk runs alone (synchronous scheduler)."""
    assert dask_client.submit(pybnn.dask._threads_per_chunk, None).result() == 1
    lazy = dask.delayed(pybnn.dask._threads_per_chunk)(None)
    assert lazy.compute(scheduler="threads") == 1
    assert lazy.compute(scheduler="sync") is None
    assert pybnn.dask._threads_per_chunk(3) == 3


def test_backend_and_device_reach_the_workers(dask_client, mnist_flat, tmp_path):
    x, _ = mnist_flat
    path = _private_model(tmp_path, seed=24)
    images = da.from_array(x[:1000], chunks=(500, 784))
    on_cpu = pybnn.dask.predict(str(path), images, backend="cpu", device="cpu")
    np.testing.assert_array_equal(on_cpu.compute(), pybnn.load(str(path)).predict(x[:1000]))
    with pytest.raises(ValueError, match="backend: expected one of 'cpu'"):
        pybnn.dask.predict(str(path), images, backend="no-such-backend")  # named on the client
    # The device is the workers' business: the cpu backend refuses this one there.
    with pytest.raises(ValueError) as loader:
        pybnn.load(str(path), device="gpu0")
    with pytest.raises(ValueError) as info:
        pybnn.dask.predict(str(path), images, device="gpu0").compute()
    assert str(info.value).startswith("worker tcp://") and str(loader.value) in str(info.value)
