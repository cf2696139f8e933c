"""Random-translation augmentation (`--translate`): images moved within range, zero-filled."""
import numpy as np
import pytest

from pybnn.cli import main
from pybnn.train.augment import check_translate, random_translate


def moved(image, dy, dx):
    """`image` (H, W, C) with its content moved down dy and right dx, vacated pixels 0."""
    h, w = image.shape[:2]
    out = np.zeros_like(image)
    out[max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
        image[max(-dy, 0):h - max(dy, 0), max(-dx, 0):w - max(dx, 0)]
    return out


@pytest.mark.parametrize("image_shape, flat", [((7, 5, 1), True), ((6, 6, 3), False)])
def test_every_image_is_moved_by_an_offset_within_range(image_shape, flat):
    rng = np.random.default_rng(0)
    x = rng.integers(1, 256, (400,) + image_shape, dtype=np.uint8)  # no zero pixels: offsets show
    batch = x.reshape(len(x), -1) if flat else x
    out = random_translate(batch, 2, image_shape, np.random.default_rng(1))
    assert out.shape == batch.shape and out.dtype == np.uint8
    out = out.reshape(x.shape)
    seen = set()
    for original, shifted in zip(x, out):
        found = [(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3)
                 if np.array_equal(moved(original, dy, dx), shifted)]
        assert len(found) == 1, "each output is exactly one translate of its input"
        seen.add(found[0])
    assert len(seen) == 25, "all offsets in [-2, 2]^2 occur"


def test_translate_is_reproducible_and_zero_is_identity():
    x = np.random.default_rng(0).integers(0, 256, (20, 8, 8, 1), dtype=np.uint8)
    a = random_translate(x, 1, (8, 8, 1), np.random.default_rng(5))
    b = random_translate(x, 1, (8, 8, 1), np.random.default_rng(5))
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(random_translate(x, 0, (8, 8, 1), np.random.default_rng(5)), x)


def test_bad_translate_is_a_clear_error():
    with pytest.raises(ValueError, match=r"--translate must be in \[0, 7\] for 8x9 images, got 8"):
        check_translate(8, (8, 9, 1))
    with pytest.raises(ValueError, match="need the images' .* shape"):
        check_translate(1, None)


def test_cli_trains_with_translate_and_rejects_a_bad_one(tmp_path, capsys):
    from test_train_loop import synthetic, write_idx
    d = tmp_path / "data"
    d.mkdir()
    for name, n, seed in (("train", 300, 0), ("t10k", 100, 1)):
        x, y = synthetic(n, seed)
        write_idx(d / f"{name}-images-idx3-ubyte.gz", x)
        write_idx(d / f"{name}-labels-idx1-ubyte.gz", y)
    out = tmp_path / "m.bnn"
    assert main(["train", "--model", "mlp", "--width", "32", "--data", str(d), "--epochs", "2",
                 "--val", "50", "--translate", "1", "--out", str(out)]) == 0
    assert "translate=1" in capsys.readouterr().out
    assert main(["train", "--model", "conv", "--width", "4", "--data", str(d), "--epochs", "1",
                 "--val", "50", "--translate", "8", "--out", str(out)]) == 2
    assert "--translate must be in [0, 7] for 8x8 images, got 8" in capsys.readouterr().err
