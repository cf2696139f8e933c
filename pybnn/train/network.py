"""A sequential binarized network: training forward/backward, evaluation, export, state.

Input is always the engine's: uint8, (N, F) for dense models or (N, H, W, C)
for conv models. The training forward feeds the first layer x / 255 (a
positive scale, folded into the exported thresholds). Evaluation runs the
exported integer pipeline (`export_spec` + `infer.run_spec`), so the error
measured in training is exactly the error of the .bnn file in the engine.
"""
import json

import numpy as np

from .export import INPUT_SCALE, export_spec
from .infer import run_spec
from .layers_basic import BinaryActivation, Dropout, Flatten, MaxPool2D
from .layers_binary import BinaryConv2D, BinaryDense
from .layers_norm import BatchNorm, ShiftBatchNorm

LAYER_TYPES = {cls.__name__: cls for cls in (
    BinaryDense, BinaryConv2D, BatchNorm, ShiftBatchNorm, BinaryActivation, Dropout, Flatten,
    MaxPool2D)}


class Network:
    """Layers built for a per-sample `input_shape`; `seed` fixes the initial weights."""

    def __init__(self, input_shape, layers, seed=0):
        self.input_shape = tuple(int(d) for d in input_shape)
        self.layers = list(layers)
        init_rng = np.random.default_rng(seed)
        shape = self.input_shape
        seen_params = False
        for layer in self.layers:
            shape = layer.build(shape, init_rng)
            layer.needs_input_grad = seen_params
            if isinstance(layer, BinaryConv2D):
                layer.is_first = not seen_params
            seen_params = seen_params or bool(layer.params())
        self.output_shape = shape
        self.seed = seed

    # -- training -----------------------------------------------------------------
    def forward(self, x, train=True, rng=None):
        """Float32 outputs of the real-valued network (training mode, or float eval mode)."""
        self._check_input(x)
        a = x.astype(np.float32) * np.float32(INPUT_SCALE)
        for layer in self.layers:
            a = layer.forward(a, train, rng)
        return a

    def backward(self, grad):
        """Back-propagate d loss / d output, filling every parameter's .grad."""
        for layer in reversed(self.layers):
            grad = layer.backward(grad)
            if grad is None:
                break

    def params(self):
        return [p for layer in self.layers for p in layer.params()]

    def set_population_statistics(self, x, batch=250):
        """Replace every batch-norm's running averages by its input's statistics over `x`.

        The running averages (momentum 0.1) follow the last few dozen training
        batches, through weights that kept changing and with dropout on; the
        binary thresholds folded from them move with that noise. The batch-norm
        paper's inference rule uses the trained network's population statistics
        instead. They are taken layer by layer, the earlier layers already in
        evaluation mode, as the engine will run them.
        """
        self._check_input(x)
        if len(x) == 0:
            raise ValueError("population statistics need at least one sample")
        for i, layer in enumerate(self.layers):
            if not isinstance(layer, BatchNorm):
                continue
            if layer.shift:  # its variance, mean(c * AP2(c)), needs the mean first
                mean, = self._input_means(x, i, batch, [lambda a: a])
                var, = self._input_means(
                    x, i, batch, [lambda a: layer.variance_terms(a - mean.astype(np.float32))])
            else:  # one pass: E[a^2] - E[a]^2 in float64
                mean, square = self._input_means(x, i, batch, [lambda a: a, lambda a: a * a])
                var = np.maximum(square - mean * mean, 0.0)
            layer.running_mean[...] = mean
            layer.running_var[...] = var

    def _input_means(self, x, stop, batch, fs):
        """Per-channel means over `x` of each f(input of layer `stop`), in evaluation mode."""
        totals, count = [0.0] * len(fs), 0
        for k in range(0, len(x), batch):
            a = x[k:k + batch].astype(np.float32) * np.float32(INPUT_SCALE)
            for layer in self.layers[:stop]:
                a = layer.forward(a, False, None)
            for j, f in enumerate(fs):
                v = f(a)
                totals[j] = totals[j] + v.reshape(-1, v.shape[-1]).sum(axis=0, dtype=np.float64)
            count += a.size // a.shape[-1]
        return [t / count for t in totals]

    # -- evaluation and export ---------------------------------------------------
    def to_spec(self):
        """The exported model (pybnn.format.ModelSpec) of the current weights and statistics."""
        return export_spec(self.layers, self.input_shape)

    def scores(self, x, batch=1000):
        """Evaluation-mode scores: the exported integer pipeline, exactly as the engine runs it."""
        self._check_input(x)
        return run_spec(self.to_spec(), x, batch)

    def predict(self, x, batch=1000):
        return np.argmax(self.scores(x, batch), axis=1)

    def error(self, x, labels, batch=1000):
        """Fraction of misclassified samples under the evaluation-mode forward."""
        if len(x) == 0:
            return float("nan")
        return float(np.mean(self.predict(x, batch) != labels))

    def export(self, path):
        """Fold batch-norm into thresholds and the output affine and write a .bnn file."""
        from .. import format as bnn_format  # the writer
        spec = self.to_spec()
        bnn_format.write(path, spec)
        return spec

    # -- state ----------------------------------------------------------------------
    def config(self):
        return {"input_shape": list(self.input_shape), "seed": self.seed,
                "layers": [[type(l).__name__, l.config()] for l in self.layers]}

    @classmethod
    def from_config(cls, config):
        layers = [LAYER_TYPES[name](**kw) for name, kw in config["layers"]]
        return cls(config["input_shape"], layers, config.get("seed", 0))

    def state_arrays(self):
        """Every parameter and buffer by a unique name ('<layer index>.<name>')."""
        out = {}
        for i, layer in enumerate(self.layers):
            for p in layer.params():
                out[f"{i}.{p.name}"] = p.value
            for name, buf in layer.buffers().items():
                out[f"{i}.{name}"] = buf
        return out

    def load_state_arrays(self, arrays):
        for i, layer in enumerate(self.layers):
            for p in layer.params():
                p.value[...] = _take(arrays, f"{i}.{p.name}", p.value.shape)
            for name, buf in layer.buffers().items():
                buf[...] = _take(arrays, f"{i}.{name}", buf.shape)

    def save(self, path):
        """Weights and statistics plus the architecture, as .npz (`Network.load` reads it)."""
        np.savez(path, __config__=json.dumps(self.config()), **self.state_arrays())

    @classmethod
    def load(cls, path):
        with np.load(path) as z:
            model = cls.from_config(json.loads(str(z["__config__"])))
            model.load_state_arrays(z)
        return model

    def summary(self):
        lines = [f"input {self.input_shape} uint8"]
        for layer in self.layers:
            lines.append(f"  {layer!r}")
        n = sum(p.value.size for p in self.params())
        lines.append(f"output {self.output_shape}; {n} trainable values")
        return "\n".join(lines)

    def _check_input(self, x):
        if not isinstance(x, np.ndarray) or x.dtype != np.uint8:
            got = x.dtype if isinstance(x, np.ndarray) else type(x).__name__
            raise ValueError(f"expected a uint8 array (the engine's input), got {got}")
        if x.shape[1:] != self.input_shape:
            raise ValueError(f"expected input of shape (N, {', '.join(map(str, self.input_shape))})"
                             f", got {x.shape}")


def _take(arrays, key, shape):
    if key not in arrays:
        raise ValueError(f"saved state lacks {key!r}")
    a = np.asarray(arrays[key])
    if a.shape != shape:
        raise ValueError(f"saved {key!r} has shape {a.shape}, the model expects {shape}")
    return a
