import numpy as np
import pytest

import pybnn
from pybnn import _core


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


@pytest.fixture
def rng():
    return np.random.default_rng(12345)
