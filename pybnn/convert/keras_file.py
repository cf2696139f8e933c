"""Read a Keras 2 model saved by `model.save`: config and weights, with h5py only.

Two layouts:
- legacy HDF5 (`.h5`): the JSON config in the root attribute `model_config`;
  weights under `model_weights/<layer name>/`, the attribute `weight_names`
  listing datasets named `<layer>/<variable>:0`;
- the zip `.keras` (tf-keras >= 2.13): `config.json` and `model.weights.h5`,
  weights under `layers/<key>/vars/<i>`, where <key> is the layer's class name
  in snake case, numbered `_1`, `_2`, ... among layers of the same class in
  the model's layer list (not the layer's name), and <i> runs over the
  trainable then the non-trainable variables in creation order.
"""
import io
import json
import os
import re
import zipfile

import numpy as np

from .keras_config import model_layers


def _h5py():
    try:
        import h5py
    except ImportError:
        raise ValueError("reading Keras models needs h5py: pip install 'pybnn[convert]'") from None
    return h5py


def load_keras(path):
    """(input_shape, [KerasLayer with .weights]) of a saved .h5 or .keras model."""
    if not os.path.exists(path):
        raise ValueError("no such file")
    if zipfile.is_zipfile(path):
        return _load_zip(path)
    with open(path, "rb") as f:
        magic = f.read(8)
    if magic != b"\x89HDF\r\n\x1a\n":
        raise ValueError("not a Keras model (expected an HDF5 .h5 or a zip .keras file)")
    return _load_h5(path)


def _load_h5(path):
    h5py = _h5py()
    with h5py.File(path, "r") as f:
        raw = f.attrs.get("model_config")
        if raw is None:
            raise ValueError("an HDF5 file without a 'model_config' attribute (weights only? "
                             "save the whole model with model.save('model.h5'))")
        config = json.loads(raw.decode() if isinstance(raw, bytes) else raw)
        input_shape, layers = model_layers(config)
        group = f["model_weights"] if "model_weights" in f else f
        for layer in layers:
            if layer.name not in group:
                continue
            g = group[layer.name]
            for wname in g.attrs.get("weight_names", []):
                wname = wname.decode() if isinstance(wname, bytes) else str(wname)
                role = wname.split("/")[-1].split(":")[0]
                layer.weights[role] = np.asarray(g[wname])
    return input_shape, layers


def snake_case(name):
    """Keras' class-name-to-key rule: 'QuantConv2D' -> 'quant_conv2d'."""
    s = re.sub("(.)([A-Z][a-z0-9]+)", r"\1_\2", name)
    s = re.sub("([a-z])([A-Z])", r"\1_\2", s).lower()
    return s if not s.startswith("_") else "private" + s


def variable_roles(layer):
    """The variable names of a layer, in the order the .keras format numbers them."""
    cfg = layer.config
    if layer.cls == "BatchNormalization":
        return ([r for r, on in (("gamma", cfg.get("scale", True)), ("beta", cfg.get("center", True))) if on]
                + ["moving_mean", "moving_variance"])
    if "use_bias" in cfg:
        return ["kernel"] + (["bias"] if cfg["use_bias"] else [])
    return None  # unknown: read positionally as var0, var1, ...


def _load_zip(path):
    h5py = _h5py()
    with zipfile.ZipFile(path) as z:
        names = set(z.namelist())
        if "config.json" not in names or "model.weights.h5" not in names:
            raise ValueError("a zip without config.json and model.weights.h5 "
                             "is not a .keras model")
        config = json.loads(z.read("config.json"))
        weights = z.read("model.weights.h5")
    input_shape, layers = model_layers(config)
    counts = {}
    if config.get("class_name") != "Sequential":
        counts["input_layer"] = 0  # a functional model's layer list starts with its InputLayer
    with h5py.File(io.BytesIO(weights), "r") as f:
        for layer in layers:
            key = snake_case(layer.cls)
            if key in counts:
                counts[key] += 1
                key = f"{key}_{counts[key]}"
            else:
                counts[key] = 0
            group = f.get(f"layers/{key}/vars")
            if group is None or len(group) == 0:
                continue
            roles = variable_roles(layer)
            if roles is None:
                roles = [f"var{i}" for i in range(len(group))]
            if len(roles) != len(group):
                raise ValueError(f"{layer.label} has {len(group)} variables in "
                                 f"model.weights.h5, expected {len(roles)} ({', '.join(roles)})")
            for i, role in enumerate(roles):
                layer.weights[role] = np.asarray(group[str(i)])
    return input_shape, layers
