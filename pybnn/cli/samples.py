"""Input arrays fitted to a model: shared by `pybnn run` and its --dask path."""
import numpy as np


def fit_samples(x, model, path):
    """x (a NumPy or dask array) checked as uint8 and reshaped to
    (N, *model.input_shape) where each sample has the right number of values."""
    if x.dtype != np.uint8:
        raise ValueError(f"{path}: expected uint8 samples (8-bit fixed point), got {x.dtype}")
    per_sample = int(np.prod(model.input_shape))
    if x.ndim >= 1 and x.shape[1:] != tuple(model.input_shape):
        if x.ndim >= 2 and int(np.prod(x.shape[1:])) == per_sample:
            x = x.reshape((x.shape[0],) + tuple(model.input_shape))  # e.g. IDX (N, 28, 28) -> (N, 784)
        elif x.shape == tuple(model.input_shape):
            x = x[None]
        else:
            raise ValueError(f"{path}: expected samples of shape {tuple(model.input_shape)} "
                             f"({per_sample} values), got array of shape {x.shape}")
    return x
