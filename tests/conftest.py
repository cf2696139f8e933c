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
