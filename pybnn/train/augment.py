"""Data augmentation: random translations of the training images (off by default).

The paper trained its MNIST MLP for 1000 epochs without augmentation; moving
each training image by a pixel or two buys much of that back on a budget of
tens of epochs (docs/TRAINING.md, Recipes). Only training batches are moved;
validation, test and export see the images as they are.
"""
import numpy as np


def check_translate(max_pixels, image_shape):
    """The ValueError a bad --translate deserves, raised before any training starts."""
    if image_shape is None or len(image_shape) < 2:
        raise ValueError(f"random translations need the images' (H, W[, C]) shape, "
                         f"got {image_shape}")
    h, w = image_shape[:2]
    if not 0 <= max_pixels < min(h, w):
        raise ValueError(f"--translate must be in [0, {min(h, w) - 1}] for {h}x{w} images, "
                         f"got {max_pixels}")


def random_translate(x, max_pixels, image_shape, rng):
    """Each uint8 image of `x` moved by its own random (dy, dx) in [-max_pixels, max_pixels]^2.

    x is (N, *image_shape) or flat (N, prod(image_shape)); vacated pixels are 0
    (background). One rng draw of (N, 2) integers per call.
    """
    n, (h, w), s = len(x), image_shape[:2], max_pixels
    images = x.reshape(n, h, w, -1)
    padded = np.zeros((n, h + 2 * s, w + 2 * s, images.shape[-1]), x.dtype)
    padded[:, s:s + h, s:s + w] = images
    offsets = rng.integers(0, 2 * s + 1, size=(n, 2))
    out = np.empty_like(images)
    for oy in range(2 * s + 1):  # (2s+1)^2 gathers of whole images: no per-image Python loop
        for ox in range(2 * s + 1):
            picked = (offsets[:, 0] == oy) & (offsets[:, 1] == ox)
            out[picked] = padded[picked, oy:oy + h, ox:ox + w]
    return out.reshape(x.shape)
