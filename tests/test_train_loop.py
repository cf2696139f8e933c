"""The training loop and CLI on small synthetic IDX data: learning, seeds, resume, export."""
import gzip
import struct

import numpy as np
import pytest

from pybnn import format as bnn_format
from pybnn.cli import main
from pybnn.train.presets import conv, mlp
from pybnn.train.trainer import TrainConfig, Trainer


def synthetic(n, seed=0, side=8, classes=4):
    """Noisy images where class c lights up quadrant c: learnable in a couple of epochs."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, n).astype(np.uint8)
    x = rng.integers(0, 90, (n, side, side)).astype(np.int32)
    h = side // 2
    for c in range(classes):
        r, q = divmod(c, 2)
        x[y == c, r * h:(r + 1) * h, q * h:(q + 1) * h] += 160
    return np.clip(x, 0, 255).astype(np.uint8), y


def write_idx(path, a):
    head = bytes([0, 0, 8, a.ndim]) + struct.pack(f">{a.ndim}i", *a.shape)
    path.write_bytes(gzip.compress(head + a.tobytes()))


@pytest.fixture
def data_dir(tmp_path):
    d = tmp_path / "data"
    d.mkdir()
    for name, n, seed in (("train", 500, 0), ("t10k", 200, 1)):
        x, y = synthetic(n, seed)
        write_idx(d / f"{name}-images-idx3-ubyte.gz", x)
        write_idx(d / f"{name}-labels-idx1-ubyte.gz", y)
    return d


def flat(x):
    return x.reshape(len(x), -1)


def train_small(epochs, seed=0, checkpoint=None, optimizer="adam", translate=0, **kw):
    x, y = synthetic(400, 0)
    model = mlp(n_features=64, n_classes=4, width=48, seed=seed, **kw)
    config = TrainConfig(epochs=epochs, batch=50, seed=seed, optimizer=optimizer, lr_end=3e-4,
                         translate=translate, image_shape=(8, 8, 1))
    trainer = Trainer(model, config,
                      log=lambda s: None, checkpoint=checkpoint)
    trainer.fit(flat(x), y)
    return trainer


@pytest.mark.parametrize("options, epochs", [
    ({}, 3), ({"shift_bn": True}, 3), ({"optimizer": "shift_adamax"}, 3),
    ({"optimizer": "adamax", "dropout_in": 0.2, "dropout_hidden": 0.5}, 6),
    ({"stochastic": True}, 10),  # noisier gradients: slower to learn
    ({"translate": 1}, 4),
])
def test_mlp_learns(options, epochs):
    trainer = train_small(epochs, **options)
    xt, yt = synthetic(300, 5)
    assert trainer.model.error(flat(xt), yt) < 0.1
    assert trainer.history.train_loss[-1] < trainer.history.train_loss[0]


def test_conv_learns():
    x, y = synthetic(300, 0)
    model = conv(input_shape=(8, 8, 1), n_classes=4, width=4, seed=0)
    Trainer(model, TrainConfig(epochs=3, batch=50), log=lambda s: None).fit(x[..., None], y)
    xt, yt = synthetic(200, 5)
    assert model.error(xt[..., None], yt) < 0.15


def test_same_seed_same_weights_other_seed_differs():
    a, b, c = train_small(1, seed=3), train_small(1, seed=3), train_small(1, seed=4)
    for pa, pb, pc in zip(a.model.params(), b.model.params(), c.model.params()):
        np.testing.assert_array_equal(pa.value, pb.value)
    assert any(not np.array_equal(pa.value, pc.value)
               for pa, pc in zip(a.model.params(), c.model.params()))


@pytest.mark.parametrize("options", [{}, {"stochastic": True, "dropout_hidden": 0.3},
                                     {"translate": 1}])
def test_resume_continues_exactly(tmp_path, options):
    ckpt = str(tmp_path / "run.ckpt.npz")
    whole = train_small(3, seed=2, **options)
    first = train_small(1, seed=2, checkpoint=ckpt, **options)
    first.config.epochs = 3  # the run was meant to last 3 epochs (its LR schedule depends on it)
    first.save_checkpoint(ckpt)
    resumed = Trainer.resume(ckpt, log=lambda s: None)
    assert resumed.epoch == 1
    x, y = synthetic(400, 0)
    resumed.fit(flat(x), y)
    for p, q in zip(whole.model.params(), resumed.model.params()):
        np.testing.assert_array_equal(p.value, q.value)
    assert resumed.history.train_loss == whole.history.train_loss


def test_model_save_load(tmp_path):
    trainer = train_small(1)
    path = str(tmp_path / "m.npz")
    trainer.model.save(path)
    from pybnn.train.network import Network
    back = Network.load(path)
    x, _ = synthetic(50, 9)
    np.testing.assert_array_equal(back.scores(flat(x)), trainer.model.scores(flat(x)))


@pytest.mark.parametrize("model_kind, extra", [
    ("mlp", ["--width", "32", "--stochastic", "--shift-bn", "--loss", "ce"]),
    ("conv", ["--width", "4", "--shift-adamax"]),
])
def test_cli_train(data_dir, tmp_path, capsys, model_kind, extra):
    out = tmp_path / "m.bnn"
    rc = main(["train", "--model", model_kind, "--data", str(data_dir), "--epochs", "2",
               "--val", "100", "--out", str(out), "--seed", "1"] + extra)
    text = capsys.readouterr().out
    assert rc == 0, text
    assert "epoch   2/2" in text and "val error" in text and "test error" in text
    assert "batch-norm statistics over 400 training images" in text
    spec = bnn_format.read(str(out))
    assert spec.input_shape == ((64,) if model_kind == "mlp" else (8, 8, 1))
    assert (tmp_path / "m.ckpt.npz").exists()
    # resuming a finished run with more epochs trains only the new ones
    rc = main(["train", "--model", model_kind, "--data", str(data_dir), "--epochs", "3",
               "--val", "100", "--out", str(out), "--resume"] + extra)
    text = capsys.readouterr().out
    assert rc == 0 and "resumed from" in text and "epoch   3/3" in text and "epoch   2/" not in text


def test_cli_errors(tmp_path, capsys):
    assert main(["train", "--data", str(tmp_path / "nope"), "--epochs", "1"]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["train", "--data", str(tmp_path), "--bn-stats", "-1"]) == 2
    assert "--bn-stats must be >= 0, got -1" in capsys.readouterr().err


def test_cli_bn_stats_zero_keeps_the_running_averages(data_dir, tmp_path, capsys):
    outs, texts = [], []
    for n in ("0", "400"):
        out = tmp_path / f"m{n}.bnn"
        assert main(["train", "--model", "mlp", "--width", "16", "--data", str(data_dir),
                     "--epochs", "1", "--val", "100", "--bn-stats", n, "--out", str(out)]) == 0
        texts.append(capsys.readouterr().out)
        outs.append(bnn_format.read(str(out)))
    assert "batch-norm statistics over" not in texts[0]
    assert "batch-norm statistics over 400 training images" in texts[1]
    moved = any(not np.array_equal(a.thresholds, b.thresholds)
                for a, b in zip(outs[0].layers, outs[1].layers) if hasattr(a, "thresholds"))
    assert moved == ("keeping the population statistics" in texts[1])


def test_plot_history_writes_a_png_when_matplotlib_is_there(tmp_path):
    from pybnn.train.plot import plot_history
    trainer = train_small(2)
    path = tmp_path / "curves.png"
    drawn = plot_history(trainer.history, str(path), "title")
    assert drawn == path.exists()
    if drawn:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
