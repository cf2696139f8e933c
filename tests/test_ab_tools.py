"""scripts/ab_models.sh and ab_bgemm.sh: two builds of the C library timed on
one model, or on bgemm products, in one process. Bad arguments fail before
anything is built; full runs (two library builds each, about a minute) are
marked slow."""
import os
import pathlib
import re
import shutil
import subprocess

import pytest

from pybnn import format as bnn_format
from model_factory import named_model

ROOT = pathlib.Path(__file__).resolve().parent.parent
MODELS = ROOT / "scripts" / "ab_models.sh"
BGEMM = ROOT / "scripts" / "ab_bgemm.sh"

needs_tools = pytest.mark.skipif(not (shutil.which("git") and shutil.which("cc") and (ROOT / ".git").exists()),
                                 reason="needs git, a C compiler and a git checkout")


def run(script, *args):
    return subprocess.run(["bash", str(script), *args], capture_output=True, text=True, timeout=600)


@pytest.fixture
def model_file(tmp_path):
    path = tmp_path / "m.bnn"
    path.write_bytes(bnn_format.to_bytes(named_model("conv_random")))
    return str(path)


@pytest.mark.parametrize("script, usage", [(MODELS, "REV_A REV_B MODEL.bnn"), (BGEMM, "REV_A REV_B M,N,K")])
def test_usage_without_arguments(script, usage):
    r = run(script)
    assert r.returncode == 2 and usage in r.stderr


def test_a_missing_model_is_named(tmp_path):
    r = run(MODELS, "HEAD", ".", str(tmp_path / "absent.bnn"))
    assert r.returncode == 2 and "no model file" in r.stderr and "absent.bnn" in r.stderr


@pytest.mark.parametrize("shape", ["64,1024", "0,8,64", "a,b,c", "1,2,3,4"])
def test_a_bad_shape_is_named(shape):
    r = run(BGEMM, "HEAD", ".", shape)
    assert r.returncode == 2 and f"got {shape}" in r.stderr


@needs_tools
def test_an_unknown_revision_is_named(model_file):
    for r in (run(MODELS, "no-such-revision", ".", model_file),
              run(BGEMM, "no-such-revision", ".", "1,8,64")):
        assert r.returncode == 2 and "no-such-revision is not a revision" in r.stderr


@pytest.mark.slow
@needs_tools
def test_the_tree_against_itself_times_both_and_agrees(model_file):
    """The same library twice: equal scores (no note), one line per batch,
    and a ratio near 1."""
    r = run(MODELS, "-r", "5", ".", ".", model_file, "1", "3")
    assert r.returncode == 0, r.stderr
    lines = [l for l in r.stdout.splitlines() if l.startswith("threads 1 batch")]
    assert [int(l.split()[3]) for l in lines] == [1, 3]
    assert "differ" not in r.stdout
    for line in lines:
        ratio = float(re.search(r"B/A ([\d.]+)", line).group(1))
        assert 0.3 < ratio < 3.0, line


@pytest.mark.slow
@needs_tools
@pytest.mark.parametrize("prepared", [[], ["-p"]])
def test_bgemm_of_the_tree_against_itself(prepared):
    """Both products checked equal (exit 0), one line per shape, ratio near 1."""
    r = run(BGEMM, "-r", "5", *prepared, ".", ".", "3,40,576", "1,17,1000")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert [l.split()[0] for l in lines] == ["[3,40,576]", "[1,17,1000]"]
    assert all(("prepared" in l) == bool(prepared) for l in lines)
    for line in lines:
        ratio = float(re.search(r"B/A ([\d.]+)", line).group(1))
        assert 0.3 < ratio < 3.0, line
