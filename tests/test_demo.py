"""`pybnn demo`: the bundled model classifies the bundled digits, with nothing to fetch."""
import os

import numpy as np

import pybnn
from pybnn.cli import demo
from pybnn.cli import main


def test_demo_runs_and_reports(capsys):
    assert main(["demo", "--repeat", "2", "--show", "1"]) == 0
    out = capsys.readouterr().out
    assert "predicted" in out and "images/s" in out
    images, labels = demo.load_digits()
    pred = pybnn.load(demo.DEMO_MODEL).predict(images.reshape(len(images), -1))
    correct = int(np.sum(pred == labels))
    assert f"accuracy: {correct}/{len(labels)}" in out
    assert correct / len(labels) >= 0.95  # the bundled model is a real MNIST model


def test_demo_files_are_package_data():
    for path in (demo.DEMO_MODEL, demo.DEMO_IMAGES, demo.DEMO_LABELS):
        assert os.path.dirname(path) == os.path.join(os.path.dirname(pybnn.__file__), "data")
        assert os.path.getsize(path) > 0


def test_demo_missing_model(tmp_path, capsys):
    assert main(["demo", "--model", str(tmp_path / "none.bnn")]) == 2
    assert "none.bnn" in capsys.readouterr().err
