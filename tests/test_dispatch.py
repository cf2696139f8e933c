"""Kernel selection: PYBNN_DISABLE_CPU_FEATURES, kernel_info and the test-only selector."""
import json
import os
import subprocess
import sys

import pytest

import pybnn
from pybnn import _core

PROBE = ("import json, pybnn;"
         "print(json.dumps(pybnn.kernel_info()))")


def kernel_info_with(env_value):
    """kernel_info() of a fresh interpreter with the variable set (it is read once)."""
    env = dict(os.environ, PYBNN_DISABLE_CPU_FEATURES=env_value)
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True)
    return out


def test_kernel_info_reports_the_set_in_use():
    info = pybnn.kernel_info()
    assert info["isa"] in info["available"]
    assert info["available"][-1] == "scalar"  # best first, scalar last, always there
    assert info["threads"] >= 1


@pytest.mark.parametrize("disabled", ["avx512,avx2,neon", "AVX2, avx512 ,neon"])
def test_disabling_every_simd_set_leaves_scalar(disabled):
    out = kernel_info_with(disabled)
    assert out.returncode == 0, out.stderr
    info = json.loads(out.stdout)
    assert info["isa"] == "scalar" and info["available"] == ["scalar"]


def test_disabling_the_best_set_picks_the_next():
    best = pybnn.kernel_info()["available"]
    if len(best) < 2:
        pytest.skip("this CPU has only the scalar kernels")
    info = json.loads(kernel_info_with(best[0]).stdout)
    assert info["isa"] == best[1] and best[0] not in info["available"]


def test_unknown_names_warn_with_the_valid_ones():
    out = kernel_info_with("avx2,sse9")
    assert "RuntimeWarning" in out.stderr and "unknown name(s) ['sse9']" in out.stderr
    assert "avx512" in out.stderr and json.loads(out.stdout)["isa"] != "avx2"


def test_selector_rejects_sets_this_cpu_cannot_run():
    with pytest.raises(NotImplementedError, match="not in this build|not usable"):
        _core.select_isa("sve2")
    missing = [s for s in ("avx512", "avx2", "neon") if s not in _core.available_isas()]
    for name in missing:
        with pytest.raises(NotImplementedError, match=name):
            _core.select_isa(name)
