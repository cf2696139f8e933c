"""scripts/ab_models.sh: two builds of the C library timed on one model in one
process. Bad arguments fail before anything is built; a full run (two
library builds, about a minute) is marked slow."""
import os
import pathlib
import re
import shutil
import subprocess

import pytest

from pybnn import format as bnn_format
from model_factory import named_model

ROOT = pathlib.Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "ab_models.sh"

needs_tools = pytest.mark.skipif(not (shutil.which("git") and shutil.which("cc") and (ROOT / ".git").exists()),
                                 reason="needs git, a C compiler and a git checkout")


def run(*args):
    return subprocess.run(["bash", str(SCRIPT), *args], capture_output=True, text=True, timeout=600)


@pytest.fixture
def model_file(tmp_path):
    path = tmp_path / "m.bnn"
    path.write_bytes(bnn_format.to_bytes(named_model("conv_random")))
    return str(path)


def test_usage_without_arguments():
    r = run()
    assert r.returncode == 2 and "REV_A REV_B MODEL.bnn" in r.stderr


def test_a_missing_model_is_named(tmp_path):
    r = run("HEAD", ".", str(tmp_path / "absent.bnn"))
    assert r.returncode == 2 and "no model file" in r.stderr and "absent.bnn" in r.stderr


@needs_tools
def test_an_unknown_revision_is_named(model_file):
    r = run("no-such-revision", ".", model_file)
    assert r.returncode == 2 and "no-such-revision is not a revision" in r.stderr


@pytest.mark.slow
@needs_tools
def test_the_tree_against_itself_times_both_and_agrees(model_file):
    """The same library twice: equal scores (no note), one line per batch,
    and a ratio near 1."""
    r = run("-r", "5", ".", ".", model_file, "1", "3")
    assert r.returncode == 0, r.stderr
    lines = [l for l in r.stdout.splitlines() if l.startswith("threads 1 batch")]
    assert [int(l.split()[3]) for l in lines] == [1, 3]
    assert "differ" not in r.stdout
    for line in lines:
        ratio = float(re.search(r"B/A ([\d.]+)", line).group(1))
        assert 0.3 < ratio < 3.0, line
