"""Every CLI command given a bad file: a missing file, a directory, a file
that is not a .bnn model, a truncated IDX file, an empty .npy. Each must
give one line on stderr naming the problem and exit status 2 (bad input,
as argparse's usage errors), never a traceback."""
import gzip
import os
import struct
import subprocess
import sys

import numpy as np
import pytest

from pybnn import format as bnn_format
from pybnn.cli import main

from model_factory import random_model


@pytest.fixture
def files(tmp_path):
    """A good model and input, and one bad file of each kind."""
    spec = random_model(np.random.default_rng(3), kind="dense")
    f = dict(model=tmp_path / "m.bnn", x=tmp_path / "x.npy", missing=tmp_path / "missing.bnn",
             directory=tmp_path, text=tmp_path / "notes.txt", truncated_bnn=tmp_path / "cut.bnn",
             empty_npy=tmp_path / "empty.npy", no_samples=tmp_path / "none.npy",
             junk_npy=tmp_path / "junk.npy", idx_cut=tmp_path / "cut-idx3-ubyte",
             idx_gz_cut=tmp_path / "cut-idx3-ubyte.gz")
    bnn_format.write(f["model"], spec)
    np.save(f["x"], np.zeros((3,) + tuple(spec.input_shape), np.uint8))
    f["text"].write_text("this is not a model\n" * 5)
    f["truncated_bnn"].write_bytes(f["model"].read_bytes()[:100])
    f["empty_npy"].write_bytes(b"")
    np.save(f["no_samples"], np.zeros((0,) + tuple(spec.input_shape), np.uint8))
    f["junk_npy"].write_bytes(b"\x93NUMPY garbage, not an array header at all")
    idx = struct.pack(">BBBBiii", 0, 0, 8, 3, 10, 28, 28) + bytes(500)  # needs 7,840 bytes
    f["idx_cut"].write_bytes(idx)
    whole = gzip.compress(idx + bytes(7840 - 500))  # a valid file, then cut
    f["idx_gz_cut"].write_bytes(whole[:len(whole) // 2])
    return {k: str(v) for k, v in f.items()}


def assert_one_line_error(capsys, argv, *needles):
    status = main(argv)
    err = capsys.readouterr().err
    assert status == 2, (argv, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"pybnn {argv[0]}: error: "), err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


BAD_MODELS = [("missing", "No such file"), ("directory", "it is a directory, not a regular file"),
              ("text", "magic"), ("truncated_bnn", "truncated"), ("x", "magic")]


@pytest.mark.parametrize("bad,needle", BAD_MODELS)
@pytest.mark.parametrize("command", ["info", "run", "bench", "demo"])
def test_bad_model_file(files, capsys, command, bad, needle):
    path = files[bad]
    argv = {"info": ["info", path], "run": ["run", path, files["x"]],
            "bench": ["bench", path, "--runs", "1"],
            "demo": ["demo", "--model", path, "--repeat", "1", "--show", "0"]}[command]
    assert_one_line_error(capsys, argv, needle)


BAD_INPUTS = [("missing", "No such file"), ("directory", "Is a directory"),
              ("text", "bad IDX magic"),
              ("idx_cut", "truncated data"), ("idx_gz_cut", "not a readable gzip file"),
              ("empty_npy", "empty or truncated .npy file"), ("junk_npy", "not a readable .npy"),
              ("no_samples", "expected at least one sample")]


@pytest.mark.parametrize("bad,needle", BAD_INPUTS)
def test_run_bad_input(files, capsys, bad, needle):
    assert_one_line_error(capsys, ["run", files["model"], files[bad]], files[bad], needle)


@pytest.mark.parametrize("bad,needle", [b for b in BAD_INPUTS if b[0] != "no_samples"])
def test_run_bad_labels(files, capsys, bad, needle):
    assert_one_line_error(capsys, ["run", files["model"], files["x"], "--labels", files[bad]],
                          needle)


def idx_dir(tmp_path, images, labels=struct.pack(">BBBBi", 0, 0, 8, 1, 10) + bytes(10)):
    d = tmp_path / "data"
    d.mkdir()
    for split in ("train", "t10k"):
        (d / f"{split}-images-idx3-ubyte").write_bytes(images)
        (d / f"{split}-labels-idx1-ubyte").write_bytes(labels)
    return str(d)


@pytest.mark.parametrize("case", ["missing", "a file", "empty file", "empty dir", "truncated idx",
                                  "empty idx"])
def test_train_bad_data(files, tmp_path, capsys, case):
    if case == "missing":
        data, needle = files["missing"], "does not exist"
    elif case == "a file":  # not a directory: taken as a .npz of images and labels
        data, needle = files["model"], "not a readable .npz file"
    elif case == "empty file":
        data, needle = files["empty_npy"], files["empty_npy"]
    elif case == "empty dir":
        (tmp_path / "nothing").mkdir()
        data, needle = str(tmp_path / "nothing"), "expected train-images-idx3-ubyte"
    elif case == "truncated idx":
        data, needle = idx_dir(tmp_path, open(files["idx_cut"], "rb").read()), "truncated data"
    else:
        data, needle = idx_dir(tmp_path, b""), "got a file of 0 bytes"
    assert_one_line_error(capsys, ["train", "--data", data, "--out", str(tmp_path / "o.bnn")],
                          needle)


def test_usage_errors_exit_2_too(files):
    with pytest.raises(SystemExit) as info:
        main(["bench", files["model"], "--batch", "0"])
    assert info.value.code == 2


def test_the_installed_command_exits_2_without_a_traceback(files):
    done = subprocess.run([sys.executable, "-m", "pybnn", "info", files["directory"]],
                          capture_output=True, text=True, cwd=os.path.dirname(files["model"]))
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert "it is a directory, not a regular file" in done.stderr


@pytest.mark.parametrize("bad", ["missing", "directory", "text", "truncated_bnn", "empty_npy"])
def test_convert_bad_model_file(files, tmp_path, capsys, bad):
    assert_one_line_error(capsys, ["convert", files[bad], "-o", str(tmp_path / "out.bnn")])
    assert not (tmp_path / "out.bnn").exists()
