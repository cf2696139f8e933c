"""scripts/bench_u8gemm.sh: every kernel set's first-layer product timed in
one process, each checked against the reference before it is timed."""
import pathlib
import re
import shutil
import subprocess

import pytest

from pybnn import _core

ROOT = pathlib.Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "bench_u8gemm.sh"


def run(*args):
    return subprocess.run(["bash", str(SCRIPT), *args], capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize("shape", ["64,1024", "0,8,64", "a,b,c", "1,2,3,4"])
def test_a_bad_shape_is_named_before_building(shape):
    r = run(shape)
    assert r.returncode == 2 and f"got {shape}" in r.stderr


def test_an_unknown_option_prints_the_usage():
    r = run("-x")
    assert r.returncode == 2 and "bench_u8gemm.sh [-r ROUNDS] [M,N,K...]" in r.stderr


@pytest.mark.skipif(not (shutil.which("cc") and shutil.which("make")), reason="needs make and a C compiler")
def test_every_set_is_timed_once_it_matches_the_reference():
    # odd shapes: partial row tiles, column groups and K quads in every set's kernel
    r = run("-r", "1", "7,19,5", "1,33,27")
    assert r.returncode == 0, r.stderr
    for shape in ("[7,19,5]", "[1,33,27]"):
        block = r.stdout.split(shape)[1].split("\n[")[0]
        timed = re.findall(r"^  (\S+) +[0-9.]+ \( *[0-9.]+\) +[0-9.]+x$", block, re.M)
        assert sorted(timed) == sorted(_core.available_isas())
