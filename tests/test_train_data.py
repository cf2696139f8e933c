"""The trainer on anyone's data: IDX folders and .npz files of any channel count, defaults
derived from the data, label checks, and exported models that agree with the engine."""
import numpy as np
import pytest

import pybnn
from pybnn import format as bnn_format
from pybnn.cli import main
from pybnn.train import Trainer, TrainConfig, conv, mlp
from pybnn.train.data import default_val, load_dataset
from pybnn.train.labels import ranges
from test_train_loop import write_idx


def images(n, seed=0, side=8, channels=1, classes=4):
    """Noisy (N, side, side, channels) images; class c lights quadrant c % 4 of channel c % C."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, n)
    x = rng.integers(0, 90, (n, side, side, channels)).astype(np.int32)
    h = side // 2
    for c in range(classes):
        r, q = divmod(c % 4, 2)
        x[y == c, r * h:(r + 1) * h, q * h:(q + 1) * h, c % channels] += 160
    return np.clip(x, 0, 255).astype(np.uint8), y


def idx_folder(path, x, y, x_test=None, y_test=None, gray=True):
    """MNIST-named IDX files; rank-3 images when `gray` (C = 1 squeezed), else rank 4."""
    path.mkdir()
    splits = [("train", x, y)] + ([("t10k", x_test, y_test)] if x_test is not None else [])
    for name, xs, ys in splits:
        write_idx(path / f"{name}-images-idx3-ubyte.gz", xs[..., 0] if gray else xs)
        write_idx(path / f"{name}-labels-idx1-ubyte.gz", ys.astype(np.uint8))
    return path


def train_cli(data, tmp_path, capsys, model="mlp", width="16", extra=()):
    out = tmp_path / f"{model}.bnn"
    rc = main(["train", "--model", model, "--data", str(data), "--epochs", "1", "--width", width,
               "--out", str(out)] + list(extra))
    captured = capsys.readouterr()
    return rc, captured.out, captured.err, out


def agreed(text, n, name="test"):
    """The CLI's own check: the engine gave the trainer's prediction for all n images."""
    return f"{n}/{n} predictions identical to the trainer's" in text and \
        f"engine (pybnn.load): {name} error" in text


def test_default_validation_split_is_a_sixth_at_most_10000():
    assert default_val(60000) == 10000  # MNIST: the 50,000 / 10,000 split
    assert default_val(1437) == 239
    assert default_val(600) == 100
    assert default_val(200000) == 10000
    assert default_val(5) == 0


def test_ranges_collapses_runs():
    assert ranges([0, 3, 4, 5, 9]) == "0, 3..5, 9"
    assert ranges([7]) == "7"
    assert ranges(range(0, 40, 2), limit=3) == "0, 2, 4 and 17 more"


def test_idx_grayscale_1000_images_with_defaults(tmp_path, capsys):
    x, y = images(1000, 0)
    xt, yt = images(200, 1)
    d = idx_folder(tmp_path / "gray", x, y, xt, yt)
    rc, text, err, out = train_cli(d, tmp_path, capsys)
    assert rc == 0, err
    assert ("data: 1000 training images of 8x8x1, 4 classes, 200 test images" in text
            and "split 834 train / 166 validation (the default: 1/6" in text)
    assert "batch=200" in text and agreed(text, 200)
    assert bnn_format.read(str(out)).input_shape == (64,)
    test_error = float(text.split("test error ")[1].split("%")[0])
    assert test_error < 50  # four easy classes: below chance (75%) after five steps


def test_npz_rgb_600_images_conv_preset_without_test_set(tmp_path, capsys):
    x, y = images(600, 0, channels=3)
    path = tmp_path / "rgb.npz"
    np.savez(path, x_train=x, y_train=y)
    rc, text, err, out = train_cli(path, tmp_path, capsys, "conv", "4")
    assert rc == 0, err
    assert "data: 600 training images of 8x8x3, 4 classes, no test set" in text
    assert "split 500 train / 100 validation" in text
    assert "no test set: the final figure is the validation error" in text
    assert "validation error" in text and agreed(text, 100, "validation")
    spec = bnn_format.read(str(out))
    assert spec.input_shape == (8, 8, 3) and spec.layers[0].weights.shape[-1] == 3


def test_rank4_idx_and_npz_test_set(tmp_path, capsys):
    x, y = images(300, 0, side=6, channels=2, classes=3)
    xt, yt = images(50, 1, side=6, channels=2, classes=3)
    d = idx_folder(tmp_path / "rgb_idx", x, y, xt, yt, gray=False)
    rc, text, err, _ = train_cli(d, tmp_path, capsys, "conv", "4")
    assert rc == 0, err
    assert "300 training images of 6x6x2, 3 classes, 50 test images" in text and agreed(text, 50)
    path = tmp_path / "with_test.npz"
    np.savez(path, x_train=x[..., :1], y_train=y.astype(np.int16)[:, None], x_test=xt[..., :1],
             y_test=yt)  # labels (N, 1) as Keras gives them are taken as (N,)
    rc, text, err, _ = train_cli(path, tmp_path, capsys)
    assert rc == 0, err
    assert "300 training images of 6x6x1, 3 classes, 50 test images" in text and agreed(text, 50)


@pytest.mark.parametrize("model, batch", [("mlp", 200), ("conv", 100)])
def test_dataset_smaller_than_the_default_batch(tmp_path, capsys, model, batch):
    x, y = images(60, 3)
    path = tmp_path / "tiny.npz"
    np.savez(path, x_train=x[..., 0], y_train=y, x_test=x[:20, ..., 0], y_test=y[:20])
    rc, text, err, _ = train_cli(path, tmp_path, capsys, model, "4")
    assert rc == 0, err
    assert "split 50 train / 10 validation" in text and "batch=50," in text and batch != 50
    assert agreed(text, 20)
    rc, _, err, _ = train_cli(path, tmp_path, capsys, model, "4", ["--batch", "51"])
    assert rc == 2 and "--batch must be in [1, 50] for 50 training images, got 51" in err


def test_too_few_images_for_a_validation_split_reports_the_training_error(tmp_path, capsys):
    x, y = images(5, 4, classes=2)
    y[:2] = [0, 1]
    path = tmp_path / "five.npz"
    np.savez(path, x_train=x, y_train=y)
    rc, text, err, _ = train_cli(path, tmp_path, capsys)
    assert rc == 0, err
    assert "split 5 train / 0 validation" in text
    assert "the final figure is the training error" in text
    assert agreed(text, 5, "training")


@pytest.mark.parametrize("y_train, y_test, message", [
    (lambda y: y + 1, None,
     "training labels must be integers 0..K-1 with every class present: they run 1..4 but no "
     "image has label 0; number the classes from 0"),
    (lambda y: np.where(y == 2, 1, y), None, "they run 0..3 but no image has label 2"),
    (lambda y: np.where(y == 0, -1, y), None, "found negative labels -1"),
    (lambda y: y, lambda y: np.where(y == 3, 7, y),
     "test labels must be 0..3 (the 4 classes of the training labels), found 7"),
    (lambda y: np.zeros_like(y), None, "training needs at least 2 classes"),
    (lambda y: y.astype(np.float32), None, "expected integer labels of shape (300,), got float32"),
    (lambda y: y[:-1], None, "299 labels for 300 images"),
    (lambda y: np.stack([y, y], 1), None, "expected integer labels of shape (300,), got int64 "
                                          "of shape (300, 2)"),
])
def test_bad_labels_are_named(tmp_path, capsys, y_train, y_test, message):
    x, y = images(300, 0)
    arrays = {"x_train": x, "y_train": y_train(y)}
    if y_test is not None:
        arrays.update(x_test=x[:50], y_test=y_test(y[:50]))
    path = tmp_path / "labels.npz"
    np.savez(path, **arrays)
    rc, text, err, _ = train_cli(path, tmp_path, capsys)
    assert rc == 2 and message in err and "epoch" not in text, err
    assert err.count("\n") == 1  # one line, no traceback


def test_labels_1_to_10_in_idx_are_named(tmp_path, capsys):
    x, y = images(200, 0, classes=10)
    d = idx_folder(tmp_path / "d", x, y + 1)
    rc, _, err, _ = train_cli(d, tmp_path, capsys)
    assert rc == 2 and "they run 1..10 but no image has label 0; number the classes from 0" in err


def test_sorted_labels_that_leave_a_class_to_validation_only(tmp_path, capsys):
    x, _ = images(120, 0)
    y = np.repeat([0, 1, 2], [50, 55, 15])  # sorted: the last 20 hold every image of class 2
    path = tmp_path / "sorted.npz"
    np.savez(path, x_train=x, y_train=y)
    rc, _, err, _ = train_cli(path, tmp_path, capsys)
    assert rc == 2 and "after taking the last 20 images for validation, no training image is " \
                       "left with label 2; are the images sorted by label?" in err


def test_test_set_of_another_image_shape(tmp_path, capsys):
    x, y = images(100, 0)
    xt, yt = images(20, 1, side=6)
    path = tmp_path / "shapes.npz"
    np.savez(path, x_train=x, y_train=y, x_test=xt, y_test=yt)
    rc, _, err, _ = train_cli(path, tmp_path, capsys)
    assert rc == 2 and "training images are 8x8x1 but test images 6x6x1" in err
    d = idx_folder(tmp_path / "idx", x, y, xt, yt)
    rc, _, err, _ = train_cli(d, tmp_path, capsys)
    assert rc == 2 and "training images are 8x8x1 but test images 6x6x1" in err


@pytest.mark.parametrize("arrays, message", [
    ({"x_train": "img", "labels": "lab"},
     "missing y_train; unexpected labels; found labels, x_train"),
    ({"x_train": "img", "y_train": "lab", "x_tst": "img"}, "unexpected x_tst"),
    ({"x_train": "img", "y_train": "lab", "x_test": "img"}, "has x_test but not y_test"),
    ({"x_train": "float", "y_train": "lab"},
     "expected uint8 images of shape (N, H, W) or (N, H, W, C), got float32 of shape (40, 8, 8, 1) "
     "(scale to 0..255"),
    ({"x_train": "flat", "y_train": "lab"}, "got uint8 of shape (40, 64)"),
])
def test_bad_npz_files_are_named(tmp_path, capsys, arrays, message):
    x, y = images(40, 0)
    values = {"img": x, "lab": y, "float": x.astype(np.float32), "flat": x.reshape(40, -1)}
    path = tmp_path / "bad.npz"
    np.savez(path, **{k: values[v] for k, v in arrays.items()})
    rc, _, err, _ = train_cli(path, tmp_path, capsys)
    assert rc == 2 and message in err, err


def test_files_that_are_not_npz(tmp_path, capsys):
    np.save(tmp_path / "one.npy", np.zeros(3))
    rc, _, err, _ = train_cli(tmp_path / "one.npy", tmp_path, capsys)
    assert rc == 2 and "expected a .npz archive with x_train and y_train" in err
    (tmp_path / "junk.npz").write_bytes(b"PK\x03\x04 not really a zip")
    rc, _, err, _ = train_cli(tmp_path / "junk.npz", tmp_path, capsys)
    assert rc == 2 and "not a readable .npz file" in err
    rc, _, err, _ = train_cli(tmp_path / "nothing.npz", tmp_path, capsys)
    assert rc == 2 and "does not exist (expected a folder of IDX files or a .npz file)" in err


def test_explicit_val_that_does_not_fit_keeps_its_error(tmp_path, capsys):
    x, y = images(100, 0)
    path = tmp_path / "d.npz"
    np.savez(path, x_train=x, y_train=y)
    rc, _, err, _ = train_cli(path, tmp_path, capsys, extra=["--val", "100"])
    assert rc == 2 and "--val must be in [0, 99] for 100 training images, got 100" in err


def test_conv_preset_needs_4x4_images(tmp_path, capsys):
    x, y = images(50, 0, side=3)
    path = tmp_path / "small.npz"
    np.savez(path, x_train=x, y_train=y)
    rc, _, err, _ = train_cli(path, tmp_path, capsys, "conv", "4")
    assert rc == 2 and "the conv preset takes (H, W, C) images of at least 4x4" in err
    rc, _, err, _ = train_cli(path, tmp_path, capsys, "mlp", "4")
    assert rc == 0, err


@pytest.mark.parametrize("preset, channels", [(mlp, 3), (conv, 3), (conv, 1)])
def test_python_api_exports_the_trainer_predictions(tmp_path, preset, channels):
    """load_dataset -> preset -> Trainer.fit -> export: pybnn.load predicts as the trainer."""
    x, y = images(300, 0, channels=channels)
    xt, yt = images(80, 1, channels=channels)
    path = tmp_path / "d.npz"
    np.savez(path, x_train=x, y_train=y, x_test=xt, y_test=yt)
    kind = "mlp" if preset is mlp else "conv"
    data = load_dataset(str(path), kind)
    assert data.image_shape == (8, 8, channels) and data.classes == 4
    assert len(data.x_val) == 50 and data.x_test.shape[1:] == (
        (8 * 8 * channels,) if kind == "mlp" else (8, 8, channels))
    if kind == "mlp":  # flattened in NHWC order, as the engine flattens
        np.testing.assert_array_equal(data.x_test, xt.reshape(80, -1))
        net = mlp(n_features=data.x_train.shape[1], n_classes=data.classes, width=32)
    else:
        net = conv(input_shape=data.image_shape, n_classes=data.classes, width=4)
    Trainer(net, TrainConfig(epochs=3, batch=25), log=lambda s: None).fit(
        data.x_train, data.y_train, data.x_val, data.y_val)
    net.export(str(tmp_path / "m.bnn"))
    engine = np.argmax(pybnn.load(str(tmp_path / "m.bnn")).run(data.x_test), axis=1)
    np.testing.assert_array_equal(engine, net.predict(data.x_test))
    assert np.mean(engine != yt) < 0.5  # it learned something: chance is 0.75


def test_fit_rejects_labels_the_model_cannot_output():
    x, y = images(40, 0)
    trainer = Trainer(mlp(n_features=64, n_classes=4, width=8), TrainConfig(epochs=1, batch=20),
                      log=lambda s: None)
    with pytest.raises(ValueError, match="training labels must be 0..3 \\(the 4 classes of "
                                         "the model's outputs\\), found -1, 4"):
        trainer.fit(x.reshape(40, -1), np.where(y == 0, -1, np.where(y == 1, 4, y)))
    with pytest.raises(ValueError, match="validation labels: 3 labels for 4 images"):
        trainer.fit(x.reshape(40, -1), y, x[:4].reshape(4, -1), y[:3])
