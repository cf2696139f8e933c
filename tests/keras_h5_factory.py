"""Tiny Keras 2 model files written with h5py alone (no TensorFlow), the way
`model.save("m.h5")` lays them out: the JSON config in the `model_config`
attribute, the weights under model_weights/<layer>/<layer>/<var>:0."""
import json

import h5py
import numpy as np

SIGN = {"module": "larq.quantizers", "class_name": "SteSign", "config": {"clip_value": 1.0}}


def quant(cls, name, filters=None, kq=SIGN, iq=SIGN, **cfg):
    base = {"name": name, "activation": "linear", "use_bias": False, "kernel_quantizer": kq,
            "input_quantizer": iq}
    if cls in ("QuantConv2D", "QuantDepthwiseConv2D"):
        base.update(filters=filters, kernel_size=[3, 3], strides=[1, 1], padding="valid",
                    data_format="channels_last", dilation_rate=[1, 1], groups=1, pad_values=0.0)
    else:
        base.update(units=filters)
    base.update(cfg)
    return {"class_name": cls, "config": base}


def layer(cls, name, **cfg):
    return {"class_name": cls, "config": dict(name=name, **cfg)}


def bn(name, axis=-1):
    return layer("BatchNormalization", name, axis=axis, epsilon=1e-3, center=True, scale=True)


def default_weights(layers, input_shape, rng):
    """Plausible weights for each layer of a Sequential list (shapes followed loosely)."""
    shape, out = tuple(input_shape), {}
    for entry in layers:
        cls, cfg = entry["class_name"], entry["config"]
        if cls in ("QuantConv2D", "QuantDepthwiseConv2D", "Conv2D"):
            kh, kw = cfg["kernel_size"]
            out[cfg["name"]] = {"kernel": rng.normal(size=(kh, kw, shape[-1], cfg["filters"]))}
            pad = cfg.get("padding") == "same"
            shape = (shape[0] - (0 if pad else kh - 1), shape[1] - (0 if pad else kw - 1), cfg["filters"])
        elif cls in ("QuantDense", "Dense"):
            out[cfg["name"]] = {"kernel": rng.normal(size=(shape[-1], cfg["units"]))}
            shape = (cfg["units"],)
        elif cls == "BatchNormalization":
            c = shape[-1]
            out[cfg["name"]] = {"gamma": np.ones(c), "beta": np.zeros(c), "moving_mean": np.zeros(c),
                                "moving_variance": np.ones(c)}
        elif cls == "Flatten":
            shape = (int(np.prod(shape)),)
        elif cls in ("MaxPooling2D",):
            k = cfg["pool_size"][0]
            shape = (shape[0] // k, shape[1] // k, shape[2])
    return out


def write_model(path, config, weights):
    """A .h5 model file from a model config dict and {layer: {role: array}}."""
    with h5py.File(path, "w") as f:
        f.attrs["model_config"] = json.dumps(config)
        g = f.create_group("model_weights")
        for lname, roles in weights.items():
            lg = g.create_group(lname)
            names = [f"{lname}/{role}:0" for role in roles]
            lg.attrs["weight_names"] = np.array([n.encode() for n in names])
            for n, value in zip(names, roles.values()):
                lg.create_dataset(n, data=np.asarray(value, np.float32))


def sequential(path, input_shape, layers, weights=None, rng=None):
    """Write a Sequential model; weights default to `default_weights`."""
    rng = rng or np.random.default_rng(0)
    entries = [{"class_name": "InputLayer",
                "config": {"batch_input_shape": [None] + list(input_shape), "name": "input"}}]
    config = {"class_name": "Sequential", "config": {"name": "seq", "layers": entries + layers}}
    write_model(path, config, weights if weights is not None else
                default_weights(layers, input_shape, rng))
    return str(path)
