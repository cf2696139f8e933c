"""The sdist carries every file the build needs and the wheel every file the
package needs, checked against the source tree.

`python -m build` makes the sdist, then the wheel from the unpacked sdist in
an isolated environment (as pip does on a Raspberry Pi), so a file missing
from the sdist fails the wheel build or this comparison. A source-tree test:
it needs git and a git checkout (scripts/pi_test.sh, which installs the sdist
on emulated Raspberry Pi roots, leaves it out there)."""
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Top-level files the build reads.
BUILD_FILES = {"README.md", "pyproject.toml", "setup.py", "build_isa.py", "MANIFEST.in"}
# What the build writes into an sdist besides the tree's files.
SDIST_GENERATED = {"PKG-INFO", "setup.cfg"}


def tree_files():
    """The tree's files: tracked, plus new ones not git-ignored (so a file not yet
    committed is checked too), minus deleted ones."""
    if not shutil.which("git") or not os.path.exists(os.path.join(ROOT, ".git")):  # a dir, or a file in a worktree
        pytest.skip("needs git and a git checkout of pybnn (a source-tree test)")
    out = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout
    return {p for p in out.splitlines() if os.path.exists(os.path.join(ROOT, p))}


def needed_by_the_build(files):
    """Every file of src/ (C, headers, Makefile), the Python package with its
    Cython source and data, opencl/*.cl kernels, the docs and the build files."""
    def needed(p):
        return (p.startswith("src/") or p in BUILD_FILES
                or (p.startswith("pybnn/") and (p.endswith((".py", ".pyx")) or p.startswith("pybnn/data/")))
                or (p.startswith("opencl/") and p.endswith(".cl"))
                or (p.startswith("docs/") and p.endswith(".md") and p.count("/") == 1))
    return {p for p in files if needed(p)}


def needed_by_the_package(files):
    """The installed files: pybnn's modules and data, and the OpenCL kernels
    (opencl/*.cl, installed as pybnn/opencl/*.cl)."""
    return ({p for p in files if p.startswith("pybnn/") and (p.endswith(".py") or p.startswith("pybnn/data/"))} |
            {"pybnn/" + p for p in files if p.startswith("opencl/") and p.endswith(".cl")})


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    files = tree_files()
    out = tmp_path_factory.mktemp("dist")
    result = subprocess.run([sys.executable, "-m", "build", "--outdir", str(out), ROOT],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    sdists = [p for p in os.listdir(out) if p.endswith(".tar.gz")]
    wheels = [p for p in os.listdir(out) if p.endswith(".whl")]
    assert len(sdists) == 1 and len(wheels) == 1, os.listdir(out)
    with tarfile.open(out / sdists[0]) as t:
        prefix = sdists[0][:-len(".tar.gz")] + "/"
        sdist = {m.name[len(prefix):] for m in t.getmembers() if m.isfile()}
    with zipfile.ZipFile(out / wheels[0]) as z:
        wheel = {n for n in z.namelist() if not n.endswith("/")}
    return files, sdist, wheel


def test_the_sdist_carries_every_file_the_build_needs(built):
    files, sdist, _ = built
    want = needed_by_the_build(files)
    assert any(p.startswith("src/cpu/kernels/") for p in want)  # the tree was read
    assert sorted(want - sdist) == []


def test_the_sdist_carries_only_tree_files_and_build_metadata(built):
    files, sdist, _ = built
    extra = {p for p in sdist - files - SDIST_GENERATED if not p.startswith("pybnn.egg-info/")}
    assert sorted(extra) == []


def test_the_build_needs_no_numpy():
    """build-system.requires is setuptools, wheel and Cython only (an armv7 pip
    would otherwise build NumPy from source first); the isolated wheel build of
    `built` proves the extension compiles without it."""
    tomllib = pytest.importorskip("tomllib")
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        requires = tomllib.load(f)["build-system"]["requires"]
    names = {r.split(">")[0].split("=")[0].split("<")[0].strip().lower() for r in requires}
    assert names == {"setuptools", "wheel", "cython"}


def test_the_wheel_carries_the_package_and_its_extension(built):
    files, _, wheel = built
    assert sorted(needed_by_the_package(files) - wheel) == []
    extensions = [p for p in wheel if p.startswith("pybnn/_core") and p.endswith(".so")]
    assert len(extensions) == 1, extensions
    rest = wheel - needed_by_the_package(files) - set(extensions)
    assert sorted(p for p in rest if ".dist-info/" not in p) == []
