"""Map the layers of a larq Keras model onto .bnn layers (docs/CONVERT.md).

The walk tracks what the engine holds against what Keras computes:
- 'u8': uint8 pixels x; Keras' tensor is the affine x * scale + offset (from
  Rescaling layers and/or the caller's input scale and offset);
- 'int': an exact integer s per channel; Keras' tensor is y = a * s + b
  (`pybnn.fold.ChannelMap`: input scale, magnitude-aware weight scale, bias,
  batch-norms);
- 'signs': the engine holds sign(y) as bits while Keras' tensor is still y
  (a max-pool moved after the sign); only a sign may consume it;
- 'bits': Keras' tensor is +-1 itself (after a sign quantizer layer).
In larq the sign of a hidden tensor is the *next* layer's input quantizer, so
a Threshold is emitted when a quantized layer (or a sign quantizer layer)
meets 'int'. Max-pooling commutes with any non-decreasing map, the sign
included: on 'int' it stays an integer pool when the map increases on every
channel, and otherwise moves after the sign (bits). Anything without an
exact .bnn equivalent raises ValueError naming the layer, its class and the
option.
"""
from dataclasses import dataclass, field
from typing import List, Optional, Tuple

import numpy as np

from ..fold import ChannelMap, batchnorm_affine, sign_kernel
from ..format import layers as L
from ..format.shapes import conv_geometry
from . import quantizers as Q
from .larq_layers import (HINTS, PASS_THROUGH, POOLS, QUANT_LAYERS, check_channels_last,
                          check_quant_options, pair, takes_sign, weight)

@dataclass
class Conversion:
    """The converted model, what the walk said about it, and where larq's hidden signs
    are: (Keras layer name, index of the spec layer whose output equals the signs of
    that layer's input)."""
    spec: L.ModelSpec
    notes: List[str] = field(default_factory=list)
    sign_points: List[Tuple[str, int]] = field(default_factory=list)


