"""The larq fixture models (tests/data/larq/, made by
scripts/make_larq_fixtures.py with TensorFlow + larq), converted without
TensorFlow: the .bnn gives larq's predictions and logits, and larq's hidden
signs (sign(0) = +1 included: the `ties` fixture has exact zeros)."""
import os
import subprocess
import sys

import pytest

from larq_compare import compare, fixture_names

DATA = os.path.join(os.path.dirname(__file__), "data", "larq")
FIXTURES = fixture_names(DATA)
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.parametrize("ext", [".h5", ".keras"])
@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_fixture_matches_larq(name, ext, tmp_path, capsys):
    figures = compare(DATA, name, ext, FIXTURES[name], tmp_path)
    with capsys.disabled():
        print(f"\n{name}{ext}: {figures}")
    assert figures["mismatches"] == 0  # expected on these fixtures: no value lies at a threshold
    if name == "ties":
        assert figures["exact_ties"] > 0  # the fixture really exercises sign(0) = +1


def test_fixtures_are_small():
    for f in os.listdir(DATA):
        assert os.path.getsize(os.path.join(DATA, f)) < 512 * 1024, f


def _tensorflow_python():
    """An interpreter with tensorflow and larq: $PYBNN_TF_PYTHON, or this one."""
    env = dict(os.environ, TF_USE_LEGACY_KERAS="1")  # larq needs Keras 2 (tf-keras)
    for python in (os.environ.get("PYBNN_TF_PYTHON"), sys.executable):
        if python and subprocess.run([python, "-c", "import tensorflow, larq"], env=env,
                                     capture_output=True).returncode == 0:
            return python
    return None


@pytest.mark.slow
def test_regenerated_fixtures_match_larq(tmp_path):
    python = _tensorflow_python()
    if python is None:
        pytest.skip("needs tensorflow + tf-keras + larq (set PYBNN_TF_PYTHON to such a python)")
    out = tmp_path / "larq"
    subprocess.run([python, os.path.join(REPO, "scripts", "make_larq_fixtures.py"), "--out", str(out)],
                   check=True, capture_output=True)
    regenerated = fixture_names(str(out))
    assert regenerated == FIXTURES
    for name in sorted(regenerated):
        for ext in (".h5", ".keras"):
            figures = compare(str(out), name, ext, regenerated[name], tmp_path)
            assert figures["mismatches"] == 0, (name, ext, figures)
