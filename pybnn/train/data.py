"""Datasets for training: IDX splits shaped for a preset, and the validation split."""
import numpy as np

from ..idx import load_split


def load_dataset(directory, model_kind, val=10000, train_limit=None):
    """(x_train, y_train, x_val, y_val, x_test, y_test, image_shape) for `model_kind`.

    Dense models ('mlp') get flat (N, H*W) images, conv models (N, H, W, 1).
    The validation split is the last `val` training images (the original code's
    50,000 / 10,000 split of MNIST); `train_limit` keeps only the first images
    of the remaining training set (for quick runs). The arrays are uint8;
    image_shape is the images' (H, W, 1), whatever shape the model gets.
    """
    x, y = load_split(directory, "train")
    x_test, y_test = load_split(directory, "test")
    if x.shape[1:] != x_test.shape[1:]:
        raise ValueError(f"{directory}: training images are {x.shape[1:]} but test images "
                         f"{x_test.shape[1:]}")
    if not 0 <= val < len(x):
        raise ValueError(f"--val must be in [0, {len(x) - 1}] for {len(x)} training images, "
                         f"got {val}")
    image_shape = x.shape[1:3] + (1,)
    x, x_test = shape_for(x, model_kind), shape_for(x_test, model_kind)
    split = len(x) - val
    x_train, y_train, x_val, y_val = x[:split], y[:split], x[split:], y[split:]
    if train_limit:
        x_train, y_train = x_train[:train_limit], y_train[:train_limit]
    return x_train, y_train, x_val, y_val, x_test, y_test, image_shape


def shape_for(images, model_kind):
    """(N, H, W) uint8 images as the model's input: flat for 'mlp', (N, H, W, 1) for 'conv'."""
    if model_kind == "mlp":
        return np.ascontiguousarray(images.reshape(len(images), -1))
    return np.ascontiguousarray(images[..., None])


def n_classes(*label_arrays):
    return int(max(int(y.max()) for y in label_arrays if len(y))) + 1