class Walk:
    def __init__(self, input_shape, input_scale, input_offset):
        if len(input_shape) not in (1, 3):
            raise ValueError(f"the model's input shape is {input_shape}: expected (features,) "
                             f"or (height, width, channels)")
        self.out = Conversion(L.ModelSpec(tuple(input_shape), []))
        self.shape = tuple(input_shape)
        self.domain = "u8"
        self.scale_known = input_scale is not None or input_offset is not None
        self.scale = 1.0 if input_scale is None else float(input_scale)
        self.offset = 0.0 if input_offset is None else float(input_offset)
        self._check_scale("the input scale and offset")
        self.map: Optional[ChannelMap] = None
        self.last_quant = None  # the label of the last binary layer, for messages

    # -- helpers -----------------------------------------------------------------------
    def emit(self, layer):
        self.out.spec.layers.append(layer)

    def sign_point(self, klayer):
        self.out.sign_points.append((klayer.name, len(self.out.spec.layers) - 1))

    def take_sign(self, klayer):
        """Keras takes the sign of its current tensor here (an input quantizer or a quantizer
        layer): the engine's output at this point is those signs, as bits."""
        if self.domain == "u8":
            raise ValueError(f"{klayer.label}: a sign of the input pixels is not supported; "
                             f"the first binary layer must take the (scaled) pixels")
        if self.domain == "int":
            self.emit(self.map.threshold())
        self.domain = "bits"
        self.sign_point(klayer)

    # -- layers ------------------------------------------------------------------------
    def rescaling(self, k):
        if self.domain != "u8" or self.out.spec.layers:
            raise ValueError(f"{k.label}: Rescaling is only supported on the model's input")
        s, o = k.config.get("scale", 1.0), k.config.get("offset", 0.0)
        if not all(isinstance(v, (int, float)) for v in (s, o)):
            raise ValueError(f"{k.label}: scale={s}, offset={o}: only a single scale and offset "
                             f"for all pixels (per-tensor) is supported")
        self.scale, self.offset = self.scale * s, self.offset * s + o
        self.scale_known = True
        self._check_scale(k.label)

    def _check_scale(self, what):
        if not (np.isfinite(self.scale) and np.isfinite(self.offset) and self.scale != 0):
            raise ValueError(f"{what}: pixels map to x * {self.scale:g} + {self.offset:g}; "
                             f"expected a finite, nonzero scale and a finite offset")

    def flatten(self, k, following):
        """`following`: the next layer that computes something (None at the end)."""
        check_channels_last(k)
        if len(self.shape) != 3:
            return  # Flatten of (features,) changes nothing
        if self.domain == "int" and following is not None and takes_sign(following):
            # Sign and flatten commute: threshold the C channels, not H*W*C features.
            self.emit(self.map.threshold())
            self.domain = "signs"
        elif self.domain == "int":
            self.map.tile(self.shape[0] * self.shape[1])
        self.emit(L.Flatten())
        self.shape = (int(np.prod(self.shape)),)

    def batchnorm(self, k):
        cfg = k.config
        axis = cfg.get("axis", -1)
        axis = axis[0] if isinstance(axis, (list, tuple)) and len(axis) == 1 else axis
        if axis not in (-1, len(self.shape)):
            raise ValueError(f"{k.label}: axis={cfg.get('axis')}: only the channel axis "
                             f"(channels_last) is supported")
        if self.domain != "int":
            where = {"u8": "on the input pixels", "bits": "after a sign",
                     "signs": "after a max-pool that follows a batch-norm with negative gamma"}
            raise ValueError(f"{k.label}: batch-norm {where[self.domain]} cannot be folded; "
                             f"batch-norm must sit between a binary layer and the next sign")
        w, c = k.weights, self.shape[-1]
        gamma = w.get("gamma", np.ones(c)) if cfg.get("scale", True) else np.ones(c)
        beta = w.get("beta", np.zeros(c)) if cfg.get("center", True) else np.zeros(c)
        for role in ("moving_mean", "moving_variance"):
            if role not in w:
                raise ValueError(f"{k.label}: the file has no {role} weights")
        stats = [np.asarray(v, np.float64).reshape(-1) for v in (gamma, beta, w["moving_mean"],
                                                                 w["moving_variance"])]
        if any(v.shape != (c,) for v in stats):
            raise ValueError(f"{k.label}: expected {c} values per statistic, got "
                             f"{[v.shape[0] for v in stats]}")
        self.map.then(*batchnorm_affine(*stats, cfg.get("epsilon", 1e-3)))

    def maxpool(self, k):
        cfg = k.config
        check_channels_last(k)
        if cfg.get("padding", "valid") != "valid":
            raise ValueError(f"{k.label}: padding='{cfg['padding']}' is not supported; "
                             f"max-pooling must use padding='valid'")
        if self.domain == "u8" or len(self.shape) != 3:
            raise ValueError(f"{k.label}: max-pooling is only supported after a binary conv")
        size = pair(cfg.get("pool_size", (2, 2)))
        stride = pair(cfg.get("strides") or size)
        if self.domain == "int" and not self.map.increasing():
            # max(y) with a decreasing channel is not max(s): pool the signs instead, which
            # Keras' next sign gives too (sign(max y) = max sign(y)).
            self.emit(self.map.threshold())
            self.domain = "signs"
            self.out.notes.append(f"{k.name}: pooled after the sign (a batch-norm with gamma <= 0 "
                                  f"precedes it)")
        self.emit(L.MaxPool(size, stride))
        h = (self.shape[0] - size[0]) // stride[0] + 1
        w = (self.shape[1] - size[1]) // stride[1] + 1
        if h < 1 or w < 1:
            raise ValueError(f"{k.label}: pool {size} larger than its input {self.shape[:2]}")
        self.shape = (h, w, self.shape[2])

    def quantizer_layer(self, k):
        Q.classify(k.cls, k.label, "the quantizer layer", allow_magnitude=False)
        self.take_sign(k)

    def activation(self, k, is_last):
        act = k.config.get("activation", "linear") if k.cls == "Activation" else "softmax"
        if act in ("linear", None):
            return
        if act == "softmax" and is_last and self.domain == "int":
            self.out.notes.append(f"{k.name}: the trailing softmax is dropped; the scores are its "
                                  f"inputs (the logits): same argmax and ranking")
            return
        raise ValueError(f"{k.label}: activation='{act}' is not supported: between a binary "
                         f"layer and its sign only batch-norm and max-pooling fold (a softmax "
                         f"only as the very last layer)")

    def quant(self, k):
        cfg, label = k.config, k.label
        check_quant_options(k)
        kq = Q.classify(cfg.get("kernel_quantizer"), label, "kernel_quantizer", allow_magnitude=True)
        if kq is None:
            raise ValueError(f"{label}: kernel_quantizer=None (real-valued weights) is not "
                             f"supported; every layer, the last included, needs a sign-like "
                             f"kernel_quantizer such as 'ste_sign'")
        iq = Q.classify(cfg.get("input_quantizer"), label, "input_quantizer", allow_magnitude=False)
        kernel = weight(k, "kernel")
        conv = k.cls == "QuantConv2D"
        self._check_input_rank(k, conv, kernel)
        first = self.domain == "u8"
        if first:
            if iq is not None:
                raise ValueError(f"{label}: input_quantizer={Q.quantizer_name(cfg['input_quantizer'])} "
                                 f"on the first layer would binarize the pixels; pybnn's first "
                                 f"layer takes 8-bit pixels: use input_quantizer=None there")
            if not self.scale_known:
                raise ValueError(f"{label}: the first layer takes real-valued inputs of unknown "
                                 f"scale: give the input scale and offset (--input-scale/--input-offset, "
                                 f"or input_scale=/input_offset=) such that the model was fed "
                                 f"x_uint8 * scale + offset, or add a Rescaling layer")
        elif iq is not None:
            self.take_sign(k)
        elif self.domain != "bits":
            src = self.last_quant or "the previous layer"
            raise ValueError(f"{label}: input_quantizer=None, but its input (from {src}) is not "
                             f"binarized; set input_quantizer='ste_sign'")
        w = sign_kernel(kernel)
        units = w.shape[0]
        mag = np.ones(units)
        if kq == Q.MAGNITUDE_AWARE_SIGN:
            mag = np.mean(np.abs(kernel.astype(np.float64)), axis=tuple(range(kernel.ndim - 1)))
        bias = np.zeros(units)
        if cfg.get("use_bias", False):
            bias = np.asarray(weight(k, "bias"), np.float64).reshape(-1)
            if bias.shape != (units,):
                raise ValueError(f"{label}: bias has {bias.shape[0]} values for {units} units")
        if first:
            self._first_layer(k, w, conv)
            # Keras: sum (x*scale + offset) * w = scale * s + offset * sum(w), per channel.
            wsum = w.reshape(units, -1).sum(axis=1).astype(np.float64)
            self.map = ChannelMap(mag * self.scale, mag * self.offset * wsum + bias)
        else:
            self._hidden_layer(k, w, conv)
            self.map = ChannelMap(mag, bias)
        self.domain = "int"
        self.last_quant = label

    def _check_input_rank(self, k, conv, kernel):
        want = 4 if conv else 2
        if kernel.ndim != want:
            raise ValueError(f"{k.label}: kernel of rank {kernel.ndim}, expected {want}")
        if conv and len(self.shape) != 3:
            raise ValueError(f"{k.label}: a conv on a flat input of shape {self.shape}")
        if not conv and len(self.shape) != 1:
            raise ValueError(f"{k.label}: a dense layer on input of shape {self.shape}: "
                             f"add a Flatten layer before it")
        if kernel.shape[-2] != self.shape[-1]:
            raise ValueError(f"{k.label}: kernel expects {kernel.shape[-2]} input channels, "
                             f"the input has {self.shape[-1]}")

    def _conv_geometry(self, k, w):
        cfg = k.config
        stride, padding = pair(cfg.get("strides", (1, 1))), cfg.get("padding", "valid")
        if padding not in ("valid", "same"):
            raise ValueError(f"{k.label}: padding='{padding}' is not supported (valid or same)")
        gh = conv_geometry(self.shape[0], w.shape[1], stride[0], padding)
        gw = conv_geometry(self.shape[1], w.shape[2], stride[1], padding)
        if gh[0] < 1 or gw[0] < 1:
            raise ValueError(f"{k.label}: kernel {w.shape[1:3]} larger than its input {self.shape[:2]}")
        self.shape = (gh[0], gw[0], w.shape[0])
        return stride, padding, any(gh[1:] + gw[1:])

    def _first_layer(self, k, w, conv):
        if not conv:
            self.emit(L.FirstDense(w))
            self.shape = (w.shape[0],)
            return
        stride, padding, padded = self._conv_geometry(k, w)
        pad = float(k.config.get("pad_values", 0.0))
        if padded and pad != self.offset:
            raise ValueError(f"{k.label}: padding='same' with pad_values={pad:g}, but pixel 0 is "
                             f"{self.offset:g} after the input scaling; the first layer pads with "
                             f"pixel 0: use pad_values={self.offset:g} or padding='valid'")
        self.emit(L.FirstConv(w, stride, padding))

    def _hidden_layer(self, k, w, conv):
        if not conv:
            self.emit(L.Dense(w))
            self.shape = (w.shape[0],)
            return
        stride, padding, _ = self._conv_geometry(k, w)
        pad = float(k.config.get("pad_values", 0.0))
        pad_value = {0.0: "zero", 1.0: "one"}.get(pad) if padding == "same" else "one"
        if pad_value is None:
            raise ValueError(f"{k.label}: pad_values={pad:g} is not supported: use 0.0 or 1.0")
        self.emit(L.Conv(w, stride, padding, pad_value))

    def finish(self):
        if self.domain != "int":
            raise ValueError("the model must end with a binary QuantDense (optionally followed by "
                             "BatchNormalization and a softmax) giving the scores; it ends "
                             + ("with signs" if self.domain in ("bits", "signs") else "on the input"))
        if len(self.shape) != 1:
            raise ValueError(f"the model's output has shape {self.shape}: the scores must come "
                             f"from a QuantDense layer (add Flatten and a QuantDense)")
        self.emit(self.map.affine())
        return self.out


def walk(input_shape, layers, input_scale=None, input_offset=None):
    """The Conversion of a linear list of KerasLayers."""
    w = Walk(input_shape, input_scale, input_offset)
    for i, k in enumerate(layers):
        is_last = i == len(layers) - 1
        if k.cls in QUANT_LAYERS:
            w.quant(k)
        elif k.cls == "BatchNormalization":
            w.batchnorm(k)
        elif k.cls in POOLS:
            w.maxpool(k)
        elif k.cls == "Flatten":
            w.flatten(k, next((n for n in layers[i + 1:] if n.cls not in PASS_THROUGH), None))
        elif k.cls == "Rescaling":
            w.rescaling(k)
        elif k.cls in ("Activation", "Softmax"):
            w.activation(k, is_last)
        elif Q.is_quantizer_class(k.cls):
            w.quantizer_layer(k)
        elif k.cls in PASS_THROUGH or k.cls == "InputLayer":
            continue  # inference no-ops
        else:
            hint = HINTS.get(k.cls, "no .bnn equivalent")
            raise ValueError(f"{k.label} is not supported: {hint} (docs/CONVERT.md lists "
                             f"the supported set)")
    return w.finish()
