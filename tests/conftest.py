import os
from dataclasses import dataclass

import numpy as np
import pytest

import pybnn
from pybnn import _core, backends


def kernel_sets():
    """Every kernel set this machine can run, plus the reference oracle."""
    return _core.available_isas() + ["ref"]


@pytest.fixture(params=kernel_sets())
def isa(request):
    """Run a test once per kernel set, restoring the default afterwards."""
    default = _core.isa()
    _core.select_isa(request.param)
    yield request.param
    _core.select_isa(default)


@dataclass(frozen=True)
class Target:
    """Where an engine test runs: a backend, and for the cpu one of its kernel sets."""
    backend: str
    isa: str = None

    def load(self, source, **kwargs):
        return pybnn.load(source, backend=self.backend, **kwargs)


def targets():
    """The cpu backend once per kernel set, every other backend once."""
    return ([Target("cpu", isa) for isa in kernel_sets()] +
            [Target(name) for name in backends.names() if name != "cpu"])


@pytest.fixture(params=targets(), ids=lambda t: f"{t.backend}-{t.isa}" if t.isa else t.backend)
def target(request):
    """Run an engine test once per target; skip (saying why) a backend this machine cannot run."""
    t = request.param
    usable, why = backends.usable(t.backend)
    if not usable:
        pytest.skip(f"backend {t.backend!r} cannot run here: {why}")
    if t.isa is None:
        yield t
        return
    default = _core.isa()
    _core.select_isa(t.isa)
    yield t
    _core.select_isa(default)


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


# The MNIST files shared by the project's machines: ../shared/data/mnist from the repo root.
MNIST_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                         os.pardir, "shared", "data", "mnist")


@pytest.fixture(scope="session")
def mnist_test_images():
    """The 10,000 MNIST test images (N, 28, 28) uint8 and their labels."""
    from pybnn.idx import load_split
    if not os.path.isdir(MNIST_DIR):
        pytest.skip(f"MNIST not found at {os.path.normpath(MNIST_DIR)} (../shared/data/mnist "
                    f"from the repo root)")
    return load_split(MNIST_DIR, "test")


@pytest.fixture(scope="session")
def dask_client():
    """A real local Dask cluster: 2 worker processes of 1 thread, closed at the end."""
    from distributed import Client, LocalCluster
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           dashboard_address=":0")
    client = Client(cluster)
    yield client
    client.close()
    cluster.close()
